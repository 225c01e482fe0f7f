"""Alembic environment: migrations run on the connection ``Store.migrate`` passes.

The target metadata holds whichever tables are imported; ``upgrade`` does not
read it. For ``alembic revision --autogenerate`` import ``tipsom.application``
and call its ``metadata()`` first, so every module's tables are compared.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from tipsom.store.base import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = engine_from_config(config.get_section(config.config_ini_section) or {},
                                    prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
