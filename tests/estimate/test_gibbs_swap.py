"""The LCMCR swap move leaves the posterior of the class assignments unchanged.

On a table small enough to enumerate, the chain made of swap proposals alone
must visit each reachable assignment as often as the exact conditional says:
the weights held fixed, the capture probabilities integrated out.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import betaln

from tipsom.estimate import gibbs

#: Three histories over two lists, then the unseen (last row, on no list).
BITS = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int64)
#: People of each history (and of the unseen) in class 0 and class 1 at the start.
START = np.array([[3, 1], [0, 2], [2, 0], [4, 1]], dtype=np.int64)
LOG_WEIGHTS = np.log(np.array([0.7, 0.3]))


def _counts(split: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = split.sum(axis=0)
    caught = BITS.T @ split[: len(BITS)]
    return size.astype(np.int64), caught.astype(np.int64)


def _log_target(split: np.ndarray) -> float:
    """Log of p(assignments | weights), capture probabilities under Beta(1, 1) integrated out."""
    size, caught = _counts(split)
    return float(size @ LOG_WEIGHTS + betaln(1 + caught, 1 + size - caught).sum())


def _flips(split: np.ndarray) -> tuple[bool, ...]:
    return tuple(bool(row[0] != start[0]) for row, start in zip(split, START, strict=True))


def test_swaps_alone_visit_assignments_in_proportion_to_the_exact_conditional() -> None:
    # Every history holds different numbers in the two classes, so each swap that is accepted flips one row;
    # the reachable assignments are the 16 ways of flipping rows, and both classes stay occupied in all.
    states = list(itertools.product((False, True), repeat=len(START)))
    exact = np.array([_log_target(np.where(np.array(s)[:, None], START[:, ::-1], START)) for s in states])
    exact = np.exp(exact - exact.max())
    exact /= exact.sum()
    assert exact.max() > 4 * exact.min(), "the check needs a target far from uniform"

    gibbs.seed(7)
    split = START.copy()
    size, caught = _counts(split)
    scratch = np.empty(2, dtype=np.int64)
    visits = dict.fromkeys(states, 0)
    steps = 40_000
    for _ in range(steps):
        gibbs._swap(BITS, LOG_WEIGHTS, split, size, caught, scratch)
        visits[_flips(split)] += 1
    # the move keeps its bookkeeping: sizes and catches follow the people moved
    expected_size, expected_caught = _counts(split)
    np.testing.assert_array_equal(size, expected_size)
    np.testing.assert_array_equal(caught, expected_caught)
    seen = np.array([visits[s] for s in states]) / steps
    assert 0.5 * np.abs(seen - exact).sum() < 0.03, (seen.round(3), exact.round(3))
