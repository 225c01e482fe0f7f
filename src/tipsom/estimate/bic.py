"""Model selection by BIC over every hierarchical log-linear model.

Rcapture's ``closedpMS.t`` fits every hierarchical model containing all main
effects and interactions up to ``max_order`` and ranks them by
``BIC = -2 loglik + log(n) * parameters`` (``n`` people observed). tipsom does
the same, with two differences that follow SparseMSE: interactions between
lists that share no one are fitted at minus infinity (cells dropped, parameter
still counted), and models failing the existence or identifiability check are
reported but not ranked, because their "estimate" is whatever value a
diverging ``glm`` happened to stop at.

Speed comes from three things: existence is monotone (if a model's estimate
exists, so does every sub-model's with the same cells), so most models need
no linear program; rank is inherited by sub-models the same way; and the
Newton iterations of thousands of models run together as batched matrix
products in numpy.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from tipsom.core.errors import InputError
from tipsom.estimate.checks import Check, Checker
from tipsom.estimate.loglinear import (
    MAX_ETA,
    BoolArray,
    Design,
    Fit,
    FloatArray,
    IntArray,
    Term,
    fit_model,
    kept_cells,
)

#: Enumerations beyond this many models are refused (Rcapture stops earlier, at 6 lists order 3).
MAX_MODELS = 300_000
#: Models fitted together in one batch of matrix products (bounds memory to tens of MB).
BATCH = 2048
DEFAULT_TOP = 10


class TooManyModelsError(InputError):
    """The requested enumeration is too large to run on a laptop."""


@dataclass(frozen=True)
class RankedModel:
    terms: tuple[Term, ...]
    infinite: tuple[Term, ...]
    estimate: float
    bic: float
    deviance: float
    n_parameters: int
    #: Share of BIC weight ``exp(-BIC/2)`` among all models that passed the checks.
    weight: float


@dataclass(frozen=True)
class BicResult:
    best: Fit
    top: tuple[RankedModel, ...]
    n_models: int
    #: Models left out because they failed a check, by outcome.
    failed: dict[Check, int]


@lru_cache(maxsize=8)
def hierarchical_models(n_lists: int, max_order: int) -> npt.NDArray[np.bool_]:
    """Every hierarchical model as a row of booleans over ``design(n_lists, max_order).terms``.

    All main effects are always in; a term of order ``k > 2`` is allowed only
    when all its sub-terms of order ``k - 1`` are in the model.
    """
    from tipsom.estimate.loglinear import design

    d = design(n_lists, max_order)
    pairs = d.pair_terms()
    if len(pairs) > 24:
        raise TooManyModelsError(f"{n_lists} lists have 2^{len(pairs)} pairwise models; use stepwise")
    n_pair_models = 1 << len(pairs)
    pair_bits = ((np.arange(n_pair_models)[:, None] >> np.arange(len(pairs))) & 1).astype(bool)
    if max_order <= 2:
        return pair_bits
    rows: list[npt.NDArray[np.bool_]] = []
    higher = [t for t in d.terms if len(t) > 2]
    total = 0
    for mask in pair_bits:
        chosen = {p for p, m in zip(pairs, mask, strict=True) if m}
        models = [frozenset(chosen)]
        for order in range(3, max_order + 1):
            candidates = [t for t in higher if len(t) == order]
            grown = []
            for base in models:
                allowed = [t for t in candidates
                           if all(sub in base for sub in itertools.combinations(t, order - 1))]
                for k in range(len(allowed) + 1):
                    for extra in itertools.combinations(allowed, k):
                        grown.append(base | frozenset(extra))
            models = grown
        total += len(models)
        if total > MAX_MODELS:
            raise TooManyModelsError(f"more than {MAX_MODELS} hierarchical models of order {max_order} "
                                f"on {n_lists} lists; lower --max-order")
        for m in models:
            row = np.zeros(len(d.terms), dtype=bool)
            row[[d.index[t] for t in m]] = True
            rows.append(row)
    return np.array(rows)


def _masks_to_int(rows: npt.NDArray[np.bool_]) -> list[int]:
    weights = [1 << k for k in range(rows.shape[1])]
    return [sum(w for w, b in zip(weights, r, strict=True) if b) for r in rows]


def _valid_models(
    d: Design, counts: IntArray, models: npt.NDArray[np.bool_], checker: Checker
) -> tuple[BoolArray, dict[Check, int]]:
    """Which models pass both checks, using monotonicity to avoid most linear programs."""
    empty = (counts @ d.term_cells) == 0
    inf_part = models & empty
    fin_part = models & ~empty
    valid = np.zeros(len(models), dtype=bool)
    failed: dict[Check, int] = {}
    groups: dict[bytes, list[int]] = {}
    for i, row in enumerate(inf_part):
        groups.setdefault(row.tobytes(), []).append(i)
    for members in groups.values():
        inf_terms = tuple(t for t, m in zip(d.terms, inf_part[members[0]], strict=True) if m)
        keep = kept_cells(d, inf_terms)
        top = fin_part[members].any(axis=0)
        top_terms = tuple(t for t, m in zip(d.terms, top, strict=True) if m)
        all_exist = checker.exists_with(counts, keep, top_terms)
        all_rank = checker.full_rank_with(keep, inf_terms, top_terms)
        if all_exist and all_rank:
            valid[members] = True
            continue
        order = sorted(members, key=lambda i: -int(fin_part[i].sum()))
        ints = dict(zip(order, _masks_to_int(fin_part[order]), strict=True))
        exist_known: list[int] = []
        fail_known: list[int] = []
        for i in order:
            terms = tuple(t for t, m in zip(d.terms, fin_part[i], strict=True) if m)
            status = Check.OK
            if not all_exist:
                m = ints[i]
                if any(m & e == m for e in exist_known):
                    exists = True
                elif any(f & m == f for f in fail_known):
                    exists = False
                else:
                    exists = checker.exists_with(counts, keep, terms)
                    (exist_known if exists else fail_known).append(m)
                if not exists:
                    status |= Check.NO_ESTIMATE
            if not all_rank and not checker.full_rank_with(keep, inf_terms, terms):
                status |= Check.NOT_IDENTIFIABLE
            if status == Check.OK:
                valid[i] = True
            else:
                failed[status] = failed.get(status, 0) + 1
    return valid, failed


def batch_fit(x: FloatArray, y: FloatArray, masks: BoolArray) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Newton iterations for many column subsets of one design at once.

    ``masks[b]`` selects the columns of model ``b``; unused columns get a unit
    diagonal so every system is solvable. Returns coefficients (zero where
    masked), fitted means and a converged flag per model.
    """
    mf = masks.astype(np.float64)
    mu0 = y + 0.1
    z = np.log(mu0) + (y - mu0) / mu0
    xw = x * mu0[:, None]
    pad = np.eye(x.shape[1])[None] * (1 - mf)[:, :, None]
    info0 = (xw.T @ x)[None] * mf[:, :, None] * mf[:, None, :] + pad
    beta = np.linalg.solve(info0, ((xw.T @ z)[None] * mf)[..., None])[..., 0]
    converged = np.zeros(len(masks), dtype=bool)
    xt = x.T
    for _ in range(40):
        eta = np.minimum(beta @ xt, MAX_ETA)
        mu = np.exp(eta)
        info = np.einsum("bc,cp,cq->bpq", mu, x, x, optimize=True)
        info = info * mf[:, :, None] * mf[:, None, :] + pad
        grad = ((y[None] - mu) @ x) * mf
        step = np.linalg.solve(info, grad[..., None])[..., 0]
        beta = beta + step
        converged = np.abs(step).max(axis=1) < 1e-9
        if converged.all():
            break
    mu = np.exp(np.minimum(beta @ xt, MAX_ETA))
    return (np.asarray(beta, dtype=np.float64), np.asarray(mu, dtype=np.float64),
            np.asarray(converged, dtype=bool))


