"""Simulated capture tables with a known total, to check methods before trusting them.

A population of known size ``N`` is spread over all ``2**t`` capture
histories by a log-linear model (main effects from capture probabilities,
plus chosen pairwise interactions); the all-zero cell is hidden. Coverage
studies (how often a 95% interval contains ``N``) run on these tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tipsom.estimate.loglinear import Term
from tipsom.estimate.table import CaptureTable


def cell_probabilities(
    capture: Sequence[float], interactions: Mapping[Term, float] | None = None
) -> np.ndarray:
    """Probabilities of all ``2**t`` histories (index = history code, 0 = on no list)."""
    t = len(capture)
    codes = np.arange(1 << t)
    bits = (codes[:, None] >> np.arange(t)) & 1
    p = np.asarray(capture, dtype=np.float64)
    log = bits @ np.log(p) + (1 - bits) @ np.log1p(-p)
    for term, effect in (interactions or {}).items():
        log = log + effect * bits[:, list(term)].all(axis=1)
    weights = np.exp(log)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def simulate(
    population: int,
    capture: Sequence[float],
    interactions: Mapping[Term, float] | None = None,
    seed: int = 0,
    lists: Sequence[str] | None = None,
) -> CaptureTable:
    """One capture table drawn from a population of exactly ``population`` people."""
    rng = np.random.default_rng(seed)
    probs = cell_probabilities(capture, interactions)
    counts = rng.multinomial(population, probs)
    t = len(capture)
    names = tuple(lists or [chr(ord("A") + i) for i in range(t)])
    rows = [(tuple((code >> i) & 1 for i in range(t)), int(counts[code])) for code in range(1, 1 << t)]
    return CaptureTable.from_histories(names, rows, source=f"simulated N={population} seed={seed}")


def simulate_latent_classes(
    population: int,
    shares: Sequence[float],
    capture: Sequence[Sequence[float]],
    seed: int = 0,
    lists: Sequence[str] | None = None,
) -> CaptureTable:
    """A capture table from a population of latent classes with class-specific capture probabilities.

    ``shares[k]`` is the expected share of class ``k`` and ``capture[k][j]``
    the probability that list ``j`` finds a member of class ``k``; within a
    class lists are independent. A small hard-to-reach class makes the lists
    look positively dependent overall, which is the heterogeneity that
    independence models underestimate and latent-class models (LCMCR) are for.
    """
    if len(shares) != len(capture) or not shares:
        raise ValueError(f"need one capture-probability row per class: {len(shares)} shares, "
                         f"{len(capture)} rows")
    widths = {len(row) for row in capture}
    if len(widths) != 1:
        raise ValueError(f"every class needs a capture probability for each list, got rows of lengths {widths}")
    weights = np.asarray(shares, dtype=np.float64)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"class shares must be non-negative and not all 0, got {list(shares)}")
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(population, weights / weights.sum())
    t = widths.pop()
    counts = np.zeros(1 << t, dtype=np.int64)
    for size, row in zip(sizes, capture, strict=True):
        counts += rng.multinomial(int(size), cell_probabilities(row))
    names = tuple(lists or [chr(ord("A") + i) for i in range(t)])
    rows = [(tuple((code >> i) & 1 for i in range(t)), int(counts[code])) for code in range(1, 1 << t)]
    return CaptureTable.from_histories(names, rows, source=f"simulated latent classes N={population} seed={seed}")
