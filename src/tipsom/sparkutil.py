"""A local Spark session configured for this kind of machine.

Spark is for data that outgrows one machine; in tests and on a laptop it runs
in local mode, bound to loopback, with no UI and few shuffle partitions.
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
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
