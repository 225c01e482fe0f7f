"""Bayesian model averaging over decomposable graphical models (Madigan and York 1997; R package ``dga``).

Stepwise and BIC choose one log-linear model and report its estimate as if the
choice were certain. Madigan and York instead average over every model of a
tractable family, weighting each by its posterior probability, so the interval
carries the uncertainty about which lists depend on which.

The family is the *decomposable* graphical models: lists are vertices, an edge
says two lists are dependent given the others, and the graph is chordal. For
such a graph the complete ``2**t`` table (the unobserved cell included) with a
hyper-Dirichlet prior has a closed-form marginal likelihood: a product over the
graph's cliques of Dirichlet-multinomial terms on the clique margins, divided
by the same terms on the separators. For every graph and every number of
unseen people ``n0`` on a grid, tipsom computes

    log p(G, n0 | data) = log p(N) + log N! - log n0! + sum_C f(C; n0) - sum_S f(S; n0) + const

with ``N = observed + n0``, ``f(A)`` the Dirichlet-multinomial log probability
of the margin on lists ``A`` whose cells have prior weight ``delta`` times the
number of full cells they add up, a uniform prior over graphs and the prior on
``N`` either proportional to ``1/N`` (``lambda``, the ``dga`` package's
default, Jeffreys-like) or flat. Normalising over graphs and ``n0`` gives the
posterior model probabilities and the posterior of ``N``.

Each ``f(A)`` depends on the graph only through ``A``, so it is computed once
per subset of lists (32 for five lists) as a vector over the grid, and each of
the 822 decomposable graphs on five lists costs a few vector additions.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tipsom.core.errors import ConfigError, InputError
from tipsom.estimate.intervals import Interval
from tipsom.estimate.loglinear import FloatArray, IntArray
from tipsom.estimate.table import CaptureTable, refuse_disjoint, require_lists

#: Model averaging here covers 3 to 5 lists, as the ``dga`` package does (6 lists: 18,154 graphs, each with
#: margins of up to 64 cells; merge lists instead).
MIN_LISTS = 3
MAX_LISTS = 5
#: The grid of unseen people first reaches this many times the observed count, and is doubled while the
#: posterior at its end is still above :data:`TAIL` of its peak.
GRID_FACTOR = 20
TAIL = 1e-9
#: Grids never reach further than this (beyond it the data say too little about ``N`` to be worth reporting).
MAX_GRID = 5_000_000
#: Every ``n0`` up to this is on the grid; beyond, points are spaced geometrically (:data:`GRID_POINTS` of them),
#: each standing for the integers around it: the posterior is smooth there, and 20 times fewer points keep
#: five lists (822 graphs) at about a second.
DENSE = 2_000
GRID_POINTS = 10_000
#: Models listed in the result.
TOP_MODELS = 5


class DgaError(InputError):
    """A table the model averaging cannot use."""


class PriorN(enum.Enum):
    """Prior on the population size."""

    #: ``p(N)`` proportional to ``1/N``: the ``dga`` package's ``lambda`` default.
    LAMBDA = "lambda"
    #: Flat over the grid.
    UNIFORM = "uniform"


Graph = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class GraphModel:
    """A decomposable graph: its edges, maximal cliques and the separators of a junction tree."""

    edges: Graph
    cliques: tuple[tuple[int, ...], ...]
    separators: tuple[tuple[int, ...], ...]


def _is_chordal(n: int, edges: Graph) -> bool:
    """Chordal iff vertices can be removed one by one, each with its remaining neighbours forming a clique."""
    adj: dict[int, set[int]] = {v: set() for v in range(n)}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    left = set(range(n))
    while left:
        for v in sorted(left):
            nb = adj[v] & left
            if all(b in adj[a] for a, b in itertools.combinations(sorted(nb), 2)):
                left.remove(v)
                break
        else:
            return False
    return True


def _cliques(n: int, edges: Graph) -> list[tuple[int, ...]]:
    edge_set = set(edges)
    complete = [
        subset for size in range(1, n + 1) for subset in itertools.combinations(range(n), size)
        if all(pair in edge_set for pair in itertools.combinations(subset, 2))
    ]
    return [c for c in complete if not any(set(c) < set(d) for d in complete)]


def _separators(cliques: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Separators of a junction tree: a maximum-weight spanning tree of the cliques (weight: shared lists)."""
    joined = {0}
    seps: list[tuple[int, ...]] = []
    while len(joined) < len(cliques):
        best = max((len(set(cliques[i]) & set(cliques[j])), i, j) for i in joined
                   for j in range(len(cliques)) if j not in joined)
        _w, i, j = best
        seps.append(tuple(sorted(set(cliques[i]) & set(cliques[j]))))
        joined.add(j)
    return seps


