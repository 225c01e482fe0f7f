"""Bayesian latent-class population estimation (LCMCR, Manrique-Vallier 2016).

Log-linear models explain dependence between lists with interaction terms.
A different source of dependence is *heterogeneity*: some victims (say, those
in domestic servitude) are hard for every agency to reach, others (visible in
sexual exploitation) are easy for all of them. Pooled together, these groups
make lists look positively dependent and an independence model undercounts
the hidden part. LCMCR models the population as a mixture of latent classes;
within a class lists are independent, each with its own capture probability.
The number of classes is not fixed: a truncated Dirichlet-process
(stick-breaking) prior lets the data use as many of ``K`` classes as they need.

Gibbs sampler, one sweep (all steps work on the ``2**t - 1`` cell counts and
``K`` classes at once, never on individual people):

1. split the people of each observed capture history among the classes
   (a multinomial per history, with the posterior class probabilities);
2. draw the number never captured, ``n0``, from its negative binomial full
   conditional given ``pi0``, the probability of being on no list (with the
   prior ``p(N)`` proportional to ``1/N`` this is exact);
3. split the ``n0`` unseen people among the classes;
4. capture probabilities ``lambda[j, k] ~ Beta(1 + caught, 1 + missed)``;
5. stick-breaking weights ``V[k] ~ Beta(1 + n_k, alpha + n_{>k})``, ``V[K] = 1``;
6. concentration ``alpha ~ Gamma(a + K - 1, b - sum log(1 - V[k]))``.

These are the full conditionals of the R package's C++ sampler, in the same
cycle (R draws ``lambda`` and ``V`` before ``n0`` within a sweep, which is the
same chain shifted by half a sweep). Between steps 3 and 4 a few
Metropolis-Hastings proposals swap the people of one history between two
classes (:func:`tipsom.estimate.gibbs._swap`): they leave the posterior as it
is and let a chain leave a minor mode that the Gibbs steps alone leave only
after tens of thousands of sweeps.

Several chains with different random starts are run so that convergence can be
checked with the rank-normalised split R-hat and the bulk effective sample size
of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), the diagnostics
Stan and ArviZ report.
"""

from __future__ import annotations

import enum
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import norm, rankdata

from tipsom.core.errors import InputError
from tipsom.estimate.intervals import Interval, default_workers
from tipsom.estimate.loglinear import FloatArray, IntArray
from tipsom.estimate.table import CaptureTable, refuse_disjoint, require_lists

#: With two lists there are three observable cells and nothing to tell classes apart; with three, a latent
#: class model is identified only by its prior (Allman, Matias and Rhodes 2009 need t >= 2 log2(K) + 1
#: lists for K generic classes), so three lists run with a warning and fewer are refused.
MIN_LISTS = 3
#: Most lists: the sampler works on observed histories only, but the table of all ``2**t - 1`` cell counts
#: is built once (15 lists: 32,767 cells), and beyond that lists are better merged than sampled.
MAX_LISTS = 15
#: Below this many lists the estimate leans heavily on the prior (see :data:`MIN_LISTS`).
WELL_IDENTIFIED_LISTS = 5
#: Vehtari et al. (2021): use the draws only when the rank-normalised split R-hat is below 1.01 ...
RHAT_LIMIT = 1.01
#: ... and the bulk effective sample size is above 100 per chain (400 for their recommended four chains).
ESS_PER_CHAIN = 100.0
#: Share of draws in which observed people fill every class, above which the truncation ``K`` may be too small.
TRUNCATION_SHARE = 0.05
#: Chains shorter than this run one after the other: starting a process costs more than the sweeps.
PARALLEL_MIN_SWEEPS = 20_000
#: Sweeps between calls of the progress callback.
PROGRESS_EVERY = 1000


class LcmcrError(InputError):
    """Input or sampler settings that LCMCR cannot use, with the reason."""


class Convergence(enum.Enum):
    """Whether the chains agree well enough to report their draws."""

    CONVERGED = "converged"
    DOUBTFUL = "doubtful"