def select_bic(
    d: Design,
    counts: IntArray,
    max_order: int = 2,
    top: int = DEFAULT_TOP,
    checker: Checker | None = None,
) -> BicResult:
    """Fit every hierarchical model up to ``max_order`` and rank them by BIC."""
    checker = checker or Checker(d)
    models = hierarchical_models(d.n_lists, max_order)
    n_terms = models.shape[1]
    if d.max_order < max_order or len(d.terms) < n_terms:
        raise ValueError("design order is lower than the requested max_order")
    models_full = np.zeros((len(models), len(d.terms)), dtype=bool)
    models_full[:, :n_terms] = models
    observed = int(counts.sum())
    valid, failed = _valid_models(d, counts, models_full, checker)
    empty = (counts @ d.term_cells) == 0
    empty_lists = (counts @ d.cells) == 0
    bic = np.full(len(models_full), np.inf)
    estimate = np.full(len(models_full), np.nan)
    deviance = np.full(len(models_full), np.nan)
    n_par = np.zeros(len(models_full), dtype=np.int64)
    idx_valid = np.flatnonzero(valid)
    groups: dict[bytes, list[int]] = {}
    for i in idx_valid:
        groups.setdefault((models_full[i] & empty).tobytes(), []).append(int(i))
    p = 1 + d.n_lists + len(d.terms)
    for members_list in groups.values():
        members = np.array(members_list)
        inf_terms = tuple(t for t, m in zip(d.terms, models_full[members[0]] & empty, strict=True) if m)
        keep = kept_cells(d, inf_terms, tuple(int(i) for i in np.flatnonzero(empty_lists)))
        x = d.full[keep]
        y = counts[keep].astype(np.float64)
        ylogy_const = float(np.sum(gammaln(y + 1.0)))
        col_masks = np.zeros((len(members), p), dtype=bool)
        col_masks[:, 0] = True
        col_masks[:, 1 : 1 + d.n_lists] = ~empty_lists
        col_masks[:, 1 + d.n_lists :] = models_full[members] & ~empty
        for start in range(0, len(members), BATCH):
            sl = slice(start, start + BATCH)
            beta, mu, ok = batch_fit(x, y, col_masks[sl])
            ids = members[sl]
            loglik = (y[None] * np.log(mu) - mu).sum(axis=1) - ylogy_const
            ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
            dev = 2.0 * (ylogy[None] - y[None] * np.log(mu) - (y[None] - mu)).sum(axis=1)
            npar = col_masks[sl].sum(axis=1) + len(inf_terms) + int(empty_lists.sum())
            bic[ids] = np.where(ok, -2.0 * loglik + math.log(observed) * npar, np.inf)
            estimate[ids] = observed + np.exp(beta[:, 0])
            deviance[ids] = dev
            n_par[ids] = npar
            for b in np.flatnonzero(~ok):  # rare: refit with step halving
                f = fit_model(d, counts, _terms(d, models_full[ids[b]]))
                bic[ids[b]] = f.bic(observed)
                estimate[ids[b]] = observed + f.dark
                deviance[ids[b]] = f.deviance
    if not np.isfinite(bic).any():
        return _main_effects_fallback(d, counts, len(models_full), failed)
    finite = np.isfinite(bic)
    rel = np.where(finite, np.exp(-(bic - bic[finite].min()) / 2.0), 0.0)
    weights = rel / rel.sum()
    order = np.argsort(bic, kind="stable")[: max(1, top)]
    ranked = tuple(
        RankedModel(
            terms=_terms(d, models_full[i]),
            infinite=_terms(d, models_full[i] & empty),
            estimate=float(estimate[i]),
            bic=float(bic[i]),
            deviance=float(deviance[i]),
            n_parameters=int(n_par[i]),
            weight=float(weights[i]),
        )
        for i in order
        if np.isfinite(bic[i])
    )
    best = fit_model(d, counts, ranked[0].terms)
    return BicResult(best=best, top=ranked, n_models=len(models_full), failed=failed)


def _main_effects_fallback(d: Design, counts: IntArray, n_models: int, failed: dict[Check, int]) -> BicResult:
    """The main-effects model, when no model passes the checks (typically a list with no one on it).

    R's MultipleSystemsEstimation returns the main-effects model here, and so
    does tipsom's own stepwise selection (it starts from main effects and adds
    nothing), so the three agree instead of BIC alone refusing the table.
    """
    fit = fit_model(d, counts, ())
    observed = int(counts.sum())
    main = RankedModel(terms=(), infinite=(), estimate=observed + fit.dark, bic=fit.bic(observed),
                       deviance=fit.deviance, n_parameters=1 + d.n_lists, weight=1.0)
    return BicResult(best=fit, top=(main,), n_models=n_models, failed=failed)


def _terms(d: Design, row: BoolArray) -> tuple[Term, ...]:
    return tuple(t for t, m in zip(d.terms, row, strict=True) if m)
