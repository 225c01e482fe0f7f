"""The composite vulnerability index: treatment, normalisation, aggregation, coverage.

The steps follow INFORM and the JRC/OECD handbook:

1. outlier treatment per indicator (COINr's default rule, see :class:`Transform`);
2. min-max normalisation to 0-10, reversed for indicators where more is better;
3. weighted arithmetic mean of indicators within a category, then of
   categories within a dimension (missing indicators drop out and the
   remaining weights are rescaled: nothing is imputed);
4. weighted geometric mean across dimensions, so strength in one dimension
   cannot fully offset weakness in another.

Each unit's coverage (share of indicators with data) is reported with a
:class:`Reliability` flag; a unit with a whole dimension missing is not scored
at all rather than scored as if that dimension were zero.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from tipsom.context.sources import ContextInputError
from tipsom.context.spec import Direction, IndexSpec, OutlierRule, Transform

FloatArray = NDArray[np.float64]


class Treatment(enum.StrEnum):
    """What outlier treatment was actually applied to an indicator."""

    NONE = "none"
    WINSORISED = "winsorised"
    LOG = "log"


class Normalisation(enum.StrEnum):
    MINMAX = "min-max"
    RANK = "percentile rank"


class Aggregation(enum.StrEnum):
    GEOMETRIC = "geometric"
    ARITHMETIC = "arithmetic"


class Reliability(enum.StrEnum):
    """How far a unit's score can be trusted, from its data coverage."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    LOW = "low"
    NOT_SCORED = "not scored"


@dataclass(frozen=True)
class IndicatorAudit:
    """What happened to one indicator, for the method annex of the report."""

    code: str
    values: int
    skew: float | None
    kurtosis: float | None
    treatment: Treatment
    winsorised_points: int
    skew_after: float | None
    kurtosis_after: float | None
    included: bool
    note: str = ""


def skew_kurtosis(x: FloatArray) -> tuple[float, float] | None:
    """Sample skewness and excess kurtosis with small-sample correction (as Excel, and COINr)."""
    if x.size < 4 or float(np.ptp(x)) == 0.0:
        return None
    return float(stats.skew(x, bias=False)), float(stats.kurtosis(x, fisher=True, bias=False))


def _outlying(x: FloatArray, rule: OutlierRule) -> bool:
    sk = skew_kurtosis(x)
    return sk is not None and abs(sk[0]) > rule.skew and sk[1] > rule.kurtosis


def winsorise(x: FloatArray, rule: OutlierRule, force: bool = False) -> tuple[FloatArray, int]:
    """Pull the most extreme point in the direction of the skew to its neighbour, one at a time.

    Stops when the indicator passes the skew/kurtosis rule (unless ``force``),
    or after ``rule.winsorise_max`` points. Returns the values and points moved.
    """
    out = x.copy()
    moved = 0
    while moved < rule.winsorise_max and (force or _outlying(out, rule)):
        sk = skew_kurtosis(out)
        if sk is None:
            break
        order = np.argsort(out, kind="stable")
        if sk[0] >= 0:
            out[order[-1]] = out[order[-2]]
        else:
            out[order[0]] = out[order[1]]
        moved += 1
    return out, moved


def log_transform(x: FloatArray) -> FloatArray:
    """log(x - min + 1), mirrored for left-skewed data so the order of units is kept."""
    sk = skew_kurtosis(x)
    if sk is not None and sk[0] < 0:
        return np.asarray(-np.log(x.max() - x + 1.0), dtype=np.float64)
    return np.asarray(np.log(x - x.min() + 1.0), dtype=np.float64)


def treat(x: FloatArray, transform: Transform, rule: OutlierRule) -> tuple[FloatArray, Treatment, int]:
    """Apply an indicator's transform to its non-missing values."""
    if transform is Transform.NONE or x.size < 4:
        return x, Treatment.NONE, 0
    if transform is Transform.LOG:
        return log_transform(x), Treatment.LOG, 0
    if transform is Transform.WINSORISE:
        out, moved = winsorise(x, rule, force=False)
        return out, Treatment.WINSORISED if moved else Treatment.NONE, moved
    if not _outlying(x, rule):
        return x, Treatment.NONE, 0
    out, moved = winsorise(x, rule)
    if not _outlying(out, rule):
        return out, Treatment.WINSORISED, moved
    return log_transform(x), Treatment.LOG, 0