def decomposable_graphs(n: int) -> list[GraphModel]:
    """Every decomposable graph on ``n`` labelled lists (3 lists: 8; 4: 61; 5: 822)."""
    pairs = list(itertools.combinations(range(n), 2))
    out = []
    for mask in range(1 << len(pairs)):
        edges = tuple(p for k, p in enumerate(pairs) if mask >> k & 1)
        if _is_chordal(n, edges):
            cliques = _cliques(n, edges)
            out.append(GraphModel(edges, tuple(cliques), tuple(_separators(cliques))))
    return out


def _margin_terms(counts: IntArray, n_lists: int, delta: float, n0: FloatArray) -> dict[tuple[int, ...], FloatArray]:
    """``f(A; n0)`` for every subset ``A`` of lists, as vectors over the grid ``n0``."""
    from scipy.special import gammaln

    full = np.zeros(1 << n_lists)
    full[1:] = counts
    codes = np.arange(1 << n_lists)
    total_prior = delta * (1 << n_lists)
    observed = float(counts.sum())
    base = gammaln(total_prior) - gammaln(total_prior + observed + n0)
    out: dict[tuple[int, ...], FloatArray] = {(): np.zeros_like(n0)}
    for size in range(1, n_lists + 1):
        for subset in itertools.combinations(range(n_lists), size):
            mask = sum(1 << i for i in subset)
            margin = np.bincount(codes & mask, weights=full, minlength=1 << n_lists)[
                np.unique(codes & mask)]
            cell_prior = delta * (1 << (n_lists - size))
            # the margin cell "on none of the lists in A" (index 0 after unique) also holds the n0 unseen
            fixed = float(np.sum(gammaln(margin[1:] + cell_prior)) - len(margin) * gammaln(cell_prior))
            out[subset] = base + fixed + gammaln(margin[0] + n0 + cell_prior)
    return out


@dataclass(frozen=True)
class WeightedModel:
    edges: tuple[str, ...]
    probability: float
    median: float


