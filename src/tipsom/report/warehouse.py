"""An analytical (DuckDB) view of the case registry, without personal data.

Statistics, screening, context and the web dashboards all aggregate over the
same five registry tables. They get them through :func:`open_warehouse`, which
returns an in-process DuckDB connection holding the tables ``cases``,
``persons``, ``route_legs``, ``identifications`` and ``charges``.

Only non-personal columns cross over: the ciphertext (``*_enc``) and the keyed
pseudonyms (``pseudo_*``) stay in the registry, so nothing computed on the
warehouse can leak a name even by mistake.

The store is read through the application's own database driver (Python's
``sqlite3`` or psycopg, via the engine's pool), in one read transaction, and
handed to DuckDB as Arrow record batches. The live SQLite file is never opened
by DuckDB's ``sqlite_scanner``: that extension links a second copy of the
SQLite library, and when that copy closes its file handle the operating system
drops the POSIX locks the process's own ``sqlite3`` connections hold on the
same file. The next outside client (``tipsom user list``, a backup script)
then believes it is the last user, checkpoints and deletes the WAL, and every
later commit of this process goes into an unlinked file: saved cases vanish
(issue 14). SQLite's documentation lists two copies of the library in one
process among the ways to corrupt a database. Multi-valued fields stay
``|``-joined text; split them with ``string_split``/``unnest`` in SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Table

from tipsom.core.errors import IntegrityError, TipsomError
from tipsom.store.tables import REGISTRY

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from tipsom.store.db import Store

#: Warehouse table name -> registry entity.
WAREHOUSE_TABLES = {
    "cases": "case",
    "persons": "person",
    "route_legs": "route_leg",
    "identifications": "identification",
    "charges": "charge",
}

#: Rows fetched from the driver per Arrow record batch: large enough that the
#: per-batch overhead vanishes, small enough that the Python tuples of one
#: batch stay a few tens of megabytes.
BATCH_ROWS = 65_536


class WarehouseError(TipsomError):
    """The analytical engine could not be prepared (bad projection, bad store)."""


def public_columns(table: Table) -> list[str]:
    """Columns that may enter the warehouse: everything but ciphertext and pseudonyms."""
    return [c.name for c in table.columns if not c.name.endswith("_enc") and not c.name.startswith("pseudo_")]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: Column type -> the DuckDB type every backend's values are cast to, so SQL is
#: the same on SQLite (dates as text, booleans as 0/1) and PostgreSQL.
_DUCK_TYPES: tuple[tuple[type, str], ...] = (
    (Boolean, "BOOLEAN"), (Integer, "BIGINT"), (Float, "DOUBLE"), (DateTime, "TIMESTAMP"), (Date, "DATE"),
)


def _duck_type(table: Table, column: str) -> str:
    column_type = table.c[column].type
    return next((duck for sa_type, duck in _DUCK_TYPES if isinstance(column_type, sa_type)), "VARCHAR")


def _wire_type(table: Table, column: str, sqlite: bool) -> pa.DataType:
    """The Arrow type of the values the driver returns for ``column``.

    Python's ``sqlite3`` hands back what SQLite stores: booleans as integers,
    dates and timestamps as ISO text; DuckDB casts them afterwards. psycopg
    returns Python ``bool``/``date``/``datetime`` objects.
    """
    import pyarrow as pa

    duck = _duck_type(table, column)
    if duck == "BIGINT" or (duck == "BOOLEAN" and sqlite):
        return pa.int64()
    if duck == "DOUBLE":
        return pa.float64()
    if sqlite or duck == "VARCHAR":
        return pa.string()
    return {"BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us")}[duck]


#: Warehouse table -> columns to copy; ``None`` for every public column.
Projection = Mapping[str, Sequence[str] | None]


def open_warehouse(store: Store, projection: Projection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the registry tables (minus personal columns).

    ``projection`` limits the tables and columns copied (copying only what a
    computation reads is several times faster on large stores); a personal
    column asked for is refused. All tables come from one read transaction, so
    they are consistent with each other even while an import writes. The
    caller owns the connection and should close it. Nothing is written to the
    store.
    """
    wanted = _resolve(projection)
    import duckdb

    con = duckdb.connect()
    # Never reach for the network or load an extension: no extension is needed,
    # and the SQLite one must never touch the live store (see the module docstring).
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_progress_bar = false")
    try:
        _copy_tables(con, store, wanted)
    except BaseException:
        con.close()
        raise
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


def _copy_tables(con: duckdb.DuckDBPyConnection, store: Store, wanted: dict[str, list[str]]) -> None:
    """Copy the projected columns in one read transaction of the application's own connection."""
    raw = store.engine.raw_connection()
    try:
        raw.rollback()  # a pool's liveness ping may have opened a transaction: start a fresh one
        cursor = raw.cursor()
        # SQLite: an explicit BEGIN pins one WAL snapshot until the rollback below.
        # PostgreSQL: REPEATABLE READ gives every SELECT the same snapshot.
        cursor.execute("BEGIN" if store.is_sqlite else "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for name, cols in wanted.items():
            table = REGISTRY[WAREHOUSE_TABLES[name]]
            columns = ", ".join(_quote(c) for c in cols)
            cursor.execute(f"SELECT {columns} FROM {_quote(table.name)}")
            arrow = _arrow_table(cursor, table, cols, store.is_sqlite)
            staged = f"_{name}_arrow"
            con.register(staged, arrow)
            casts = ", ".join(f"CAST({_quote(c)} AS {_duck_type(table, c)}) AS {_quote(c)}" for c in cols)
            con.execute(f"CREATE TABLE {name} AS SELECT {casts} FROM {staged}")
            con.unregister(staged)
        cursor.close()
    finally:
        raw.rollback()
        raw.close()


def _arrow_table(cursor: Any, table: Table, cols: list[str], sqlite: bool) -> pa.Table:
    """The rows of ``cursor`` as an Arrow table, one record batch per :data:`BATCH_ROWS` rows."""
    import pyarrow as pa

    schema = pa.schema([(c, _wire_type(table, c, sqlite)) for c in cols])
    batches = []
    while rows := cursor.fetchmany(BATCH_ROWS):
        arrays = []
        for field, values in zip(schema, zip(*rows, strict=True), strict=True):
            try:
                arrays.append(pa.array(values, type=field.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                raise IntegrityError(f"table {table.name}: column {field.name} holds a value that is not "
                                     f"{_duck_type(table, field.name)} ({exc})") from exc
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)
