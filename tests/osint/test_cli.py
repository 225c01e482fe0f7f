"""The command line end to end: synth, scan, cluster, evaluate, report, ftm; bad input exits 1."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from tipsom.cli.main import app

runner = CliRunner()


def test_synth_cluster_evaluate_report_and_ftm(tmp_path: Path) -> None:
    ads = tmp_path / "ads.jsonl"
    result = runner.invoke(app, ["synth", "ads", "--n", "300", "--seed", "5", "-o", str(ads)])
    assert result.exit_code == 0, result.output
    truth = tmp_path / "ads.truth.csv"
    assert truth.exists()
    again = tmp_path / "again.jsonl"
    runner.invoke(app, ["synth", "ads", "--n", "300", "--seed", "5", "-o", str(again)])
    assert again.read_bytes() == ads.read_bytes()  # seeded: same seed, same ads

    scan = tmp_path / "scan.jsonl"
    result = runner.invoke(app, ["osint", "scan", str(ads), "-o", str(scan), "-q"])
    assert result.exit_code == 0, result.output
    first = json.loads(scan.read_text(encoding="utf-8").splitlines()[0])
    assert {"identifiers", "indicators", "score", "raw_sha256", "language"} <= set(first)

    clusters = tmp_path / "clusters.csv"
    result = runner.invoke(app, ["osint", "cluster", str(ads), "-o", str(clusters)])
    assert result.exit_code == 0, result.output
    with clusters.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300
    assert set(rows[0]) == {"ad_id", "cluster_id", "cluster_size", "link_reasons"}
    assert any(r["link_reasons"].count("phone:") for r in rows)
    profiles = json.loads(clusters.with_suffix(".json").read_text(encoding="utf-8"))
    assert profiles["clusters"][0]["reasons"]

    result = runner.invoke(app, ["osint", "evaluate", str(clusters), str(truth)])
    assert result.exit_code == 0, result.output
    f1 = float(result.output.split("F1 ")[1].split()[0])
    assert f1 >= 0.9

    report = tmp_path / "report"
    result = runner.invoke(app, ["osint", "report", str(clusters), "--ads", str(ads), "-o", str(report),
                                 "--max-clusters", "3"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in report.iterdir()} == {"index.html", "clusters.json", "entities.ftm.jsonl"}

    ftm = tmp_path / "entities.jsonl"
    result = runner.invoke(app, ["osint", "ftm", str(clusters), "--ads", str(ads), "-o", str(ftm)])
    assert result.exit_code == 0, result.output
    schemata = {json.loads(line)["schema"] for line in ftm.read_text(encoding="utf-8").splitlines()}
    assert {"Document", "UserAccount"} <= schemata


def test_bad_records_fail_by_default_and_are_reported_when_skipped(tmp_path: Path) -> None:
    ads = tmp_path / "ads.jsonl"
    ads.write_text('{"id": "a", "text": "new in town call 917-555-0123"}\n{"id": "b"}\n', encoding="utf-8")
    out = tmp_path / "scan.jsonl"
    result = runner.invoke(app, ["osint", "scan", str(ads), "-o", str(out)])
    assert result.exit_code == 1
    assert f"{ads}: row 2: field 'text'" in result.output
    assert not out.exists()
    result = runner.invoke(app, ["osint", "scan", str(ads), "-o", str(out), "--on-error", "skip",
                                 "--region", "US"])
    assert result.exit_code == 0
    assert "skipped bad record" in result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["identifiers"][0]["value"] == "+19175550123"


def test_evaluate_reports_missing_columns(tmp_path: Path) -> None:
    clusters = tmp_path / "c.csv"
    clusters.write_text("ad,cluster\nx,y\n", encoding="utf-8")
    truth = tmp_path / "t.csv"
    truth.write_text("ad_id,operation_id\nx,1\n", encoding="utf-8")
    result = runner.invoke(app, ["osint", "evaluate", str(clusters), str(truth)])
    assert result.exit_code == 1
    assert "missing column" in result.output


def test_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["osint", "cluster", str(tmp_path / "x.jsonl"), "-o", "c.csv", "--engine", "x"])
    assert result.exit_code == 2