@dataclass(frozen=True)
class DgaPosterior:
    """Posterior of the total population averaged over decomposable graphs."""

    table: CaptureTable
    delta: float
    prior_n: PriorN
    level: float
    #: Grid of totals ``N`` and their posterior probabilities.
    totals: FloatArray
    probabilities: FloatArray
    models: tuple[WeightedModel, ...]
    n_models: int

    def quantile(self, q: float) -> float:
        cdf = np.cumsum(self.probabilities)
        return float(self.totals[min(int(np.searchsorted(cdf, q)), len(self.totals) - 1)])

    @property
    def observed(self) -> int:
        return self.table.observed

    @property
    def total(self) -> float:
        """Posterior median of ``N`` (the posterior is right-skewed, as LCMCR's)."""
        return self.quantile(0.5)

    @property
    def mean(self) -> float:
        return float(np.dot(self.totals, self.probabilities))

    @property
    def interval(self) -> Interval:
        return Interval(self.quantile((1 - self.level) / 2), self.quantile((1 + self.level) / 2), self.level)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``tipsom estimate dga --json``: the ``mse`` shape plus model weights."""
        ci = self.interval
        return {
            "observed": self.observed,
            "estimate": self.total,
            "interval": {"method": "posterior", "low": ci.low, "high": ci.high, "level": ci.level},
            "model": list(self.models[0].edges) if self.models else [],
            "lists": list(self.table.lists),
            "selection": "dga",
            "dark_figure": self.total - self.observed,
            "posterior": {"point": "median", "median": self.total, "mean": round(self.mean, 3)},
            "prior": {"delta": self.delta, "n": self.prior_n.value, "graphs": "uniform over decomposable graphs"},
            "models_averaged": self.n_models,
            "top_models": [{"edges": list(m.edges), "probability": round(m.probability, 6),
                            "median": m.median} for m in self.models],
        }


def _median_of(totals: FloatArray, log_post: FloatArray) -> float:
    w = np.exp(log_post - log_post.max())
    cdf = np.cumsum(w) / w.sum()
    return float(totals[min(int(np.searchsorted(cdf, 0.5)), len(totals) - 1)])


def dga(table: CaptureTable, *, delta: float | None = None, prior_n: PriorN = PriorN.LAMBDA,
        level: float = 0.95) -> DgaPosterior:
    """Average over every decomposable graphical model of ``table``'s lists; see the module text.

    ``delta`` is the hyper-Dirichlet weight of each full cell; by default
    ``2**-t``, one prior observation spread over the whole table.
    """
    if table.n_lists < MIN_LISTS:
        raise DgaError(f"{table.source}: model averaging over graphs needs at least {MIN_LISTS} lists, got "
                       f"{table.n_lists}")
    require_lists(table, "model averaging over decomposable graphs", MAX_LISTS)
    refuse_disjoint(table, "model averaging over decomposable graphs")
    d = 2.0 ** -table.n_lists if delta is None else delta
    if not math.isfinite(d) or d <= 0:
        raise ConfigError(f"--prior-delta must be a positive finite number, got {delta}")
    if not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1, got {level}")
    from scipy.special import gammaln

    counts = table.cell_counts()
    graphs = decomposable_graphs(table.n_lists)
    size = GRID_FACTOR * table.observed
    while True:
        n0, width = _grid(size)
        totals = table.observed + n0
        common = gammaln(totals + 1.0) - gammaln(n0 + 1.0)
        if prior_n is PriorN.LAMBDA:
            common -= np.log(totals)
        terms = _margin_terms(counts, table.n_lists, d, n0)
        log_model, marginal = _average(graphs, terms, common + np.log(width))
        if marginal[-1] <= TAIL * marginal.max() or size >= MAX_GRID:
            break
        size = min(2 * size, MAX_GRID)
    if marginal[-1] > TAIL * marginal.max():
        raise DgaError(f"{table.source}: the posterior of N does not vanish below {table.observed + MAX_GRID:,}: "
                       "the lists overlap too little for any decomposable model to bound the total")
    weight = np.exp(log_model - log_model.max())
    weight /= weight.sum()
    order = np.argsort(-weight, kind="stable")[:TOP_MODELS]
    names = table.lists
    models = tuple(WeightedModel(tuple(f"{names[a]}:{names[b]}" for a, b in graphs[i].edges), float(weight[i]),
                                 _median_of(totals, _log_posterior(graphs[i], terms, common + np.log(width))))
                   for i in order)
    return DgaPosterior(table, d, prior_n, level, totals, marginal / marginal.sum(), models, len(graphs))


def _grid(size: int) -> tuple[FloatArray, FloatArray]:
    """Values of ``n0`` from 0 to ``size`` and how many integers each stands for (they sum to ``size + 1``)."""
    dense = np.arange(min(size, DENSE) + 1, dtype=np.float64)
    if size <= DENSE:
        return dense, np.ones_like(dense)
    sparse = np.unique(np.round(np.geomspace(DENSE + 1, size, GRID_POINTS)))
    n0 = np.concatenate([dense, sparse])
    edges = np.concatenate([[-0.5], (n0[1:] + n0[:-1]) / 2.0, [size + 0.5]])
    return n0, np.diff(edges)


def _log_posterior(graph: GraphModel, terms: dict[tuple[int, ...], FloatArray], common: FloatArray) -> FloatArray:
    out = common.copy()
    for c in graph.cliques:
        out += terms[c]
    for s in graph.separators:
        out -= terms[s]
    return out


def _average(graphs: list[GraphModel], terms: dict[tuple[int, ...], FloatArray],
             common: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Log posterior weight of each graph and the (unnormalised) posterior of ``n0`` summed over graphs.

    Graphs are added one at a time on a common scale that is raised whenever
    a graph's peak exceeds it, so memory stays one grid long.
    """
    scale = -np.inf
    marginal = np.zeros_like(common)
    log_model = np.empty(len(graphs))
    for i, g in enumerate(graphs):
        lp = _log_posterior(g, terms, common)
        peak = float(lp.max())
        if peak > scale:
            marginal *= math.exp(scale - peak) if math.isfinite(scale) else 0.0
            scale = peak
        w = np.exp(lp - scale)
        marginal += w
        log_model[i] = scale + math.log(float(w.sum()))
    return log_model, marginal
