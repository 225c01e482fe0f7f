"""Crosswalks to other standards, loaded from ``tipsom/schema/crosswalks``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tipsom.core.config import read_file

CROSSWALKS = Path(__file__).resolve().parents[1] / "schema" / "crosswalks"


@cache
def load_crosswalk(name: str) -> dict[str, Any]:
    data: dict[str, Any] = read_file(CROSSWALKS / f"{name}.yaml")
    return data
