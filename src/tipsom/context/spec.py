"""The vulnerability index's configuration: indicators, their metadata, and the method's knobs.

Everything that shapes a composite index (which indicators, in which
dimension and category, which way is "worse", how they are transformed and
weighted, where they come from) is written down in one YAML file, as the
JRC/OECD handbook asks, so that a published ranking can be re-derived and
argued with. ``indicators.yaml`` in this package is the default; users copy and
edit it and pass it with ``tipsom context index --config``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tipsom.context.sources import ContextInputError
from tipsom.core.config import load_typed, parse_text, require_mapping


class Direction(enum.StrEnum):
    """Whether a higher raw value means more vulnerability (positive) or less (negative)."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class Transform(enum.StrEnum):
    """Outlier treatment before normalisation.

    ``auto`` follows COINr's default: leave the indicator alone unless
    |skew| > 2 and kurtosis > 3.5; then winsorise up to ``winsorise_max``
    points, and if that is not enough, take logs instead.
    """

    AUTO = "auto"
    NONE = "none"
    LOG = "log"
    WINSORISE = "winsorise"


class UnitLevel(enum.StrEnum):
    COUNTRY = "country"
    ADMIN1 = "admin1"


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    dimension: str
    category: str
    direction: Direction
    transform: Transform
    weight: float
    source: str
    series: str
    #: Divide by total population and multiply by this (e.g. 100000 for "per 100,000").
    per_capita: float | None = None
    #: Text the stored series name must contain (guards against re-based series).
    series_name_contains: str | None = None


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    weight: float
    #: True when the data must come from the user (e.g. governance); a dimension
    #: with no data at all is then left out of the index, with a notice.
    user_supplied: bool = False


@dataclass(frozen=True)
class OutlierRule:
    skew: float = 2.0
    kurtosis: float = 3.5
    winsorise_max: int = 5


@dataclass(frozen=True)
class ReliabilityRule:
    #: A unit whose indicator coverage is below this share is flagged ``low``.
    low_below: float = 2.0 / 3.0


@dataclass(frozen=True)
class UncertaintyRule:
    runs: int = 1000
    seed: int = 20240601
    #: Each weight is multiplied by a factor drawn from [1 - spread, 1 + spread].
    weight_spread: float = 0.25


@dataclass(frozen=True)
class IndexSpec:
    name: str
    unit: UnitLevel
    year: int | None
    max_age: int
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    category_weights: dict[str, float] = field(default_factory=dict)
    outliers: OutlierRule = OutlierRule()
    reliability: ReliabilityRule = ReliabilityRule()
    uncertainty: UncertaintyRule = UncertaintyRule()
    #: Optional wide CSV (``unit`` column plus one column per indicator code).
    data: Path | None = None

    def categories(self) -> list[tuple[str, str]]:
        """(dimension, category) pairs in configuration order."""
        seen: dict[tuple[str, str], None] = {}
        for ind in self.indicators:
            seen.setdefault((ind.dimension, ind.category), None)
        return list(seen)


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] in (None, ""):
        raise ContextInputError(f"{where}: missing '{key}'")
    return mapping[key]


def _enum(kind: type[enum.StrEnum], value: Any, where: str) -> Any:
    try:
        return kind(str(value))
    except ValueError as exc:
        allowed = ", ".join(m.value for m in kind)
        raise ContextInputError(f"{where}: {value!r} is not one of {allowed}") from exc


