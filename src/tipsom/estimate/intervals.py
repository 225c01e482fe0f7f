"""Confidence intervals for the total population.

* **Wald**: normal on the log dark figure, ``n + exp(b0 +- z sd(b0))``, as
  SparseMSE's ``estimatepopulation.0``. Conditional on the selected model.
* **BCa bootstrap** (SparseMSE's ``estimatepopulation``, after DiCiccio and
  Efron 1996): resample the observed people multinomially, re-run the whole
  model selection in every replicate, correct the percentiles for bias (share
  of replicates below the estimate) and acceleration (a jackknife that removes
  one person from each capture history). This is the interval that accounts
  for model uncertainty, and the one the SparseMSE authors recommend. The
  replicates are drawn from R's random stream (:mod:`tipsom.estimate.rstream`)
  in the table's row order, so a seed gives the same interval as SparseMSE
  with ``iseed`` set to it.
* **Profile likelihood** (Rcapture's ``closedpCI.t``): the multinomial
  likelihood of the total ``N`` with the dark cell ``N - n`` added to the
  table, maximised over the model parameters for each ``N``. Conditional on
  the selected model; asymmetric, and better than Wald for small counts.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from tipsom.estimate.loglinear import Design, Fit, FloatArray, IntArray, newton_poisson
from tipsom.estimate.rstream import RStream

#: Replicates below this run in-process: starting workers costs more than it saves.
PARALLEL_MIN = 200


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float


def wald(fit: Fit, observed: int, level: float = 0.95) -> Interval:
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    sd = math.sqrt(fit.intercept_variance)
    b0 = float(fit.coef[0])
    return Interval(observed + math.exp(b0 - z * sd), observed + math.exp(b0 + z * sd), level)


# --------------------------------------------------------------------------- bootstrap

#: Computes the total population estimate from cell counts; must be picklable (module level).
Estimator = Callable[[IntArray], float]


@dataclass(frozen=True)
class Bootstrap:
    interval: Interval
    replicates: FloatArray
    acceleration: float
    bias_z0: float
    #: Replicates whose selection failed (no finite estimate); counted as +inf.
    failed: int


def _run_chunk(estimator: Estimator, block: IntArray) -> FloatArray:
    out = np.empty(len(block))
    for i, counts in enumerate(block):
        try:
            out[i] = estimator(counts)
        except (ArithmeticError, ValueError):
            out[i] = np.inf
    return out


def _map_estimates(estimator: Estimator, blocks: IntArray, workers: int) -> FloatArray:
    if workers <= 1 or len(blocks) < PARALLEL_MIN:
        return _run_chunk(estimator, blocks)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunks = np.array_split(blocks, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        parts = list(pool.map(_run_chunk, [estimator] * len(chunks), chunks))
    return np.concatenate(parts)


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def bca(
    estimator: Estimator,
    cell_counts: IntArray,
    point: float,
    *,
    row_cells: IntArray | None = None,
    replicates: int = 1000,
    seed: int = 1234,
    level: float = 0.95,
    workers: int | None = None,
) -> Bootstrap:
    """BCa interval with multinomial resampling of the observed people.

    ``row_cells`` lists the cell of each row of the input table in the order
    the user gave them (R draws the multinomial in that order); by default the
    observed cells in cell order. The replicate tables are drawn up front from
    ``seed``, so the result does not depend on how many worker processes share
    the work.
    """
    if row_cells is None:
        row_cells = np.flatnonzero(cell_counts > 0)
    row_counts = cell_counts[row_cells]
    n = int(row_counts.sum())
    stream = RStream(seed)
    row_weights = row_counts.astype(np.float64)
    blocks = np.zeros((replicates, len(cell_counts)), dtype=np.int64)
    for block in blocks:
        block[row_cells] = stream.rmultinom(n, row_weights)
    observed_cells = np.flatnonzero(cell_counts > 0)
    counts = cell_counts[observed_cells]
    jack_blocks = np.repeat(cell_counts[None], len(observed_cells), axis=0)
    jack_blocks[np.arange(len(observed_cells)), observed_cells] -= 1
    n_workers = default_workers() if workers is None else workers
    everything = _map_estimates(estimator, np.vstack([blocks, jack_blocks]), n_workers)
    boot, jack = everything[:replicates], everything[replicates:]
    weights = counts.astype(np.float64)
    finite_jack = np.where(np.isfinite(jack), jack, point)
    resid = float(np.sum(weights * finite_jack)) / n - finite_jack
    denom = 6.0 * float(np.sum(weights * resid**2)) ** 1.5
    accel = float(np.sum(weights * resid**3)) / denom if denom > 0 else 0.0
    low, high, z0 = bca_limits(boot, point, accel, level)
    return Bootstrap(Interval(low, high, level), boot, accel, z0, int(np.sum(~np.isfinite(boot))))


def bca_limits(boot: FloatArray, point: float, accel: float, level: float) -> tuple[float, float, float]:
    """SparseMSE's ``bcaconfvalues``: adjusted percentiles, R quantile type 8."""
    share_below = float(np.mean(boot < point))
    share_below = min(max(share_below, 0.5 / len(boot)), 1.0 - 0.5 / len(boot))
    # the standard normal from the standard library: scipy.stats alone takes longer to import than a fit
    normal = NormalDist()
    z0 = normal.inv_cdf(share_below)
    za = [normal.inv_cdf(a) + z0 for a in (0.5 - level / 2.0, 0.5 + level / 2.0)]
    probs = [normal.cdf(z0 + z / (1.0 - accel * z)) for z in za]
    finite = np.sort(np.where(np.isfinite(boot), boot, np.finfo(np.float64).max))
    low, high = np.quantile(finite, probs, method="median_unbiased")
    return float(low), float(high) if high < np.finfo(np.float64).max else math.inf, z0