def normalise(column: FloatArray, method: Normalisation) -> FloatArray:
    """Scale non-missing values to 0-10 (NaN stays NaN)."""
    out = np.full_like(column, np.nan)
    mask = ~np.isnan(column)
    x = column[mask]
    if method is Normalisation.MINMAX:
        lo, hi = float(x.min()), float(x.max())
        out[mask] = 10.0 * (x - lo) / (hi - lo)
    else:
        out[mask] = 10.0 * (stats.rankdata(x, method="average") - 1.0) / max(x.size - 1, 1)
    return out


@dataclass
class Structure:
    """The index's tree as matrices, so scoring one configuration is a few matrix products."""

    indicators: list[str]
    dimensions: list[str]
    categories: list[str]
    indicator_weights: FloatArray  # (m,)
    category_of: NDArray[np.float64]  # (m, K) 0/1 membership
    category_weights: FloatArray  # (K,)
    dimension_of: NDArray[np.float64]  # (K, D) 0/1 membership
    dimension_weights: FloatArray  # (D,)
    negative: NDArray[np.bool_]  # (m,) direction


def structure(spec: IndexSpec, indicators: list[str], dimensions: list[str]) -> Structure:
    by_code = {i.code: i for i in spec.indicators}
    cats = [c for d, c in spec.categories() if d in dimensions and any(
        by_code[i].category == c for i in indicators)]
    cat_of = np.zeros((len(indicators), len(cats)))
    for j, code in enumerate(indicators):
        cat_of[j, cats.index(by_code[code].category)] = 1.0
    dim_of = np.zeros((len(cats), len(dimensions)))
    home = {i.category: i.dimension for i in spec.indicators}
    for k, cat in enumerate(cats):
        dim_of[k, dimensions.index(home[cat])] = 1.0
    dim_weight = {d.code: d.weight for d in spec.dimensions}
    return Structure(
        indicators, dimensions, cats,
        np.array([by_code[c].weight for c in indicators]),
        cat_of,
        np.array([spec.category_weights.get(c, 1.0) for c in cats]),
        dim_of,
        np.array([dim_weight[d] for d in dimensions]),
        np.array([by_code[c].direction is Direction.NEGATIVE for c in indicators]),
    )


def _weighted_mean(scores: FloatArray, weights: FloatArray, membership: FloatArray) -> FloatArray:
    """Weighted mean of columns per group, ignoring NaN; NaN where a group has no data."""
    present = ~np.isnan(scores)
    filled = np.where(present, scores, 0.0)
    wm = weights[:, None] * membership
    num = filled @ wm
    den = present.astype(np.float64) @ wm
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def dimension_scores(normalised: FloatArray, s: Structure, indicator_weights: FloatArray) -> FloatArray:
    """(units, dimensions) scores from normalised (units, indicators) values."""
    categories = _weighted_mean(normalised, indicator_weights, s.category_of)
    return _weighted_mean(categories, s.category_weights, s.dimension_of)


def aggregate(dims: FloatArray, weights: FloatArray, how: Aggregation) -> FloatArray:
    """Combine dimension scores; a unit missing any dimension gets NaN (not scored)."""
    share = weights / weights.sum()
    if how is Aggregation.ARITHMETIC:
        return np.asarray(dims @ share, dtype=np.float64)
    with np.errstate(divide="ignore"):
        logs = np.log(dims)
    return np.asarray(np.exp(logs @ share), dtype=np.float64)


def oriented(normalised: FloatArray, negative: NDArray[np.bool_]) -> FloatArray:
    """Reverse indicators where a higher value means less vulnerability."""
    return np.where(negative[None, :], 10.0 - normalised, normalised)


@dataclass
class Prepared:
    """The data after treatment, ready to be normalised and scored under any choice."""

    units: list[str]
    raw: FloatArray
    treated: FloatArray
    structure: Structure
    audits: list[IndicatorAudit]
    notes: list[str]

    def normalised(self, method: Normalisation, treated: bool = True) -> FloatArray:
        data = self.treated if treated else self.raw
        cols = [normalise(data[:, j], method) for j in range(data.shape[1])]
        return oriented(np.column_stack(cols), self.structure.negative)


