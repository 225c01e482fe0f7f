"""A local Spark session configured for this kind of machine.

Spark is for data that outgrows one machine; in tests and on a laptop it runs
in local mode, bound to loopback, with no UI and few shuffle partitions.
Splink's string-similarity functions (Jaro-Winkler and friends) are Scala
UDFs shipped as a jar inside the splink package; the jar is put on the
classpath here, from the installed package, because a running session cannot
load it later and nothing may be downloaded at run time.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any


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
