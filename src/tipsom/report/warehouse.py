"""An analytical (DuckDB) view of the case registry, without personal data.

Statistics, screening, context and the web dashboards all aggregate over the
same five registry tables. They get them through :func:`open_warehouse`, which
returns an in-process DuckDB connection holding the tables ``cases``,
``persons``, ``route_legs``, ``identifications`` and ``charges``.

Only non-personal columns cross over: the ciphertext (``*_enc``) and the keyed
pseudonyms (``pseudo_*``) stay in the registry, so nothing computed on the
warehouse can leak a name even by mistake.

A SQLite store is attached read-only through the ``sqlite_scanner`` extension
shipped in the ``duckdb-extension-sqlite-scanner`` package, loaded by file path
(DuckDB would otherwise try to download it). A PostgreSQL store is read through
SQLAlchemy into Arrow and registered. Multi-valued fields stay ``|``-joined
text; split them with ``string_split``/``unnest`` in SQL.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table, select

from tipsom.core.errors import TipsomError
from tipsom.store.tables import REGISTRY

if TYPE_CHECKING:
    import duckdb

    from tipsom.store.db import Store

#: Warehouse table name -> registry entity.
WAREHOUSE_TABLES = {
    "cases": "case",
    "persons": "person",
    "route_legs": "route_leg",
    "identifications": "identification",
    "charges": "charge",
}
_ALIAS = "registry"


class WarehouseMode(enum.StrEnum):
    """How the registry tables reach DuckDB."""

    #: Copy the non-personal columns into DuckDB memory: one consistent snapshot,
    #: fast when many queries run (a report build).
    SNAPSHOT = "snapshot"
    #: Views straight over the attached SQLite file: nothing copied, always current.
    #: PostgreSQL stores are always snapshotted.
    LIVE = "live"


class WarehouseError(TipsomError):
    """The analytical engine could not be prepared (missing extension, bad store)."""


def public_columns(table: Table) -> list[str]:
    """Columns that may enter the warehouse: everything but ciphertext and pseudonyms."""
    return [c.name for c in table.columns if not c.name.endswith("_enc") and not c.name.startswith("pseudo_")]


def sqlite_extension_path() -> Path:
    """The ``sqlite_scanner`` extension file bundled in its PyPI package."""
    try:
        import duckdb_extension_sqlite_scanner as bundle
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise WarehouseError("the package duckdb-extension-sqlite-scanner is not installed") from exc
    found = sorted(Path(bundle.__file__).parent.glob("extensions/*/sqlite_scanner.duckdb_extension"))
    if not found:
        raise WarehouseError(f"no sqlite_scanner extension file under {Path(bundle.__file__).parent}")
    return found[-1]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select_expr(table: Table, column: str) -> str:
    """SQLite keeps booleans as 0/1 integers; cast them so SQL is the same on every backend."""
    from sqlalchemy import Boolean

    if isinstance(table.c[column].type, Boolean):
        return f"CAST({_quote(column)} AS BOOLEAN) AS {_quote(column)}"
    return _quote(column)


def _sqlite_path(store: Store) -> Path:
    database = store.engine.url.database
    if not database or database == ":memory:":
        raise WarehouseError("an in-memory SQLite store cannot be attached; use a file")
    return Path(database)


#: Warehouse table -> columns to copy; ``None`` for every public column.
Projection = Mapping[str, Sequence[str] | None]


def open_warehouse(store: Store, mode: WarehouseMode = WarehouseMode.SNAPSHOT,
                   projection: Projection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the registry tables (minus personal columns).

    ``projection`` limits the tables and columns copied (a snapshot of only
    what a computation reads is several times faster on large stores); a
    personal column asked for is refused. The caller owns the connection and
    should close it. Nothing is written to the store: SQLite is attached
    ``READ_ONLY``.
    """
    wanted = _resolve(projection)
    import duckdb

    con = duckdb.connect()
    # Never reach for the network: extensions come from the installed package only.
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_progress_bar = false")
    if store.is_sqlite:
        _from_sqlite(con, store, mode, wanted)
    else:
        _from_sqlalchemy(con, store, wanted)
    return con


def _resolve(projection: Projection | None) -> dict[str, list[str]]:
    """Table -> columns, checked against the public columns of each table."""
    out = {}
    for name, entity in WAREHOUSE_TABLES.items():
        public = public_columns(REGISTRY[entity])
        if projection is None:
            out[name] = public
            continue
        if name not in projection:
            continue
        cols = projection[name]
        if cols is None:
            out[name] = public
            continue
        refused = sorted(set(cols) - set(public))
        if refused:
            raise WarehouseError(f"table {name}: columns {refused} are personal or do not exist")
        out[name] = list(cols)
    unknown = sorted(set(projection or {}) - set(WAREHOUSE_TABLES))
    if unknown:
        raise WarehouseError(f"no warehouse tables {unknown}")
    return out


def _from_sqlite(con: duckdb.DuckDBPyConnection, store: Store, mode: WarehouseMode,
                 wanted: dict[str, list[str]]) -> None:
    path = _sqlite_path(store)
    if not path.exists():
        raise WarehouseError(f"{path}: no such database file")
    con.execute(f"LOAD '{sqlite_extension_path().as_posix()}'")
    con.execute(f"ATTACH '{path.as_posix()}' AS {_ALIAS} (TYPE sqlite, READ_ONLY)")
    kind = "TABLE" if mode is WarehouseMode.SNAPSHOT else "VIEW"
    for name, columns in wanted.items():
        cols = ", ".join(_select_expr(REGISTRY[WAREHOUSE_TABLES[name]], c) for c in columns)
        con.execute(f"CREATE {kind} {name} AS SELECT {cols} FROM {_ALIAS}.{name}")
    if mode is WarehouseMode.SNAPSHOT:
        con.execute(f"DETACH {_ALIAS}")


def _from_sqlalchemy(con: duckdb.DuckDBPyConnection, store: Store, wanted: dict[str, list[str]]) -> None:
    import pyarrow as pa

    with store.engine.connect() as conn:
        for name, cols in wanted.items():
            table = REGISTRY[WAREHOUSE_TABLES[name]]
            result = conn.execute(select(*(table.c[c] for c in cols)))
            rows = result.fetchall()
            arrow = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
            if not rows:  # keep the declared types so queries on an empty store still bind
                arrow = _empty_arrow(table, cols)
            con.register(f"_{name}_arrow", arrow)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}_arrow")
            con.unregister(f"_{name}_arrow")


def _empty_arrow(table: Table, cols: list[str]) -> object:
    import pyarrow as pa
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer

    def arrow_type(column_type: object) -> object:
        for sa_type, pa_type in ((Boolean, pa.bool_()), (Integer, pa.int64()), (Float, pa.float64()),
                                 (DateTime, pa.timestamp("us")), (Date, pa.date32())):
            if isinstance(column_type, sa_type):
                return pa_type
        return pa.string()

    return pa.table({c: pa.array([], type=arrow_type(table.c[c].type)) for c in cols})
