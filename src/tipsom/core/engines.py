"""Where an analysis runs: DuckDB in this process, or Spark for data that outgrows one machine.

Money scans, OSINT linkage and list linkage for estimation all offer the same
choice, so it is made here once: one :class:`Engine` (the values ``--engine``
accepts everywhere), one Ibis connection factory, one Splink API factory and
the one local Spark session. An analysis then differs between engines only
where the engines themselves differ, and a parity test can run it on both.

Spark runs in local mode here (tests, a laptop): bound to loopback, no UI, few
shuffle partitions. Splink's string-similarity functions (Jaro-Winkler and
friends) are Scala UDFs shipped as a jar inside the splink package; the jar is
put on the classpath when the session starts, from the installed package,
because a running session cannot load it later and nothing may be downloaded
at run time.
"""

from __future__ import annotations

import enum
import os
import sys
import tempfile
from typing import Any

__all__ = ["Engine", "connect", "local_spark", "splink_api"]


class Engine(enum.StrEnum):
    """Where an analysis runs: in-process DuckDB (the default) or a Spark session."""

    DUCKDB = "duckdb"
    SPARK = "spark"


def local_spark(app_name: str = "tipsom", cores: int = 2) -> Any:
    """Start (or reuse) a local SparkSession bound to 127.0.0.1."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    warehouse = tempfile.mkdtemp(prefix="tipsom-spark-")
    builder = SparkSession.builder
    jar = _similarity_jar()
    if jar:
        builder = builder.config("spark.jars", jar)
    session = (
        builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    # Splink breaks long query lineages with checkpoints, which need a directory
    session.sparkContext.setCheckpointDir(os.path.join(warehouse, "checkpoints"))
    return session


def _similarity_jar() -> str | None:
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:  # Splink is optional for Spark users who don't link records
        return None
    return str(similarity_jar_location())


def _session(spark: Any) -> Any:
    """The Spark session given, or the local one (started on first use)."""
    return local_spark() if spark is None else spark


def connect(engine: Engine, spark: Any = None) -> Any:
    """An Ibis backend: in-process DuckDB, or the given (or the local) Spark session.

    DuckDB may reorder rows freely (``preserve_insertion_order`` off): callers
    sort what they read back, and keeping input order would make the large
    joins and aggregates hold more in memory. Spark converts pandas and Arrow
    input through Arrow, an order of magnitude faster than row by row.
    """
    import ibis

    if engine is Engine.DUCKDB:
        return ibis.duckdb.connect(threads=os.cpu_count() or 1, preserve_insertion_order=False)
    session = _session(spark)
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    return ibis.pyspark.connect(session)


def splink_api(engine: Engine, spark: Any = None) -> Any:
    """Splink's database API for ``engine``: its DuckDB API, or its Spark API on the given (or local) session."""
    if engine is Engine.SPARK:
        from splink import SparkAPI

        return SparkAPI(spark_session=_session(spark))  # type: ignore[no-untyped-call]
    from splink import DuckDBAPI

    return DuckDBAPI()