# --------------------------------------------------------------------------- profile likelihood


@dataclass(frozen=True)
class Profile:
    interval: Interval
    #: Total population maximising the profile likelihood (close to, not equal to, the Poisson estimate).
    mode: float


def _profile_loglik(x: FloatArray, y: FloatArray, n0: float) -> float:
    """Multinomial profile log-likelihood of dark count ``n0`` (Rcapture's ``closedpCI.t``)."""
    yy = np.append(y, n0)
    _beta, _mu, _inv, dev, _it = newton_poisson(x, yy)
    total = float(yy.sum())
    correction = (n0 * math.log(n0) if n0 > 0 else 0.0) - total * math.log(total)
    correction += math.lgamma(total + 1.0) - math.lgamma(n0 + 1.0)
    return -dev / 2.0 + correction


def profile(d: Design, counts: IntArray, fit: Fit, level: float = 0.95) -> Profile:
    """Profile-likelihood interval for the total, for the model in ``fit``."""
    finite_terms = tuple(t for t in fit.terms if t not in fit.infinite)
    cols = d.columns(finite_terms)
    x_obs = d.full[np.ix_(fit.kept, cols)]
    dark_row = np.zeros((1, len(cols)))
    dark_row[0, 0] = 1.0
    x = np.vstack([x_obs, dark_row])
    y = counts[fit.kept].astype(np.float64)
    n = float(counts.sum())

    def ll(n0: float) -> float:
        return _profile_loglik(x, y, n0)

    from scipy.optimize import brentq, minimize_scalar

    guess = fit.dark
    hi_bracket = max(10.0 * guess, guess + 100.0)
    best = minimize_scalar(lambda v: -ll(v), bounds=(0.0, hi_bracket), method="bounded",
                           options={"xatol": 1e-6 * max(1.0, guess)})
    n0_hat = float(best.x)
    # the chi-square quantile with one degree of freedom is the squared normal quantile
    target = -float(best.fun) - NormalDist().inv_cdf(0.5 + level / 2.0) ** 2 / 2.0

    def gap(v: float) -> float:
        return ll(v) - target

    low = n if gap(0.0) > 0 else n + brentq(gap, 0.0, n0_hat, xtol=1e-6)
    upper = max(2.0 * n0_hat, n0_hat + 10.0)
    while gap(upper) > 0:
        upper *= 2.0
        if upper > 1e12:
            return Profile(Interval(low, math.inf, level), n + n0_hat)
    high = n + brentq(gap, n0_hat, upper, xtol=1e-6)
    return Profile(Interval(low, high, level), n + n0_hat)
