"""Engine parity through one decorator: a test marked ``@over_engines`` runs on DuckDB and on Spark.

An analysis that offers ``--engine`` must give the same answer on both, so
its test is written once, takes an ``engine`` parameter (and the
``engine_session`` fixture: the shared Spark session on Spark, ``None`` on
DuckDB) and is run once per :class:`~tipsom.core.engines.Engine`. The Spark
run carries the ``spark`` mark, so a quick run can leave it out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from tipsom.core.engines import Engine

Test = TypeVar("Test", bound=Callable[..., object])

ENGINES = [pytest.param(engine, id=engine.value, marks=[pytest.mark.spark] if engine is Engine.SPARK else [])
           for engine in Engine]


def over_engines(test: Test) -> Test:
    """Run ``test`` once per engine, giving it the engine as its ``engine`` argument."""
    return pytest.mark.parametrize("engine", ENGINES)(test)