@dataclass(frozen=True)
class SamplerSettings:
    """Prior and MCMC settings; the defaults are those of the R package LCMCR's examples.

    ``lcmCR()`` itself defaults to ``K = 5``, but its documentation, the
    Biometrics paper and HRDAG's analyses use ``K = 10``: a generous truncation
    costs little because unused classes stay empty.
    """

    classes: int = 10
    burn_in: int = 10_000
    samples: int = 1_000
    thinning: int = 10
    chains: int = 2
    seed: int = 1234
    a_alpha: float = 0.25
    b_alpha: float = 0.25

    def __post_init__(self) -> None:
        if self.classes < 2:
            raise LcmcrError(f"classes (K) must be at least 2, got {self.classes}: one class is the independence "
                             "model (tipsom estimate mse --method main)")
        if self.burn_in < 0:
            raise LcmcrError(f"burn-in must be 0 or more iterations, got {self.burn_in}")
        if self.samples < 20:
            raise LcmcrError(f"samples must be at least 20 per chain to summarise the posterior, got {self.samples}")
        if self.thinning < 1:
            raise LcmcrError(f"thinning must be at least 1, got {self.thinning}")
        if self.chains < 1:
            raise LcmcrError(f"chains must be at least 1, got {self.chains}")
        if self.a_alpha <= 0 or self.b_alpha <= 0:
            raise LcmcrError(f"the Gamma prior of alpha needs positive shape and rate, got a={self.a_alpha}, "
                             f"b={self.b_alpha}")
        if self.seed < 0:
            raise LcmcrError(f"seed must be 0 or more, got {self.seed}")

    @property
    def iterations(self) -> int:
        """Sweeps per chain: burn-in plus one every ``thinning`` sweeps for each kept sample."""
        return self.burn_in + self.samples * self.thinning


def _rank_normalise(draws: FloatArray) -> FloatArray:
    """Normal scores of the pooled ranks (Blom's offsets), robust to N's heavy right tail."""
    ranks = rankdata(draws, method="average").reshape(draws.shape)
    return np.asarray(norm.ppf((ranks - 0.375) / (draws.size + 0.25)), dtype=np.float64)


def _split(draws: FloatArray) -> FloatArray:
    """Each chain cut into its first and second half, so a drifting chain disagrees with itself."""
    half = draws.shape[1] // 2
    return np.concatenate((draws[:, :half], draws[:, draws.shape[1] - half:]))


def split_rhat(draws: npt.NDArray[Any]) -> float:
    """Rank-normalised split R-hat of ``chains x draws``: about 1 when the chains agree."""
    z = _split(_rank_normalise(np.asarray(draws, dtype=np.float64)))
    n = z.shape[1]
    within = float(z.var(axis=1, ddof=1).mean())
    if within == 0.0:
        return 1.0  # every draw identical: the chains trivially agree
    between = n * float(z.mean(axis=1).var(ddof=1))
    return math.sqrt(((n - 1) / n * within + between / n) / within)


def _autocovariance(chains: FloatArray) -> FloatArray:
    """Autocovariance of each chain at every lag, by FFT (biased, divided by the length)."""
    n = chains.shape[1]
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n]
    return np.asarray(acov / n, dtype=np.float64)


def bulk_ess(draws: npt.NDArray[Any]) -> float:
    """Bulk effective sample size of ``chains x draws`` (Geyer's initial monotone sequence).

    How many independent draws the autocorrelated chains are worth for the
    centre of the posterior; the Monte Carlo error of the median scales with
    ``1 / sqrt(ess)``.
    """
    z = _split(_rank_normalise(np.asarray(draws, dtype=np.float64)))
    m, n = z.shape
    acov = _autocovariance(z)
    within = float((acov[:, 0] * n / (n - 1)).mean())
    if within == 0.0:
        return float(m * n)
    var_plus = within * (n - 1) / n + float(z.mean(axis=1).var(ddof=1))
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    pairs = rho[: n - n % 2].reshape(-1, 2).sum(axis=1)
    positive = np.flatnonzero(pairs <= 0)
    pairs = pairs[: positive[0]] if positive.size else pairs
    pairs = np.minimum.accumulate(pairs)
    tau = max(-1.0 + 2.0 * float(pairs.sum()), 1.0 / math.log10(m * n))
    return float(m * n / tau)


