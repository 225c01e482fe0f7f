"""The fast numpy engine against a literal port of SparseMSE's R code on statsmodels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import poisson

from tipsom.estimate.bic import select_bic
from tipsom.estimate.checks import Check, Checker
from tipsom.estimate.loglinear import Design, Term, design, fit_model
from tipsom.estimate.stepwise import stepwise
from tipsom.estimate.table import read_table


def _glm(d: Design, counts: np.ndarray, terms: tuple[Term, ...]) -> tuple[float, np.ndarray]:
    """modelfit(): drop cells of empty pairs, fit the rest with a Poisson GLM."""
    keep = np.ones(d.n_cells, dtype=bool)
    finite = []
    for t in terms:
        cells = d.term_cells[:, d.index[t]]
        if counts[cells].sum() == 0:
            keep &= ~cells
        else:
            finite.append(t)
    x = d.full[np.ix_(keep, d.columns(tuple(finite)))]
    res = sm.GLM(counts[keep], x, family=sm.families.Poisson()).fit(tol=1e-12)
    fitted = np.zeros(d.n_cells)
    fitted[keep] = res.fittedvalues
    return float(np.exp(res.params[0])), fitted


def _r_stepwise(d: Design, counts: np.ndarray, pthresh: float = 0.02) -> tuple[Term, ...]:
    """stepwisefit() line by line: every candidate checked every cycle."""
    checker = Checker(d)
    pairs = d.pair_terms()
    nstar = np.array([counts[d.term_cells[:, d.index[p]]].sum() for p in pairs])
    model: tuple[Term, ...] = ()
    _, fitted = _glm(d, counts, model)
    included = [False] * len(pairs)
    for _ in pairs:
        pval = np.ones(len(pairs))
        for j, p in enumerate(pairs):
            if included[j]:
                continue
            pstar = fitted[d.term_cells[:, d.index[p]]].sum()
            pval[j] = min(poisson.cdf(nstar[j], pstar), poisson.sf(nstar[j] - 1, pstar))
            if checker.check(counts, (*model, p)) != Check.OK:
                pval[j] = 1.0
        if pval.min() >= pthresh:
            break
        j = int(np.flatnonzero(pval == pval.min())[0])
        model = (*model, pairs[j])
        included[j] = True
        _, fitted = _glm(d, counts, model)
    return model


def test_fit_agrees_with_statsmodels(reference: Path) -> None:
    table = read_table(reference / "mse" / "UKdat.csv")
    d = design(6)
    counts = table.cell_counts()
    for terms in [(), ((0, 1), (2, 5)), ((0, 1), (0, 4), (1, 3))]:  # (0, 4) = LA:GP shares no one
        ours = fit_model(d, counts, terms)
        dark, fitted = _glm(d, counts, terms)
        assert ours.dark == pytest.approx(dark, rel=1e-8)
        np.testing.assert_allclose(ours.fitted, fitted, rtol=1e-7, atol=1e-9)


def test_fast_stepwise_equals_literal_port_on_bootstrap_replicates(reference: Path) -> None:
    table = read_table(reference / "mse" / "UKdat_5.csv")
    d = design(5)
    counts = table.cell_counts()
    rng = np.random.default_rng(7)
    observed = np.flatnonzero(counts)
    for _ in range(12):
        rep = np.zeros_like(counts)
        rep[observed] = rng.multinomial(int(counts.sum()), counts[observed] / counts.sum())
        fast = stepwise(d, rep).fit
        literal = _r_stepwise(d, rep)
        assert set(fast.terms) == set(literal)
        assert fast.dark == pytest.approx(_glm(d, rep, literal)[0], rel=1e-7)


def test_batched_bic_fits_equal_single_fits(reference: Path) -> None:
    table = read_table(reference / "mse" / "UKdat_5.csv")
    d = design(5)
    counts = table.cell_counts()
    result = select_bic(d, counts, 2, top=5)
    for ranked in result.top:
        single = fit_model(d, counts, ranked.terms)
        assert ranked.estimate == pytest.approx(table.observed + single.dark, rel=1e-7)
        assert ranked.bic == pytest.approx(single.bic(table.observed), rel=1e-9)