def _positive(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ContextInputError(f"{where}: {value!r} is not a number") from exc
    if number <= 0:
        raise ContextInputError(f"{where}: weights must be positive, got {number:g}")
    return number


class _SpecFile(BaseModel):
    """The shape of an index configuration file, checked before its entries are read.

    Open (``extra="allow"``): the entries themselves are checked one by one
    below, with messages in the index's own terms; this model only makes a
    wrong type at the top level a message naming the file and the key instead
    of a crash.
    """

    model_config = ConfigDict(extra="allow")

    name: str = "Vulnerability index"
    unit: str = "country"
    year: int | None = None
    max_age: int = 5
    data: str | None = None
    dimensions: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    category_weights: dict[str, float] | None = None
    outliers: dict[str, float] = {}
    uncertainty: dict[str, float] = {}
    reliability: dict[str, float] = {}


def parse_spec(data: dict[str, Any], origin: str, base: Path | None = None) -> IndexSpec:
    """Validate a loaded YAML mapping; every error names the file and the entry."""
    load_typed(data, _SpecFile, where=origin)
    dims = []
    for i, d in enumerate(_require(data, "dimensions", origin)):
        where = f"{origin}: dimensions[{i}]"
        dims.append(Dimension(str(_require(d, "code", where)), str(d.get("name", d["code"])),
                              _positive(d.get("weight", 1), f"{where}.weight"),
                              bool(d.get("user_supplied", False))))
    dim_codes = {d.code for d in dims}
    indicators = []
    for i, raw in enumerate(_require(data, "indicators", origin)):
        where = f"{origin}: indicators[{i}]"
        code = str(_require(raw, "code", where))
        where = f"{where} ({code})"
        dimension = str(_require(raw, "dimension", where))
        if dimension not in dim_codes:
            raise ContextInputError(f"{where}: dimension {dimension!r} is not declared under 'dimensions'")
        indicators.append(Indicator(
            code=code, name=str(raw.get("name", code)), dimension=dimension,
            category=str(raw.get("category", dimension)),
            direction=_enum(Direction, _require(raw, "direction", where), f"{where}.direction"),
            transform=_enum(Transform, raw.get("transform", "auto"), f"{where}.transform"),
            weight=_positive(raw.get("weight", 1), f"{where}.weight"),
            source=str(_require(raw, "source", where)),
            series=str(raw.get("series", code)),
            per_capita=float(raw["per_capita"]) if raw.get("per_capita") else None,
            series_name_contains=raw.get("series_name_contains"),
        ))
    codes = [i.code for i in indicators]
    if len(set(codes)) != len(codes):
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        raise ContextInputError(f"{origin}: indicator codes repeat: {repeated}")
    homes: dict[str, str] = {}
    for ind in indicators:
        if homes.setdefault(ind.category, ind.dimension) != ind.dimension:
            raise ContextInputError(
                f"{origin}: category {ind.category!r} appears in dimensions {homes[ind.category]!r} "
                f"and {ind.dimension!r}; category codes must be unique"
            )
    empty = dim_codes - {i.dimension for i in indicators}
    if empty:
        raise ContextInputError(f"{origin}: dimension(s) without indicators: {sorted(empty)}")
    out = data.get("outliers", {})
    unc = data.get("uncertainty", {})
    rel = data.get("reliability", {})
    data_path = data.get("data")
    return IndexSpec(
        name=str(data.get("name", "Vulnerability index")),
        unit=_enum(UnitLevel, data.get("unit", "country"), f"{origin}: unit"),
        year=int(data["year"]) if data.get("year") else None,
        max_age=int(data.get("max_age", 5)),
        dimensions=tuple(dims),
        indicators=tuple(indicators),
        category_weights={str(k): _positive(v, f"{origin}: category_weights.{k}")
                          for k, v in (data.get("category_weights") or {}).items()},
        outliers=OutlierRule(float(out.get("skew", 2.0)), float(out.get("kurtosis", 3.5)),
                             int(out.get("winsorise_max", 5))),
        reliability=ReliabilityRule(float(rel.get("low_below", 2.0 / 3.0))),
        uncertainty=UncertaintyRule(int(unc.get("runs", 1000)), int(unc.get("seed", 20240601)),
                                    float(unc.get("weight_spread", 0.25))),
        data=(base / str(data_path)) if data_path and base else (Path(str(data_path)) if data_path else None),
    )


def load_spec(path: Path | None = None) -> IndexSpec:
    """Read an index configuration; without a path, the shipped default."""
    if path is None:
        text = resources.files("tipsom.context").joinpath("indicators.yaml").read_text(encoding="utf-8")
        origin, base = "indicators.yaml (default)", None
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ContextInputError(f"{path}: cannot read: {exc}") from exc
        origin, base = str(path), path.parent
    return parse_spec(dict(require_mapping(parse_text(text, origin), origin)), origin, base)
