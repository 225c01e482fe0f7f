"""The store: one database (SQLite by default, PostgreSQL by URL), migrated by Alembic.

``Store.init()`` creates a store or upgrades an older one to the newest
migrations (``tipsom init``, the server at start); ``Store.open()`` is the
entry point every command, web route and analysis uses, and it only checks
that the schema is current, so a read never migrates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from tipsom.schema.enums import PersonRole
from tipsom.schema.model import Model, get_model
from tipsom.settings import Settings, get_settings
from tipsom.store.base import engine_for
from tipsom.store.crypto import DataKey, FieldCipher, load_data_key
from tipsom.store.tables import REGISTRY

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The store's own revisions (the registry, audit chain and key record).
STORE_VERSIONS = MIGRATIONS / "versions"


def version_locations() -> list[Path]:
    """The store's revisions, then every module's ``tipsom/<module>/migrations`` directory.

    Found by that convention rather than by importing the modules: the store
    sits below every module with tables and must not know them. Each module's
    revisions are its own Alembic branch from ``0001``; ``tipsom.application``
    lists the same directories, and a test checks the two agree.
    """
    package = MIGRATIONS.parent.parent
    return [STORE_VERSIONS, *sorted(p for p in package.glob("*/migrations") if p != MIGRATIONS)]


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in version_locations()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass
class Store:
    """A handle on the database, the data key and the standard."""

    engine: Engine
    settings: Settings = field(default_factory=get_settings)
    model: Model = field(default_factory=get_model)

    @classmethod
    def open(cls, url: str | None = None, *, settings: Settings | None = None) -> Store:
        """Open the store at ``url`` for use, refusing (exit 2, writing nothing) one not at this schema.

        Every command, web request and analysis opens this way. It only reads
        the schema record: a URL, file or database that cannot be a tipsom
        store, or one not yet created or upgraded by :meth:`init`, is refused
        with a :class:`~tipsom.store.opening.StoreError` naming the store and
        what to do (see :mod:`tipsom.store.opening` for the checks).
        """
        from tipsom.store.base import metadata
        from tipsom.store.opening import require_current

        store = cls._connect(url, settings, create=False)

        def check() -> None:
            with store.engine.connect() as conn:
                require_current(conn, set(metadata.tables))

        store._checked(check)
        return store

    @classmethod
    def init(cls, url: str | None = None, *, settings: Settings | None = None) -> Store:
        """Create the store at ``url``, or upgrade an older one to this tipsom's schema, and open it.

        The one place the schema changes: ``tipsom init`` and the server at
        start, run on purpose by the operator. Refused, before any table is
        created, for a store written by a newer tipsom or one holding tables
        without its migration record.
        """
        store = cls._connect(url, settings, create=True)
        store._checked(store.migrate)
        return store

    @classmethod
    def _connect(cls, url: str | None, settings: Settings | None, *, create: bool) -> Store:
        """An engine on ``url`` once the URL and (on SQLite) the file pass the checks that need no connection."""
        from tipsom.store.opening import check_sqlite_file, check_url, hold, refuse_missing_file

        settings = settings or get_settings()
        url = url or settings.database_url
        check_url(url)
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            check_sqlite_file(path)
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            else:
                refuse_missing_file(path)
        store = cls(engine_for(url, lock_timeout=settings.db_lock_timeout), settings)
        if store.sqlite_path is not None:
            hold(store.sqlite_path, store.engine)
        return store

    def _checked(self, step: Callable[[], None]) -> None:
        """Run an opening ``step``, disposing of the engine and explaining the failure in one line if it fails."""
        from sqlalchemy.exc import DBAPIError

        from tipsom.store.opening import StoreError, explain_open_failure

        try:
            step()
        except StoreError:
            self.dispose()
            raise
        except DBAPIError as exc:
            self.dispose()
            raise explain_open_failure(self.url, exc) from None

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        """Upgrade the database to the newest migrations (one branch per module); a current store is left as is.

        Refused, before any table is created, for a store written by a newer
        tipsom or one holding tables without its migration record.
        """
        from alembic import command

        from tipsom.store.base import metadata
        from tipsom.store.opening import SchemaState, schema_state

        with self.engine.begin() as conn:
            if schema_state(conn, set(metadata.tables)) is SchemaState.CURRENT:
                return
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")

    @cached_property
    def data_key(self) -> DataKey:
        """The configured data key, checked against the key this store records before any use.

        Every path to personal data (this property, :attr:`cipher`, the
        importer's workers) goes through here, so a wrong key is refused
        before a single value is read or sealed under it.
        """
        from tipsom.store.keys import verify_data_key

        return verify_data_key(self.engine, load_data_key(self.settings), self.settings)

    @cached_property
    def cipher(self) -> FieldCipher:
        return FieldCipher(self.data_key.material)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in one transaction: everything or nothing is written."""
        with self.engine.begin() as conn:
            yield conn

    def counts(self) -> dict[str, int]:
        """Numbers of cases, persons and victims (identified and presumed)."""
        cases, persons = REGISTRY["case"], REGISTRY["person"]
        victim_roles = [str(r) for r in PersonRole if r.is_victim]
        with self.engine.connect() as conn:
            n_cases = conn.scalar(select(func.count()).select_from(cases)) or 0
            n_persons = conn.scalar(select(func.count()).select_from(persons)) or 0
            n_victims = conn.scalar(
                select(func.count()).select_from(persons).where(persons.c.role.in_(victim_roles))
            ) or 0
        return {"cases": int(n_cases), "persons": int(n_persons), "victims": int(n_victims)}

    def read_personal(self, person_key: str, *, actor: str, purpose: str) -> dict[str, Any]:
        """Decrypt one person's personal fields, writing the read to the audit log (even for no such person)."""
        from tipsom.store.view import PersonRead, read_persons

        fields = tuple(f.name for f in self.model["person"].personal_fields)
        rows = read_persons(self, PersonRead(decrypt=fields, keys=(person_key,)), actor=actor, purpose=purpose,
                            entity_id=person_key)
        if not rows:
            raise LookupError(f"no person {person_key!r}")
        return rows[0]

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file of this store (``None`` on PostgreSQL)."""
        database = self.engine.url.database
        return Path(database) if self.is_sqlite and database and database != ":memory:" else None

    def dispose(self) -> None:
        from tipsom.store.opening import release

        self.engine.dispose()
        if self.sqlite_path is not None:
            release(self.sqlite_path, self.engine)
