"""LCMCR, the Bayesian latent-class estimator: validation on populations of known size, diagnostics, CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.estimate.lcmcr import Convergence, LcmcrError, SamplerSettings, bulk_ess, lcmcr, split_rhat
from tipsom.estimate.mse import Selection, compare_methods, estimate
from tipsom.estimate.report import build_html
from tipsom.estimate.simulate import simulate, simulate_latent_classes
from tipsom.estimate.table import CaptureTable, read_table

runner = CliRunner()

POPULATION = 2000
#: 60% hard to reach (each list finds 20-30% of them), 40% easy (45-60%): heterogeneity, no list dependence.
SHARES = (0.6, 0.4)
CAPTURE = ((0.25, 0.2, 0.3, 0.2, 0.25), (0.5, 0.6, 0.5, 0.45, 0.55))
#: Default prior and K = 10, with shorter chains than the defaults so that 20 simulations take about 20 s.
QUICK = SamplerSettings(burn_in=2000, samples=1000, thinning=2, chains=2)
TINY = SamplerSettings(burn_in=200, samples=100, thinning=2, chains=2)


def test_credible_interval_covers_known_population_and_beats_independence_model() -> None:
    """Measured with these seeds: 18 of 20 intervals cover N; mean error -40 (absolute 47) against -160 for main
    effects, whose Wald intervals (about 40 wide around 1,840) cover N in none of the 20."""
    covered = 0
    lcmcr_errors, main_errors = [], []
    for sim in range(20):
        table = simulate_latent_classes(POPULATION, SHARES, CAPTURE, seed=sim)
        post = lcmcr(table, replace(QUICK, seed=sim))
        covered += post.interval.low <= POPULATION <= post.interval.high
        lcmcr_errors.append(post.total - POPULATION)
        main_errors.append(estimate(table, Selection.MAIN).total - POPULATION)
    assert covered >= 17, f"covered {covered} of 20"
    assert np.mean(main_errors) < -100, "heterogeneity should make the independence model undercount"
    assert np.mean(np.abs(lcmcr_errors)) < 0.5 * np.mean(np.abs(main_errors))


def test_homogeneous_population_agrees_with_the_independence_model() -> None:
    table = simulate(POPULATION, (0.3, 0.25, 0.2, 0.3, 0.25), seed=3)
    post = lcmcr(table, replace(QUICK, seed=3))
    main = estimate(table, Selection.MAIN)
    assert post.interval.low <= POPULATION <= post.interval.high
    assert abs(post.total - main.total) < 0.05 * POPULATION


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    table = simulate_latent_classes(500, SHARES, CAPTURE, seed=1)
    first = lcmcr(table, TINY)
    again = lcmcr(table, TINY)
    other = lcmcr(table, replace(TINY, seed=99))
    np.testing.assert_array_equal(first.draws, again.draws)
    assert first.to_dict() == again.to_dict()
    assert not np.array_equal(first.draws, other.draws)


def test_ukdat5_gives_a_finite_estimate_above_the_observed_count(reference: Path) -> None:
    table = read_table(reference / "mse" / "UKdat_5.csv")
    post = lcmcr(table, SamplerSettings(burn_in=2000, samples=500, thinning=5, chains=2))
    ci = post.interval
    # Everyone observed is in the population; R's LCMCR puts the upper 95% limit at 34,209 (issue 23, seed 12),
    # about 12.5 times the 2,744 observed, and no published estimate goes beyond 15 times.
    assert table.observed < ci.low <= post.total <= ci.high < 15 * table.observed
    out = post.to_dict()
    assert out["interval"]["method"] == "posterior"
    assert out["model"] == []
    assert out["lists"] == list(table.lists)
    assert out["sampler"]["classes"] == 10


def test_split_rhat_and_ess_on_chains_of_known_behaviour() -> None:
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(4, 1000))
    assert split_rhat(iid) < 1.01
    assert 3000 < bulk_ess(iid) < 5000
    apart = iid + np.array([[0.0], [0.0], [3.0], [3.0]])
    assert split_rhat(apart) > 1.5
    # AR(1) with rho = 0.9 has an effective sample size of about n (1 - rho) / (1 + rho) = n / 19.
    ar = np.zeros((4, 4000))
    for t in range(1, 4000):
        ar[:, t] = 0.9 * ar[:, t - 1] + rng.normal(size=4)
    assert 16000 / 19 * 0.6 < bulk_ess(ar) < 16000 / 19 * 1.4
    assert split_rhat(np.full((2, 100), 7)) == 1.0


def test_short_run_on_bimodal_data_is_flagged_not_converged(reference: Path) -> None:
    table = read_table(reference / "mse" / "UKdat_5.csv")
    post = lcmcr(table, SamplerSettings(burn_in=0, samples=50, thinning=1, chains=2))
    assert post.convergence is Convergence.DOUBTFUL
    assert any("effective sample size" in w for w in post.warnings)
    assert post.to_dict()["convergence"]["status"] == "doubtful"


def test_three_lists_run_with_a_warning_two_lists_are_refused() -> None:
    three = simulate(400, (0.3, 0.4, 0.35), seed=2)
    post = lcmcr(three, TINY)
    assert any("only 3 lists" in w for w in post.warnings)
    two = CaptureTable.from_histories(["A", "B"], [((1, 0), 30), ((0, 1), 20), ((1, 1), 5)], source="two.csv")
    with pytest.raises(LcmcrError, match=r"two.csv: LCMCR needs at least 3 lists, got 2"):
        lcmcr(two, TINY)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"classes": 1}, "classes"), ({"samples": 5}, "samples"), ({"thinning": 0}, "thinning"),
     ({"burn_in": -1}, "burn-in"), ({"chains": 0}, "chains"), ({"a_alpha": 0.0}, "Gamma prior")],
)
def test_invalid_sampler_settings_are_refused(options: dict[str, int | float], message: str) -> None:
    with pytest.raises(LcmcrError, match=message):
        SamplerSettings(**options)  # type: ignore[arg-type]


def test_progress_reports_every_sweep_count_up_to_the_total() -> None:
    seen: list[int] = []
    table = simulate_latent_classes(300, SHARES, CAPTURE, seed=4)
    lcmcr(table, TINY, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == TINY.chains * TINY.iterations


def test_compare_methods_adds_the_lcmcr_row_only_when_asked() -> None:
    # Three lists keep the log-linear rows (BIC over order 2 only) fast.
    table = simulate_latent_classes(800, SHARES, [c[:3] for c in CAPTURE], seed=5)
    plain = compare_methods(table)
    assert not any("LCMCR" in r.method for r in plain)
    rows = compare_methods(table, lcmcr_settings=TINY)
    row = next(r for r in rows if "LCMCR" in r.method)
    assert row.low <= row.estimate <= row.high
    assert row.interval == "posterior (credible)"
    page = build_html(estimate(table), rows)
    assert "latent classes (LCMCR, Bayesian)" in page
    assert "Manrique-Vallier" in page
    assert "Manrique-Vallier" not in build_html(estimate(table), plain)


def test_cli_json_contract(reference: Path) -> None:
    path = str(reference / "mse" / "UKdat_5.csv")
    res = runner.invoke(app, ["estimate", "lcmcr", path, "--burn-in", "500", "--samples", "100", "--thinning",
                              "2", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["observed"] == 2744
    assert out["interval"]["method"] == "posterior"
    assert out["interval"]["low"] <= out["estimate"] <= out["interval"]["high"]
    assert out["model"] == []
    assert out["lists"] == ["LA", "NG", "PFNCA", "GO", "GP"]
    assert out["sampler"]["burn_in"] == 500
    assert out["convergence"]["status"] in {"converged", "doubtful"}


def test_cli_text_output_and_strata(tmp_path: Path) -> None:
    path = tmp_path / "strata.csv"
    rows = ["A,B,C,D,sex,count"]
    for sex, table in (("F", simulate_latent_classes(600, SHARES, [c[:4] for c in CAPTURE], seed=6)),
                       ("M", simulate_latent_classes(400, SHARES, [c[:4] for c in CAPTURE], seed=7))):
        rows += [",".join(str(v) for v in (*h, sex, n)) for h, n in zip(table.histories, table.counts, strict=True)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = ["estimate", "lcmcr", str(path), "--burn-in", "200", "--samples", "50", "--thinning", "2", "--quiet"]
    res = runner.invoke(app, [*args, "--strata", "sex", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [o["stratum"] for o in out] == [{"sex": "F"}, {"sex": "M"}]
    text = runner.invoke(app, [*args, "--strata", "sex"])
    assert "[sex=F] observed" in text.stdout
    assert "posterior median" in text.stdout


def test_cli_exit_codes(tmp_path: Path, reference: Path) -> None:
    two = tmp_path / "two.csv"
    two.write_text("A,B,count\n1,0,30\n0,1,20\n1,1,5\n", encoding="utf-8")
    res = runner.invoke(app, ["estimate", "lcmcr", str(two)])
    assert res.exit_code == 1
    assert "needs at least 3 lists" in res.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,C,count\n1,0,0,5\n0,1,2,3\n", encoding="utf-8")
    res = runner.invoke(app, ["estimate", "lcmcr", str(bad)])
    assert res.exit_code == 1
    assert "row 3: field 'C': list indicator must be 0 or 1" in res.stderr
    res = runner.invoke(app, ["estimate", "lcmcr", str(reference / "mse" / "UKdat_5.csv"), "--classes", "1"])
    assert res.exit_code == 2
    assert "classes (K) must be at least 2" in res.stderr


#: The R help-page example of LCMCR: K = 10, one chain, 10,000 burn-in, 1,000 samples, thinning 100.
R_EXAMPLE = SamplerSettings(classes=10, burn_in=10_000, samples=1_000, thinning=100, chains=1)


@pytest.mark.xfail(strict=True, reason="issue 23 acceptance not met: the posterior has a minor mode (~12,500) that "
                   "R's six Gibbs steps leave slowly; with the swap move 3 of 36 measured chains still stay in it for "
                   "all 110,000 sweeps, and one such chain of four pulls the pooled median below 21,090")
def test_ukdat5_with_the_r_example_settings_agrees_with_r(reference: Path) -> None:
    """R's LCMCR gives a median of about 22,200 on UKdat_5 (seed 12: 22,180). tipsom's steps are R's (docs/estimate.md);
    one chain of the R example moves between the posterior's two modes slowly, so four such chains are pooled.
    Measured with the swap move (seeds 12, 1, 2, 3): 20,049, 20,037, 21,051, 21,579, with one chain of four at
    ~12,460 in the first two. Strict, so that the day every chain mixes this test fails and the marker must go."""
    table = read_table(reference / "mse" / "UKdat_5.csv")
    post = lcmcr(table, replace(R_EXAMPLE, chains=4, seed=12))
    assert abs(post.total - 22_200) <= 0.05 * 22_200, post.chain_medians
    assert post.draws.shape == (4, 1_000)
