"""SparseMSE's stepwise model selection (Chan, Silverman and Vincent 2021).

Start from main effects. For every pair of lists not yet in the model, the
number of people on both lists is, if the pair has no interaction, Poisson
with mean equal to the current model's fitted total over those cells; its
two-sided tail probability ``min(P(X <= n), P(X >= n))`` is the pair's
p-value. The pair with the smallest p-value is added if that p-value is below
the threshold (0.02 by default) and the enlarged model passes the existence
and identifiability checks; pairs failing the checks are skipped. Ties go to
the first pair in the order (1,2), (1,3), ..., as in the R code.

Checking candidates in order of p-value and stopping at the first that
passes gives exactly the R algorithm's choice while running far fewer linear
programs, which matters inside a bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import pdtr, pdtrc

from tipsom.estimate.checks import Check, Checker
from tipsom.estimate.loglinear import Design, Fit, FitError, FloatArray, IntArray, Term, fit_model

DEFAULT_THRESHOLD = 0.02


@dataclass(frozen=True)
class Step:
    """One cycle of the search: the pair added, its p-value, and pairs skipped by the checks."""

    added: Term
    p_value: float
    skipped: tuple[tuple[Term, Check], ...]


@dataclass(frozen=True)
class StepwiseResult:
    fit: Fit
    steps: tuple[Step, ...]
    #: p-values of the pairs left out, from the final model (1.0 for pairs failing the checks).
    final_p_values: dict[Term, float]


def poisson_tail(observed: FloatArray, expected: FloatArray) -> FloatArray:
    """``min(P(X <= n), P(X >= n))`` for Poisson ``X`` with the given means."""
    lower = pdtr(observed, expected)
    upper = np.where(observed > 0, pdtrc(observed - 1.0, expected), 1.0)
    return np.asarray(np.minimum(lower, upper), dtype=np.float64)


def stepwise(
    d: Design,
    counts: IntArray,
    threshold: float = DEFAULT_THRESHOLD,
    checker: Checker | None = None,
    record: bool = True,
) -> StepwiseResult:
    """Select pairwise interactions by SparseMSE's stepwise rule and fit the model."""
    checker = checker or Checker(d)
    pairs = d.pair_terms()
    pair_cols = [d.index[p] for p in pairs]
    cells_of_pair = d.term_cells[:, pair_cols].astype(np.float64)
    observed = (counts @ cells_of_pair).astype(np.float64)
    fit = fit_model(d, counts, ())
    if threshold <= 0:
        return StepwiseResult(fit, (), {})
    if threshold >= 1 and checker.check(counts, pairs) == Check.OK:
        return StepwiseResult(fit_model(d, counts, pairs), (), {})
    lists_present = bool((counts @ d.cells > 0).all())
    included = np.zeros(len(pairs), dtype=bool)
    model: tuple[Term, ...] = ()
    steps: list[Step] = []
    p_values = np.ones(len(pairs))
    for _cycle in range(len(pairs)):
        expected = fit.fitted @ cells_of_pair
        p_values = np.where(included, 1.0, poisson_tail(observed, expected))
        chosen = -1
        candidate_fit: Fit | None = None
        skipped: list[tuple[Term, Check]] = []
        # stable sort keeps the R tie-break (lowest pair index first)
        for j in np.argsort(p_values, kind="stable"):
            if included[j] or p_values[j] >= threshold:
                break
            candidate_fit = _try_fit(d, counts, (*model, pairs[j]), fit, lists_present)
            status = checker.check(counts, (*model, pairs[j]), candidate_fit)
            if status == Check.OK:
                chosen = int(j)
                break
            p_values[j] = 1.0
            if record:
                skipped.append((pairs[j], status))
        if chosen < 0:
            break
        model = (*model, pairs[chosen])
        included[chosen] = True
        if record:
            steps.append(Step(pairs[chosen], float(p_values[chosen]), tuple(skipped)))
        fit = candidate_fit if candidate_fit is not None else fit_model(d, counts, model, start=fit)
    final = {pairs[j]: float(p_values[j]) for j in range(len(pairs)) if not included[j]} if record else {}
    return StepwiseResult(fit, tuple(steps), final)


def _try_fit(d: Design, counts: IntArray, terms: tuple[Term, ...], start: Fit, lists_present: bool) -> Fit | None:
    """Fit a candidate model (warm start); None when a list is empty or Newton fails.

    The fit doubles as the existence certificate and, if the candidate is
    chosen, as the next model's fit. With an empty list SparseMSE's check
    fails every model, which only the linear program reproduces.
    """
    if not lists_present:
        return None
    try:
        return fit_model(d, counts, terms, start=start)
    except FitError:
        return None
