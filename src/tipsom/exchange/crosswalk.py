"""Crosswalks to other standards, loaded from ``tipsom/schema/crosswalks``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CROSSWALKS = Path(__file__).resolve().parents[1] / "schema" / "crosswalks"


@cache
def load_crosswalk(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CROSSWALKS / f"{name}.yaml").read_text(encoding="utf-8"))
    return data
