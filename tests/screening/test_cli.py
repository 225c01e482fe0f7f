"""``tipsom screen FILE.json``: output contract, errors and usage."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.screening.conftest import case, recruited_for_forced_labour
from tipsom.cli.main import app


def test_screen_file_prints_alerts_and_indicators(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case(recruited_for_forced_labour(16))), encoding="utf-8")
    out = CliRunner().invoke(app, ["screen", str(path), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {a["code"] for a in data["alerts"]} >= {"TIP_CHILD", "CHILD_PROTECTION"}
    for alert in data["alerts"]:
        assert {"code", "severity", "explanation", "sources"} <= set(alert)
        assert alert["sources"]
    assert "P1" in data["indicators"]
    text = CliRunner().invoke(app, ["screen", str(path), "--jurisdiction", "GBR"])
    assert text.exit_code == 0
    assert "[HIGH] TIP_CHILD" in text.stdout
    assert "GBR" in text.stdout


def test_invalid_case_file_reports_row_field_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(case({"role": "Victm", "age": "old"})), encoding="utf-8")
    out = CliRunner().invoke(app, ["screen", str(path)])
    assert out.exit_code == 1
    assert "bad.json: row 1: column role" in out.stderr
    assert "column age: not a number" in out.stderr
    path.write_text("[1, 2", encoding="utf-8")
    broken = CliRunner().invoke(app, ["screen", str(path)])
    assert broken.exit_code == 1
    assert "not valid JSON" in broken.stderr


def test_screen_needs_exactly_one_mode(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["screen"])
    assert out.exit_code == 2
    assert "exactly one of" in out.stderr
