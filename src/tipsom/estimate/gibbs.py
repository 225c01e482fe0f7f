"""The LCMCR Gibbs sweep, compiled to machine code with numba.

The sweep works on a few dozen cell counts and ``K`` classes, so in numpy
nearly all of its time went to calling small array functions (7.8 s for the
110,000 sweeps of the R help-page example, against 1.4 s for R's C++). Written
as plain loops and compiled, it does the same arithmetic without that overhead.
Compiled code is cached on disk (``cache=True``), so only the first run on a
machine pays for compiling; :func:`warm_up` lets the benchmark show that cost.

Random numbers come from numba's own generator (numpy's legacy Mersenne
Twister algorithms, one state per process), seeded at the start of every
chain, so a chain's draws depend only on its seed, not on which process runs
it or what ran before.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tipsom.estimate.loglinear import FloatArray, IntArray

#: Capture probabilities and stick-breaking fractions are kept this far from 0 and 1 so logs stay finite.
FLOOR = 1e-12


@njit(cache=True)
def seed(value: int) -> None:
    """Seed numba's generator in this process (numpy's own ``np.random.seed`` does not reach it)."""
    np.random.seed(value)


@njit(cache=True)
def _bounded(p: float) -> float:
    return min(max(p, FLOOR), 1.0 - FLOOR)


#: Below this many people a multinomial is drawn one person at a time (a uniform and a search over the
#: classes, ~30 ns each) rather than by one binomial per class (~130 ns each, whatever the count).
PER_PERSON = 40


@njit(cache=True)
def _multinomial(n: int, weights: FloatArray, out: IntArray) -> None:
    """``n`` draws over the categories in proportion to ``weights``.

    Large ``n``: successive binomials, as numpy does. Small ``n``: each
    person's category drawn by inverting the cumulative weights.
    """
    last = len(weights) - 1
    rest = weights.sum()
    if n < PER_PERSON:
        out[:] = 0
        for _ in range(n):
            u = np.random.random() * rest
            k = 0
            while k < last and u >= weights[k]:
                u -= weights[k]
                k += 1
            out[k] += 1
        return
    left = n
    for k in range(last):
        if left == 0 or rest <= 0.0:
            out[k] = 0
            continue
        share = min(max(weights[k] / rest, 0.0), 1.0)
        out[k] = np.random.binomial(left, share)
        left -= out[k]
        rest -= weights[k]
    out[last] = left


@njit(cache=True)
def _log_weights(fractions: FloatArray, out: FloatArray) -> None:
    """``log pi_k = log V_k + sum_{l<k} log(1 - V_l)``, with ``V_K = 1``."""
    done = 0.0
    for k in range(len(fractions)):
        out[k] = math.log(fractions[k]) + done
        done += math.log1p(-fractions[k])
    out[len(fractions)] = done


#: Swap proposals per sweep: each costs about 60 log-gamma evaluations (~1 microsecond), a sweep ~15.
SWAPS = 4


@njit(cache=True)
def _log_beta_change(caught: int, size: int, gain: int, gain_caught: int) -> float:
    """Change of ``log B(1 + caught, 1 + missed)`` when a class gains ``gain`` people, ``gain_caught`` on the list."""
    after = (math.lgamma(1.0 + caught + gain_caught) + math.lgamma(1.0 + size + gain - caught - gain_caught)
             - math.lgamma(2.0 + size + gain))
    return after - (math.lgamma(1.0 + caught) + math.lgamma(1.0 + size - caught) - math.lgamma(2.0 + size))


@njit(cache=True)
def _swap(bits: IntArray, log_weights: FloatArray, split_of: IntArray, size: IntArray, caught: IntArray,
          occupied: IntArray) -> None:
    """Metropolis-Hastings: two occupied classes exchange the people they hold of one capture history.

    The Gibbs steps move people between classes a few at a time, given the
    capture probabilities, and those probabilities follow the people: a class
    that has formed around one list (on UKdat_5, the people found only by GP)
    dissolves only over tens of thousands of sweeps, so single chains sit for
    most of their run in a minor mode of the posterior (R's LCMCR has the same
    six steps and the same slowness). Exchanging a whole history at once, with
    the two classes' capture probabilities integrated out (Beta-binomial
    conjugacy) and redrawn in the next step, crosses between such modes in one
    move. The proposal picks a history (the unseen included) and an ordered
    pair of occupied classes uniformly; a swap is its own reverse, so the
    Hastings ratio is only the change in the number of occupied pairs. The
    stick-breaking weights are held fixed, so the target is the exact full
    conditional of the class assignments: the posterior is unchanged.
    """
    n_cells, n_lists = bits.shape
    history = np.random.randint(0, n_cells + 1)  # n_cells: the unseen
    count = 0
    for k in range(len(size)):
        if size[k] > 0:
            occupied[count] = k
            count += 1
    if count < 2:
        return
    first = np.random.randint(0, count)
    second = np.random.randint(0, count - 1)
    if second >= first:
        second += 1
    k1, k2 = occupied[first], occupied[second]
    gain = split_of[history, k2] - split_of[history, k1]  # k1 gains what k2 loses
    after = count - int(size[k1] + gain == 0) - int(size[k2] - gain == 0)
    if gain == 0 or after < 2:
        return
    log_ratio = gain * (log_weights[k1] - log_weights[k2]) + math.log(count * (count - 1) / (after * (after - 1)))
    for j in range(n_lists):
        on_list = gain * bits[history, j] if history < n_cells else 0
        log_ratio += _log_beta_change(caught[j, k1], size[k1], gain, on_list)
        log_ratio += _log_beta_change(caught[j, k2], size[k2], -gain, -on_list)
    if log_ratio < 0.0 and np.random.random() >= math.exp(log_ratio):
        return
    split_of[history, k1], split_of[history, k2] = split_of[history, k2], split_of[history, k1]
    size[k1] += gain
    size[k2] -= gain
    if history < n_cells:
        for j in range(n_lists):
            caught[j, k1] += gain * bits[history, j]
            caught[j, k2] -= gain * bits[history, j]


@njit(cache=True)
def start(n_lists: int, classes: int, alpha: float) -> tuple[FloatArray, FloatArray]:
    """Random capture probabilities and class weights from the priors, so separate chains start apart."""
    capture = np.empty((n_lists, classes))
    for j in range(n_lists):
        for k in range(classes):
            capture[j, k] = _bounded(np.random.uniform(0.0, 1.0))
    fractions = np.empty(classes - 1)
    for k in range(classes - 1):
        fractions[k] = _bounded(np.random.beta(1.0, alpha))
    log_weights = np.empty(classes)
    _log_weights(fractions, log_weights)
    return capture, log_weights


@njit(cache=True, error_model="numpy")  # no Python-style zero-division checks inside the loops
def advance(
    bits: IntArray, counts: IntArray, capture: FloatArray, log_weights: FloatArray, state: FloatArray,
    a_alpha: float, b_alpha: float, n_draws: int, thinning: int,
    draws: IntArray, alphas: FloatArray, occupied: IntArray,
) -> None:
    """Run ``n_draws * thinning`` sweeps, recording ``N``, ``alpha`` and occupied classes every ``thinning``.

    ``capture`` (lists x classes), ``log_weights`` and ``state[0]`` (alpha)
    are the chain's state, updated in place. The steps are those listed in
    :mod:`tipsom.estimate.lcmcr`: R's six Gibbs steps plus :data:`SWAPS` swap
    proposals between steps 3 and 4.
    """
    n_cells, n_lists = bits.shape
    classes = capture.shape[1]
    observed = counts.sum()
    alpha = state[0]
    log_caught = np.empty((n_lists, classes))
    log_ratio = np.empty((n_lists, classes))
    log_unseen = np.empty(classes)
    post = np.empty(classes)
    size = np.empty(classes, dtype=np.int64)
    members = np.empty(classes, dtype=np.int64)
    caught = np.empty((n_lists, classes), dtype=np.int64)
    fractions = np.empty(classes - 1)
    # people of each history (the last row: the unseen) in each class, kept for the swap proposals
    split_of = np.zeros((n_cells + 1, classes), dtype=np.int64)
    scratch = np.empty(classes, dtype=np.int64)
    unseen = 0
    for d in range(n_draws):
        for _ in range(thinning):
            for k in range(classes):
                log_unseen[k] = log_weights[k]
                for j in range(n_lists):
                    log_missed = math.log1p(-capture[j, k])
                    log_caught[j, k] = math.log(capture[j, k])
                    log_ratio[j, k] = log_caught[j, k] - log_missed
                    log_unseen[k] += log_missed
            size[:] = 0
            members[:] = 0
            caught[:, :] = 0
            # 1. the people of each observed history to classes
            for c in range(n_cells):
                top = -np.inf
                for k in range(classes):
                    lp = log_unseen[k]
                    for j in range(n_lists):
                        if bits[c, j]:
                            lp += log_ratio[j, k]
                    post[k] = lp
                    top = max(top, lp)
                for k in range(classes):
                    post[k] = math.exp(post[k] - top)
                _multinomial(counts[c], post, split_of[c])
                for k in range(classes):
                    members[k] += split_of[c, k]
                    for j in range(n_lists):
                        if bits[c, j]:
                            caught[j, k] += split_of[c, k]
            # 2. the number on no list, from its negative binomial under p(N) proportional to 1/N
            top = log_unseen.max()
            share_sum = 0.0
            for k in range(classes):
                post[k] = math.exp(log_unseen[k] - top)
                share_sum += post[k]
            pi0 = math.exp(top) * share_sum
            unseen = np.random.negative_binomial(observed, min(max(1.0 - pi0, FLOOR), 1.0))
            # 3. the unseen to classes
            _multinomial(unseen, post, split_of[n_cells])
            for k in range(classes):
                size[k] = members[k] + split_of[n_cells, k]
            for _ in range(SWAPS):
                _swap(bits, log_weights, split_of, size, caught, scratch)
            # 4. capture probabilities, the unseen counted as missed by every list
            for j in range(n_lists):
                for k in range(classes):
                    capture[j, k] = _bounded(np.random.beta(1.0 + caught[j, k], 1.0 + size[k] - caught[j, k]))
            # 5. stick-breaking fractions: class k against the later classes
            later = 0
            for k in range(classes - 1, 0, -1):
                later += size[k]
                fractions[k - 1] = later  # people after class k - 1, turned into a fraction below
            log_rest = 0.0
            for k in range(classes - 1):
                fractions[k] = _bounded(np.random.beta(1.0 + size[k], alpha + fractions[k]))
                log_rest += math.log1p(-fractions[k])
            _log_weights(fractions, log_weights)
            # 6. concentration: Gamma(a + K - 1, rate b - sum log(1 - V_k)); numpy takes the scale
            alpha = np.random.gamma(a_alpha + classes - 1, 1.0 / (b_alpha - log_rest))
        draws[d] = observed + unseen
        alphas[d] = alpha
        occupied[d] = np.count_nonzero(size[:] - split_of[n_cells])
    state[0] = alpha


def warm_up() -> None:
    """Compile (or load from the disk cache) every function on a tiny table."""
    bits = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int64)
    counts = np.array([3, 2, 1], dtype=np.int64)
    seed(0)
    capture, log_weights = start(2, 2, 1.0)
    out = np.empty(1, dtype=np.int64)
    advance(bits, counts, capture, log_weights, np.array([1.0]), 0.25, 0.25, 1, 1, out, np.empty(1),
            np.empty(1, dtype=np.int64))
