"""Coverage of the BCa interval on populations of known size (slow: about a minute)."""

from __future__ import annotations

import pytest

from tipsom.estimate.mse import IntervalMethod, estimate
from tipsom.estimate.simulate import simulate

POPULATION = 3000
CAPTURE = (0.12, 0.18, 0.1, 0.22)
#: A referral between lists A and B: people on A are more likely on B.
INTERACTIONS = {(0, 1): 0.9}


@pytest.mark.slow
def test_bca_covers_known_population_in_at_least_90_of_100_simulations() -> None:
    covered = 0
    for sim in range(100):
        table = simulate(POPULATION, CAPTURE, INTERACTIONS, seed=sim)
        result = estimate(table, interval=IntervalMethod.BCA, replicates=200, seed=sim, workers=1)
        covered += result.interval.low <= POPULATION <= result.interval.high
    assert covered >= 90, f"covered {covered} of 100"


def test_simulated_tables_have_the_drawn_population_minus_the_dark_cell() -> None:
    table = simulate(POPULATION, CAPTURE, INTERACTIONS, seed=1)
    assert 0 < table.observed < POPULATION
    assert table.lists == ("A", "B", "C", "D")
