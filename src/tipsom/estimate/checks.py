"""Does a model have a finite, unique estimate on these data?

Two checks, as in SparseMSE's ``checkident`` (Chan, Silverman and Vincent
2021, following Fienberg and Rinaldo 2012):

* **existence**: the maximum likelihood estimate exists only if some strictly
  positive table has the same sufficient statistics (list totals and the
  model's overlaps) as the data. A linear program maximises the smallest cell
  of such a table; an optimum of zero means the estimate lies on the boundary
  (some fitted cells are zero and the dark figure may be infinite).
* **identifiability**: the design (after removing cells of terms whose lists
  share no one) must have full column rank.

Results depend only on which cells are positive and on the model, so they are
cached: a bootstrap asks the same question thousands of times.
"""

from __future__ import annotations

import enum

import numpy as np

from tipsom.estimate.loglinear import BoolArray, Design, Fit, IntArray, Term, kept_cells, zero_margin_terms

#: LP optimum at or below this is treated as zero (the LP works in counts, so genuine
#: positive optima are far larger).
LP_ZERO = 1e-7
#: A fitted cell above this (in people) is clearly off the boundary: diverging fits reach far below it.
CERTIFY_MIN_CELL = 1e-4
#: Likelihood equations must hold to this relative precision for a fit to stand in for the LP.
CERTIFY_TOLERANCE = 1e-7


class Check(enum.IntFlag):
    """Outcome of the checks; the integer values are SparseMSE's ``ierr`` codes."""

    OK = 0
    NO_ESTIMATE = 1
    NOT_IDENTIFIABLE = 2

    def describe(self) -> str:
        if self == Check.OK:
            return "estimate exists and is identifiable"
        parts = []
        if Check.NO_ESTIMATE in self:
            parts.append("no finite estimate exists (the maximum likelihood estimate is on the boundary)")
        if Check.NOT_IDENTIFIABLE in self:
            parts.append("not identifiable (the design is rank deficient)")
        return "; ".join(parts)


def positive_solution_exists(a: np.ndarray, t: np.ndarray) -> bool:
    """Fienberg-Rinaldo LP: is there ``x > 0`` with ``a @ x == t``?

    Maximise ``s`` subject to ``a x = t`` and ``x_i >= s >= 0``; positive
    optimum means yes.
    """
    from scipy.optimize import linprog  # only when a model needs the check: scipy.optimize is slow to import

    npar, ncell = a.shape
    c = np.zeros(ncell + 1)
    c[-1] = -1.0
    a_eq = np.hstack([a, np.zeros((npar, 1))])
    a_ub = np.hstack([-np.eye(ncell), np.ones((ncell, 1))])
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(ncell), A_eq=a_eq, b_eq=t, bounds=(0, None), method="highs")
    if res.status != 0:
        return False
    return float(-res.fun) > LP_ZERO


class Checker:
    """Existence and identifiability of models on one design, with caches."""

    def __init__(self, d: Design) -> None:
        self.design = d
        # per (cells kept, model): supports (bit masks of positive cells) known to give an estimate
        # and supports known not to; existence is monotone in the support, so a superset of a good
        # support is good and a subset of a bad one is bad, and most replicates need no new LP
        self._exists: dict[tuple[bytes, tuple[Term, ...]], tuple[list[int], list[int]]] = {}
        self._rank: dict[tuple[tuple[Term, ...], tuple[Term, ...]], bool] = {}
        self.lp_calls = 0

    def check(self, counts: IntArray, terms: tuple[Term, ...], fitted: Fit | None = None) -> Check:
        """SparseMSE's ``checkident`` for main effects plus ``terms`` on cell ``counts``.

        As in SparseMSE, only interaction terms with no shared cases are
        removed (with their cells) before the checks; a list with no cases
        makes every model fail the existence check. ``fitted``, a converged
        fit of the same model, can prove existence without a linear program.
        """
        d = self.design
        empty = zero_margin_terms(d, counts, terms)
        finite = tuple(t for t in terms if t not in empty)
        keep = kept_cells(d, empty)
        result = Check.OK
        if fitted is not None and self._certified(counts, keep, finite, fitted):
            pass
        elif not self._exists_for(counts, keep, finite):
            result |= Check.NO_ESTIMATE
        if not self._full_rank(keep, empty, finite):
            result |= Check.NOT_IDENTIFIABLE
        return result

    def _exists_for(self, counts: IntArray, keep: BoolArray, finite: tuple[Term, ...]) -> bool:
        positive = counts[keep] > 0
        if positive.all():
            return True
        support = int.from_bytes(np.packbits(positive).tobytes(), "big")
        good, bad = self._exists.setdefault((keep.tobytes(), finite), ([], []))
        if any(g & ~support == 0 for g in good):
            return True
        if any(support & ~b == 0 for b in bad):
            return False
        a = self.design.full[np.ix_(keep, self.design.columns(finite))].T
        exists = positive_solution_exists(a, a @ counts[keep].astype(np.float64))
        self.lp_calls += 1
        (good if exists else bad).append(support)
        return exists

    def _certified(self, counts: IntArray, keep: BoolArray, finite: tuple[Term, ...], fit: Fit) -> bool:
        """A converged fit whose fitted cells are all clearly positive is the LP's witness.

        The fitted table satisfies the likelihood equations (same sufficient
        statistics as the data); if every cell is positive it is exactly the
        strictly positive solution the linear program looks for. Diverging fits
        (no estimate) drive some cells towards zero and are left to the LP.
        """
        if not np.array_equal(fit.kept, keep) or set(fit.terms) - set(fit.infinite) != set(finite):
            return False
        fitted = fit.fitted[keep]
        if fitted.min() <= CERTIFY_MIN_CELL:
            return False
        a = self.design.full[np.ix_(keep, self.design.columns(finite))].T
        target = a @ counts[keep].astype(np.float64)
        if float(np.max(np.abs(a @ fitted - target))) > CERTIFY_TOLERANCE * max(1.0, float(target.max())):
            return False
        support = int.from_bytes(np.packbits(counts[keep] > 0).tobytes(), "big")
        self._exists.setdefault((keep.tobytes(), finite), ([], []))[0].append(support)
        return True

    def _full_rank(self, keep: BoolArray, empty: tuple[Term, ...], finite: tuple[Term, ...]) -> bool:
        key = (empty, finite)
        known = self._rank.get(key)
        if known is None:
            x = self.design.full[np.ix_(keep, self.design.columns(finite))]
            known = bool(np.linalg.matrix_rank(x) == x.shape[1])
            self._rank[key] = known
        return known

    def exists_with(self, counts: IntArray, keep: BoolArray, finite: tuple[Term, ...]) -> bool:
        """Existence for an explicit cell set (used by enumeration, which groups models)."""
        return self._exists_for(counts, keep, finite)

    def full_rank_with(self, keep: BoolArray, empty: tuple[Term, ...], finite: tuple[Term, ...]) -> bool:
        return self._full_rank(keep, empty, finite)
