"""Multiple systems estimation: one call from a capture table to an estimate.

:func:`estimate` selects a model (SparseMSE stepwise, BIC over hierarchical
models, or main effects only), fits it, and computes the requested interval.
The result serialises to the JSON that ``tipsom estimate mse --json`` prints.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tipsom.core.errors import ConfigError
from tipsom.estimate.checks import Checker
from tipsom.estimate.diagnostics import MethodRow, overlap_warnings
from tipsom.estimate.intervals import Bootstrap, Interval, Profile, bca, profile, wald
from tipsom.estimate.loglinear import Design, Fit, IntArray, design, fit_model, term_name
from tipsom.estimate.stepwise import DEFAULT_THRESHOLD, Step, stepwise
from tipsom.estimate.table import CaptureTable, refuse_disjoint, require_lists, stratum_label

if TYPE_CHECKING:  # BIC and LCMCR are imported where they run, so a stepwise estimate starts faster
    from tipsom.estimate.bic import BicResult
    from tipsom.estimate.lcmcr import SamplerSettings


class Selection(enum.Enum):
    """How the interactions in the model are chosen."""

    STEPWISE = "stepwise"
    BIC = "bic"
    MAIN = "main"


class IntervalMethod(enum.Enum):
    WALD = "wald"
    BCA = "bca"
    PROFILE = "profile"


#: Method name of the LCMCR row of :func:`compare_methods` (the report explains that row when present).
LCMCR_METHOD = "latent classes (LCMCR, Bayesian)"

#: Enumerating all pairwise models beyond this many lists takes minutes (7 lists: 2**21 models); the
#: comparison then leaves BIC out and ``--method bic`` refuses the table.
MAX_LISTS_FOR_BIC = 6
#: Most lists for a log-linear fit: the existence check solves a linear programme over all ``2**t - 1``
#: histories with a dense ``(2**t)**2`` constraint matrix (10 lists: 8 MB; 12: 134 MB; 20: 8 TiB).
MAX_LISTS_LOGLINEAR = 10


@lru_cache(maxsize=16)
def checker_for(n_lists: int, max_order: int) -> Checker:
    """One checker (and its caches) per design, per process."""
    return Checker(design(n_lists, max_order))


@dataclass(frozen=True)
class Selector:
    """Model selection plus fit, as a picklable callable for bootstrap workers."""

    selection: Selection
    n_lists: int
    threshold: float = DEFAULT_THRESHOLD
    max_order: int = 2

    @property
    def design(self) -> Design:
        return design(self.n_lists, max(2, self.max_order))

    def select(self, counts: IntArray) -> tuple[Fit, tuple[Step, ...], BicResult | None]:
        d = self.design
        checker = checker_for(self.n_lists, max(2, self.max_order))
        if self.selection is Selection.STEPWISE:
            res = stepwise(d, counts, self.threshold, checker)
            return res.fit, res.steps, None
        if self.selection is Selection.BIC:
            from tipsom.estimate.bic import select_bic

            bic = select_bic(d, counts, self.max_order, checker=checker)
            return bic.best, (), bic
        return fit_model(d, counts, ()), (), None

    def __call__(self, counts: IntArray) -> float:
        d = self.design
        checker = checker_for(self.n_lists, max(2, self.max_order))
        total = float(counts.sum())
        if self.selection is Selection.STEPWISE:
            return total + stepwise(d, counts, self.threshold, checker, record=False).fit.dark
        if self.selection is Selection.BIC:
            from tipsom.estimate.bic import select_bic

            return total + select_bic(d, counts, self.max_order, top=1, checker=checker).best.dark
        return total + fit_model(d, counts, ()).dark


@dataclass(frozen=True)
class Estimate:
    """An estimate of the total population with its interval and the model behind it."""

    table: CaptureTable
    selection: Selection
    threshold: float
    max_order: int
    fit: Fit
    interval_method: IntervalMethod
    interval: Interval
    steps: tuple[Step, ...] = ()
    bic: BicResult | None = None
    bootstrap: Bootstrap | None = None
    profile: Profile | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def observed(self) -> int:
        return self.table.observed

    @property
    def total(self) -> float:
        return self.observed + self.fit.dark

    @property
    def dark(self) -> float:
        return self.fit.dark

    def model_names(self) -> list[str]:
        return [term_name(t, self.table.lists) for t in self.fit.terms]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "observed": self.observed,
            "estimate": round(self.total, 6),
            "interval": {
                "method": self.interval_method.value,
                "low": _json_number(self.interval.low),
                "high": _json_number(self.interval.high),
                "level": self.interval.level,
            },
            "model": self.model_names(),
            "lists": list(self.table.lists),
            "infinite_terms": [term_name(t, self.table.lists) for t in self.fit.infinite],
            "selection": self.selection.value,
            "dark_figure": round(self.dark, 6),
        }
        if self.selection is Selection.STEPWISE:
            out["threshold"] = self.threshold
            out["steps"] = [
                {"added": term_name(s.added, self.table.lists), "p_value": s.p_value,
                 "skipped": [{"term": term_name(t, self.table.lists), "reason": c.describe()}
                             for t, c in s.skipped]}
                for s in self.steps
            ]
        if self.bic is not None:
            out["max_order"] = self.max_order
            out["bic_top_models"] = [
                {"model": [term_name(t, self.table.lists) for t in m.terms], "estimate": round(m.estimate, 3),
                 "bic": round(m.bic, 4), "weight": round(m.weight, 4)}
                for m in self.bic.top
            ]
        if self.bootstrap is not None:
            out["bootstrap"] = {"replicates": len(self.bootstrap.replicates),
                                "acceleration": self.bootstrap.acceleration, "failed": self.bootstrap.failed}
        if self.table.stratum:
            out["stratum"] = dict(self.table.stratum)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

    def label(self) -> str:
        return stratum_label(self.table.stratum)


def _json_number(v: float) -> float | None:
    return round(v, 6) if math.isfinite(v) else None


def estimate(
    table: CaptureTable,
    selection: Selection = Selection.STEPWISE,
    interval: IntervalMethod = IntervalMethod.WALD,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_order: int = 2,
    replicates: int = 1000,
    seed: int = 1234,
    level: float = 0.95,
    workers: int | None = None,
) -> Estimate:
    """Select a model, estimate the total population and its interval."""
    if not 0 <= threshold <= 1:
        raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
    if not 2 <= max_order < max(3, table.n_lists):
        raise ConfigError(f"max_order must be between 2 and {max(2, table.n_lists - 1)}, got {max_order}")
    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1, got {level}")
    require_lists(table, "log-linear estimation", MAX_LISTS_LOGLINEAR)
    refuse_disjoint(table, "a log-linear model")
    if selection is Selection.BIC:
        require_lists(table, "BIC over every hierarchical model", MAX_LISTS_FOR_BIC)
    selector = Selector(selection, table.n_lists, threshold, max_order)
    counts = table.cell_counts()
    fit, steps, bic = selector.select(counts)
    boot: Bootstrap | None = None
    prof: Profile | None = None
    if interval is IntervalMethod.BCA:
        if replicates < 100:
            raise ConfigError(f"a BCa interval needs at least 100 bootstrap replicates, got {replicates}")
        boot = bca(selector, counts, table.observed + fit.dark, row_cells=table.codes() - 1, replicates=replicates,
                   seed=seed, level=level, workers=workers)
        ci = boot.interval
    elif interval is IntervalMethod.PROFILE:
        prof = profile(selector.design, counts, fit, level)
        ci = prof.interval
    else:
        ci = wald(fit, table.observed, level)
    notes = list(overlap_warnings(table))
    if boot is not None and boot.failed:
        notes.append(f"{boot.failed} of {replicates} bootstrap replicates had no finite estimate")
    return Estimate(table, selection, threshold, max_order, fit, interval, ci, steps, bic, boot, prof,
                    tuple(notes))


def compare_methods(
    table: CaptureTable,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    replicates: int = 0,
    seed: int = 1234,
    level: float = 0.95,
    bootstrapped: Estimate | None = None,
    lcmcr_settings: SamplerSettings | None = None,
) -> list[MethodRow]:
    """Estimates of the same table by each method, so users see how much the choice matters.

    On UKdat_5 stepwise selection gives about 11,300 while the best model by
    BIC (order 3) gives about 25,000: a difference no single interval shows. A stepwise BCa
    estimate already computed (``bootstrapped``) is reused rather than bootstrapped again. With
    ``lcmcr_settings`` the Bayesian latent-class estimate (seconds of sampling) is added as the last row.
    """
    rows: list[MethodRow] = []
    step = estimate(table, Selection.STEPWISE, IntervalMethod.WALD, threshold=threshold, level=level)
    names = tuple(step.model_names())
    rows.append(MethodRow("stepwise (SparseMSE)", names, step.total, step.interval.low, step.interval.high,
                          "Wald", f"p-value threshold {threshold}"))
    prof = estimate(table, Selection.STEPWISE, IntervalMethod.PROFILE, threshold=threshold, level=level)
    rows.append(MethodRow("stepwise (SparseMSE)", names, prof.total, prof.interval.low, prof.interval.high,
                          "profile likelihood", "conditional on the selected model"))
    if replicates:
        reuse = (bootstrapped is not None and bootstrapped.bootstrap is not None
                 and bootstrapped.selection is Selection.STEPWISE
                 and len(bootstrapped.bootstrap.replicates) == replicates)
        boot = bootstrapped if reuse and bootstrapped is not None else estimate(
            table, Selection.STEPWISE, IntervalMethod.BCA, threshold=threshold, replicates=replicates, seed=seed,
            level=level)
        rows.append(MethodRow("stepwise (SparseMSE)", names, boot.total, boot.interval.low,
                              boot.interval.high,
                              "BCa bootstrap", f"{replicates} replicates, selection re-run in each"))
    orders = [2, 3] if table.n_lists in (4, 5) else [2]
    for order in orders:
        if table.n_lists > MAX_LISTS_FOR_BIC:
            break
        bic = estimate(table, Selection.BIC, IntervalMethod.WALD, max_order=order, level=level)
        share = bic.bic.top[0].weight if bic.bic is not None else 1.0
        rows.append(MethodRow(f"best BIC, interactions up to order {order}", tuple(bic.model_names()),
                              bic.total, bic.interval.low, bic.interval.high, "Wald",
                              f"BIC weight of this model {share:.0%}"))
    main = estimate(table, Selection.MAIN, IntervalMethod.WALD, level=level)
    rows.append(MethodRow("main effects only (lists independent)", (), main.total, main.interval.low,
                          main.interval.high, "Wald", "assumes no list affects another"))
    if lcmcr_settings is not None:
        from tipsom.estimate.lcmcr import lcmcr

        post = lcmcr(table, lcmcr_settings, level=level)
        rows.append(MethodRow(
            LCMCR_METHOD, (), post.total, post.interval.low, post.interval.high,
            "posterior (credible)", f"posterior median; up to {lcmcr_settings.classes} classes of people with "
            f"different capture probabilities; convergence {post.convergence.value} (R-hat {post.rhat:.3f}, "
            f"ESS {post.ess:.0f})"))
    return rows


@dataclass(frozen=True)
class StratumEstimate:
    """One stratum's estimate, or why there is none, with prevalence when population is known."""

    stratum: tuple[tuple[str, str], ...]
    result: Estimate | None
    error: str | None = None
    population: float | None = None

    def per_100k(self) -> tuple[float, float, float] | None:
        """Estimated victims per 100,000 population: point, low, high."""
        if self.result is None or not self.population:
            return None
        scale = 100_000.0 / self.population
        r = self.result
        return r.total * scale, r.interval.low * scale, r.interval.high * scale

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stratum": dict(self.stratum)} if self.stratum else {}
        if self.result is not None:
            out.update(self.result.to_dict())
        if self.error:
            out["error"] = self.error
        rates = self.per_100k()
        if rates is not None:
            out["population"] = self.population
            out["per_100k"] = {"estimate": round(rates[0], 4), "low": _json_number(rates[1]),
                               "high": _json_number(rates[2])}
        return out


def estimate_strata(
    tables: dict[tuple[tuple[str, str], ...], CaptureTable],
    populations: dict[tuple[tuple[str, str], ...], float] | None = None,
    **options: Any,
) -> list[StratumEstimate]:
    """Estimate each stratum separately; a stratum too sparse to estimate gets its reason, not a crash."""
    out = []
    for key in sorted(tables):
        pop = (populations or {}).get(key)
        try:
            out.append(StratumEstimate(key, estimate(tables[key], **options), None, pop))
        except (ValueError, ArithmeticError) as exc:
            out.append(StratumEstimate(key, None, str(exc), pop))
    return out
