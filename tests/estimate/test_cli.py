"""``tipsom estimate`` commands: JSON contract, exit codes, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app

runner = CliRunner()


def test_mse_json_contract(reference: Path) -> None:
    res = runner.invoke(app, ["estimate", "mse", str(reference / "mse" / "UKdat.csv"), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["observed"] == 2744
    assert abs(out["estimate"] - 11417.99) < 0.01
    assert out["interval"]["method"] == "wald"
    assert round(out["interval"]["low"]) == 9977
    assert round(out["interval"]["high"]) == 13146
    assert "LA:NG" in out["model"]
    assert out["lists"] == ["LA", "NG", "PF", "GO", "GP", "NCA"]


def test_mse_profile_and_bic_and_population(reference: Path) -> None:
    path = str(reference / "mse" / "UKdat_5.csv")
    res = runner.invoke(app, ["estimate", "mse", path, "--interval", "profile", "--method", "bic", "--json",
                              "--population", "67000000"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["selection"] == "bic"
    assert out["interval"]["method"] == "profile"
    assert out["per_100k"]["estimate"] == round(out["estimate"] * 100_000 / 67_000_000, 4)


def test_malformed_input_exits_1_with_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,count\n1,0,5\n0,1,-2\n", encoding="utf-8")
    res = runner.invoke(app, ["estimate", "mse", str(bad)])
    assert res.exit_code == 1
    assert "row 3: field 'count': negative count -2" in res.stderr


def test_unknown_method_is_a_usage_error(reference: Path) -> None:
    res = runner.invoke(app, ["estimate", "mse", str(reference / "mse" / "UKdat.csv"), "--method", "magic"])
    assert res.exit_code == 2
    assert "--method must be one of" in res.stderr


def test_stratified_estimates(tmp_path: Path) -> None:
    path = tmp_path / "strata.csv"
    rows = ["A,B,C,sex,count"]
    for sex, scale in (("F", 2), ("M", 1)):
        for hist, n in (("1,0,0", 60), ("0,1,0", 50), ("0,0,1", 40), ("1,1,0", 12), ("1,0,1", 9), ("0,1,1", 8),
                        ("1,1,1", 2)):
            rows.append(f"{hist},{sex},{n * scale}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = runner.invoke(app, ["estimate", "mse", str(path), "--strata", "sex", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [o["stratum"]["sex"] for o in out] == ["F", "M"]
    assert out[0]["observed"] == 2 * out[1]["observed"]


def test_report_writes_self_contained_html(reference: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["estimate", "report", str(reference / "mse" / "UKdat_5.csv"), "-o",
                              str(tmp_path / "rep"), "--interval", "wald"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert "11,313" in html
    assert "<svg" in html
    assert "best BIC" in html
    for external in ('src="http', "src='http", 'href="http', "url(http", "@import"):
        assert external not in html  # namespace URIs in the SVG are names, not fetches
    data = json.loads((tmp_path / "rep" / "estimate.json").read_text(encoding="utf-8"))
    assert {m["method"] for m in data["methods"]} >= {"stepwise (SparseMSE)", "main effects only (lists independent)"}


def test_synth_and_link_commands(tmp_path: Path) -> None:
    records = tmp_path / "records.csv"
    res = runner.invoke(app, ["synth", "linkage", "-o", str(records), "--persons", "300", "--lists", "3"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "histories.csv"
    res = runner.invoke(app, ["estimate", "link", str(records), "-o", str(out), "--review",
                              str(tmp_path / "review.csv"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["estimate", "mse", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["lists"] == ["labour_inspection", "ngo_shelter", "police"]
    assert (tmp_path / "review.csv").exists()


@pytest.mark.usefixtures("initialised_store")
def test_histories_from_empty_registry_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64
    import secrets

    monkeypatch.setenv("TIPSOM_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    res = runner.invoke(app, ["estimate", "histories", "-o", str(tmp_path / "h.csv")])
    assert res.exit_code == 1
    assert "no victims with identification records" in res.stderr