def prepare(spec: IndexSpec, values: pd.DataFrame) -> Prepared:
    """Check the data against the spec, drop what cannot inform a ranking (with notes), treat outliers."""
    missing_cols = [i.code for i in spec.indicators if i.code not in values.columns]
    if missing_cols:
        raise ContextInputError(f"data has no column for indicator(s) {missing_cols}")
    notes, audits, keep = [], [], []
    raw_cols, treated_cols = [], []
    for ind in spec.indicators:
        column = pd.to_numeric(values[ind.code], errors="coerce").to_numpy(dtype=np.float64)
        x = column[~np.isnan(column)]
        sk = skew_kurtosis(x)
        if x.size == 0 or float(np.ptp(x)) == 0.0:
            why = "no data for any unit" if x.size == 0 else "the same value for every unit"
            notes.append(f"Indicator {ind.code} left out: {why}.")
            audits.append(IndicatorAudit(ind.code, int(x.size), None, None, Treatment.NONE, 0, None, None,
                                         False, why))
            continue
        out, treatment, moved = treat(x, ind.transform, spec.outliers)
        after = skew_kurtosis(out) if treatment is not Treatment.NONE else sk
        treated = column.copy()
        treated[~np.isnan(column)] = out
        keep.append(ind.code)
        raw_cols.append(column)
        treated_cols.append(treated)
        audits.append(IndicatorAudit(ind.code, int(x.size), sk[0] if sk else None, sk[1] if sk else None,
                                     treatment, moved, after[0] if after else None,
                                     after[1] if after else None, True,
                                     "" if sk else "fewer than 4 values: not checked for outliers"))
    dims = []
    for dim in spec.dimensions:
        if any(i.dimension == dim.code and i.code in keep for i in spec.indicators):
            dims.append(dim.code)
        else:
            hint = " It is user-supplied: import its data to include it." if dim.user_supplied else ""
            notes.append(f"Dimension {dim.code} left out of the index: no indicator has data.{hint}")
    if not dims:
        raise ContextInputError("no indicator has usable data; nothing to score")
    dimension_of = {i.code: i.dimension for i in spec.indicators}
    positions = [k for k, code in enumerate(keep) if dimension_of[code] in dims]
    keep = [keep[k] for k in positions]
    raw = np.column_stack(raw_cols)[:, positions]
    treated = np.column_stack(treated_cols)[:, positions]
    return Prepared([str(u) for u in values.index], raw, treated, structure(spec, keep, dims), audits, notes)


def reliability(
    prepared: Prepared, dims: FloatArray, low_below: float
) -> tuple[FloatArray, list[Reliability], list[str]]:
    """Coverage, flag and the list of missing indicators for each unit."""
    present = ~np.isnan(prepared.raw)
    coverage = present.mean(axis=1)
    flags, missing = [], []
    for u in range(len(prepared.units)):
        absent = [c for j, c in enumerate(prepared.structure.indicators) if not present[u, j]]
        missing.append(", ".join(absent))
        if np.isnan(dims[u]).any():
            flags.append(Reliability.NOT_SCORED)
        elif not absent:
            flags.append(Reliability.COMPLETE)
        elif coverage[u] < low_below:
            flags.append(Reliability.LOW)
        else:
            flags.append(Reliability.PARTIAL)
    return coverage, flags, missing


@dataclass
class IndexResult:
    """The nominal index: one row per unit, plus the audit trail."""

    table: pd.DataFrame
    prepared: Prepared

    @property
    def notes(self) -> list[str]:
        return self.prepared.notes


def rank_descending(scores: FloatArray) -> FloatArray:
    """Rank 1 = most vulnerable; ties share the best rank; NaN stays NaN."""
    out = np.full(scores.shape, np.nan)
    mask = ~np.isnan(scores)
    out[mask] = stats.rankdata(-scores[mask], method="min")
    return out


def compute_index(spec: IndexSpec, values: pd.DataFrame) -> IndexResult:
    """Score every unit under the nominal choices (min-max, treated, geometric, spec weights)."""
    prepared = prepare(spec, values)
    s = prepared.structure
    dims = dimension_scores(prepared.normalised(Normalisation.MINMAX), s, s.indicator_weights)
    score = aggregate(dims, s.dimension_weights, Aggregation.GEOMETRIC)
    coverage, flags, missing = reliability(prepared, dims, spec.reliability.low_below)
    table = pd.DataFrame({"unit": prepared.units, "index": score, "rank": rank_descending(score)})
    for d, code in enumerate(s.dimensions):
        table[code] = dims[:, d]
    table["coverage"] = coverage
    table["reliability"] = [f.value for f in flags]
    table["missing_indicators"] = missing
    return IndexResult(table, prepared)
