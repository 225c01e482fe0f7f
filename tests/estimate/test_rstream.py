"""R's random stream, checked against values R prints and against the distributions it draws from."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tipsom.estimate.rstream import RStream


@pytest.mark.parametrize(("seed", "expected"), [
    (1, [0.2655087, 0.3721239, 0.5728534]),   # set.seed(1); runif(3)
    (42, [0.9148060, 0.9370754, 0.2861395]),  # set.seed(42); runif(3)
    (1234, [0.1137034, 0.6222994, 0.6092747]),
])
def test_uniforms_equal_r_after_set_seed(seed: int, expected: list[float]) -> None:
    stream = RStream(seed)
    assert [stream.unif_rand() for _ in expected] == pytest.approx(expected, abs=5e-8)


@pytest.mark.parametrize(("n", "p"), [(20, 0.3), (1000, 0.4), (5000, 0.93), (300, 0.02)])
def test_binomial_draws_follow_the_binomial_distribution(n: int, p: float) -> None:
    """Both branches (inversion below mean 30, BTPE above) and p > 0.5 reflection."""
    stream = RStream(7)
    draws = np.array([stream.rbinom(n, p) for _ in range(4000)])
    assert draws.min() >= 0
    assert draws.max() <= n
    assert draws.mean() == pytest.approx(n * p, abs=4 * np.sqrt(n * p * (1 - p) / 4000))
    assert draws.var() == pytest.approx(n * p * (1 - p), rel=0.1)
    # chi-square goodness of fit over the central values
    lo, hi = stats.binom.ppf([0.01, 0.99], n, p).astype(int)
    observed = np.array([(draws == k).sum() for k in range(lo, hi + 1)])
    expected = stats.binom.pmf(np.arange(lo, hi + 1), n, p) * len(draws)
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert chi2 < stats.chi2.ppf(0.999, keep.sum() - 1)


def test_multinomial_keeps_the_total_and_skips_empty_categories() -> None:
    stream = RStream(1234)
    prob = np.array([54.0, 0.0, 463.0, 995.0, 1.0])
    for _ in range(200):
        draw = stream.rmultinom(1513, prob)
        assert draw.sum() == 1513
        assert draw[1] == 0
        assert (draw >= 0).all()