@dataclass(frozen=True)
class Posterior:
    """Posterior draws of the total population with their summary and convergence checks.

    The point estimate is the posterior **median**: the posterior of ``N`` is
    skewed to the right, so the mean is pulled up by rare very large draws and
    moves between runs, while the median is stable, sits inside the credible
    interval's bulk, and is what LCMCR analyses (HRDAG, Silverman 2020) report.
    The mean is given as well.
    """

    table: CaptureTable
    settings: SamplerSettings
    level: float
    #: ``chains x samples`` draws of the total population ``N``.
    draws: IntArray
    #: Draws of the Dirichlet-process concentration ``alpha``.
    alpha: FloatArray
    #: Number of classes with observed members at each draw.
    occupied: IntArray
    rhat: float
    ess: float
    warnings: tuple[str, ...] = ()

    @property
    def observed(self) -> int:
        return self.table.observed

    @property
    def total(self) -> float:
        """Posterior median of the total population (seen and unseen)."""
        return float(np.median(self.draws))

    @property
    def mean(self) -> float:
        return float(self.draws.mean())

    @property
    def dark(self) -> float:
        return self.total - self.observed

    @property
    def interval(self) -> Interval:
        """Equal-tailed credible interval: the central ``level`` share of the draws."""
        low, high = np.quantile(self.draws, [(1 - self.level) / 2, (1 + self.level) / 2])
        return Interval(float(low), float(high), self.level)

    @property
    def chain_medians(self) -> list[float]:
        """Each chain's own median: when R-hat is high these show whether chains sit in different modes."""
        return [float(m) for m in np.median(self.draws, axis=1)]

    @property
    def ess_limit(self) -> float:
        return ESS_PER_CHAIN * self.settings.chains

    @property
    def convergence(self) -> Convergence:
        ok = self.rhat < RHAT_LIMIT and self.ess > self.ess_limit
        return Convergence.CONVERGED if ok else Convergence.DOUBTFUL

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``tipsom estimate lcmcr --json``: the ``mse`` shape plus sampler details."""
        ci = self.interval
        s = self.settings
        out: dict[str, Any] = {
            "observed": self.observed,
            "estimate": self.total,
            "interval": {"method": "posterior", "low": ci.low, "high": ci.high, "level": ci.level},
            "model": [],
            "lists": list(self.table.lists),
            "selection": "lcmcr",
            "dark_figure": self.dark,
            "posterior": {"point": "median", "median": self.total, "mean": round(self.mean, 3),
                          "alpha_median": round(float(np.median(self.alpha)), 4),
                          "classes_with_observed_median": float(np.median(self.occupied))},
            "sampler": {"classes": s.classes, "burn_in": s.burn_in, "samples": s.samples, "thinning": s.thinning,
                        "chains": s.chains, "seed": s.seed, "a_alpha": s.a_alpha, "b_alpha": s.b_alpha},
            "convergence": {"status": self.convergence.value, "rhat": round(self.rhat, 4),
                            "ess": round(self.ess, 1), "rhat_limit": RHAT_LIMIT, "ess_limit": self.ess_limit,
                            "chain_medians": self.chain_medians},
        }
        if self.table.stratum:
            out["stratum"] = dict(self.table.stratum)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def _notes(table: CaptureTable, settings: SamplerSettings, rhat: float, ess: float,
           occupied: IntArray) -> tuple[str, ...]:
    notes = []
    if table.n_lists < WELL_IDENTIFIED_LISTS:
        notes.append(f"only {table.n_lists} lists: a latent-class model is weakly identified with fewer than "
                     f"{WELL_IDENTIFIED_LISTS}, so the estimate depends strongly on the prior; compare with the "
                     "log-linear estimates")
    if rhat >= RHAT_LIMIT:
        notes.append(f"chains disagree (split R-hat {rhat:.3f} >= {RHAT_LIMIT}): the sampler has not converged; "
                     "increase --burn-in and --samples")
    limit = ESS_PER_CHAIN * settings.chains
    if ess <= limit:
        notes.append(f"effective sample size of N is only {ess:.0f} (want > {limit:.0f}): the median and "
                     "interval are imprecise; increase --samples or --thinning")
    full = float(np.mean(occupied >= settings.classes))
    if full > TRUNCATION_SHARE:
        notes.append(f"observed people fill all {settings.classes} latent classes in {full:.0%} of draws: the "
                     "truncation may be too small; increase --classes")
    return tuple(notes)


def lcmcr(table: CaptureTable, settings: SamplerSettings | None = None, *, level: float = 0.95,
          progress: Callable[[int], None] | None = None, workers: int | None = None) -> Posterior:
    """Run the LCMCR Gibbs sampler on ``table`` and summarise the posterior of the total population.

    Chains get independent seeds spawned from ``settings.seed``, so the same
    seed and settings always give the same draws, whether the chains run one
    after the other or in parallel processes (``workers``, by default up to
    two: the cores of the machines tipsom is sized for). ``progress`` is
    called with the number of sweeps done so far (all chains): every
    :data:`PROGRESS_EVERY` sweeps in one process, as each chain ends otherwise.
    """
    settings = settings or SamplerSettings()
    if table.n_lists < MIN_LISTS:
        raise LcmcrError(f"{table.source}: LCMCR needs at least {MIN_LISTS} lists, got {table.n_lists}: with two "
                         "lists no model can tell heterogeneity from the size of the population")
    if not 0 < level < 1:
        raise LcmcrError(f"level must be between 0 and 1, got {level}")
    require_lists(table, "LCMCR", MAX_LISTS)
    refuse_disjoint(table, "LCMCR")
    counts = table.cell_counts()
    cells = np.flatnonzero(counts)
    bits = (((cells[:, None] + 1) >> np.arange(table.n_lists)) & 1).astype(np.int64)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(settings.seed).spawn(settings.chains)]
    task = _ChainTask(bits, counts[cells], settings)
    report = progress or (lambda _done: None)
    from tipsom.estimate import gibbs

    gibbs.warm_up()  # compiled (or loaded from the disk cache) here once, so forked chains inherit the code
    n_workers = min(settings.chains, default_workers() if workers is None else workers)
    if n_workers <= 1 or settings.iterations < PARALLEL_MIN_SWEEPS:
        results = [task.run(s, report, c * settings.iterations) for c, s in enumerate(seeds)]
    else:
        results = _parallel(task, seeds, n_workers, report)
    report(settings.chains * settings.iterations)
    draws = np.stack([r[0] for r in results])
    alpha = np.stack([r[1] for r in results])
    occupied = np.stack([r[2] for r in results])
    rhat = split_rhat(draws)  # with one chain this still compares its two halves (drift, not multimodality)
    ess = bulk_ess(draws)
    return Posterior(table, settings, level, draws, alpha, occupied, rhat, ess,
                     _notes(table, settings, rhat, ess, occupied))


ChainDraws = tuple[IntArray, FloatArray, IntArray]


@dataclass(frozen=True)
class _ChainTask:
    """One chain's inputs, picklable so that chains can run in separate processes."""

    bits: IntArray
    counts: IntArray
    settings: SamplerSettings

    def run(self, chain_seed: int, progress: Callable[[int], None] | None = None, done: int = 0) -> ChainDraws:
        """Burn in, then keep ``samples`` draws ``thinning`` sweeps apart; progress every block of sweeps."""
        from tipsom.estimate import gibbs

        s = self.settings
        report = progress or (lambda _done: None)
        gibbs.seed(chain_seed)
        alpha = s.a_alpha / s.b_alpha
        capture, log_weights = gibbs.start(self.bits.shape[1], s.classes, alpha)
        state = np.array([alpha])
        scratch = (np.empty(PROGRESS_EVERY, dtype=np.int64), np.empty(PROGRESS_EVERY),
                   np.empty(PROGRESS_EVERY, dtype=np.int64))
        for first in range(0, s.burn_in, PROGRESS_EVERY):
            block = min(PROGRESS_EVERY, s.burn_in - first)
            gibbs.advance(self.bits, self.counts, capture, log_weights, state, s.a_alpha, s.b_alpha, block, 1,
                          *scratch)
            report(done + first + block)
        draws = np.empty(s.samples, dtype=np.int64)
        alphas = np.empty(s.samples)
        occupied = np.empty(s.samples, dtype=np.int64)
        per_block = max(1, PROGRESS_EVERY // s.thinning)
        for first in range(0, s.samples, per_block):
            last = min(s.samples, first + per_block)
            gibbs.advance(self.bits, self.counts, capture, log_weights, state, s.a_alpha, s.b_alpha, last - first,
                          s.thinning, draws[first:last], alphas[first:last], occupied[first:last])
            report(done + s.burn_in + last * s.thinning)
        return draws, alphas, occupied


def _parallel(task: _ChainTask, seeds: list[int], workers: int, report: Callable[[int], None]) -> list[ChainDraws]:
    """Chains in separate processes; progress moves as each chain finishes (workers cannot call back)."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    results: dict[int, ChainDraws] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
        futures = {pool.submit(task.run, s): c for c, s in enumerate(seeds)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            report(len(results) * task.settings.iterations)
    return [results[c] for c in range(len(seeds))]
