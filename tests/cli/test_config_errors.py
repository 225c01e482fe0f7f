"""Every command group refuses a bad configuration file or setting in one line, never a traceback (issue 20).

Each case gives one group a malformed ``TIPSOM_*`` value or a configuration
file with a wrong key or value. The command must exit 1 or 2 (input or
configuration, never 70 "internal error") with a single ``tipsom:`` line on
stderr that names the variable, or the file and the key, so the user knows
what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app

#: A data key is configured, so commands reach the configuration they read (``key`` overrides it with a bad one).
pytestmark = pytest.mark.usefixtures("data_key")

NATIVE_TX = ("timestamp,from_account,to_account,amount,currency,channel,from_country,to_country,"
             "from_institution,to_institution,reference\n"
             "2024-01-01T00:00:00Z,A1,B1,100,EUR,wire,FRA,DEU,x,y,r\n")


@dataclass(frozen=True)
class Case:
    group: str
    args: tuple[str, ...]
    #: What stderr must name: the variable, or the file and the key.
    names: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    #: Files written under the test's directory before the command runs.
    files: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("import", ("import", "cases", "cases.csv"), ("TIPSOM_DB_LOCK_TIMEOUT", "'abc'"),
         {"TIPSOM_DB_LOCK_TIMEOUT": "abc"}, {"cases.csv": "case_id\nC1\n"}),
    Case("export", ("export", "cases", "-o", "out.csv"), ("TIPSOM_WEB_UPLOAD_MAX_MB", "at least 1"),
         {"TIPSOM_WEB_UPLOAD_MAX_MB": "0"}),
    Case("screen", ("screen", "case", "case.json", "--jurisdiction", "NGA"), ("nga.yaml", "order", "'abc'"),
         {"TIPSOM_DATA_PATH": "{dir}/agency"},
         {"agency/screening/rules/jurisdictions/nga.yaml": 'name: x\nversion: "1"\napplies_to: [NGA]\norder: abc\n',
          "case.json": '{"case_id": "C1", "case_type": "TIP", "reporting_org": "NGO"}'}),
    Case("report", ("report", "build", "--out", "r"), ("TIPSOM_SUPPRESSION_THRESHOLD", "'five'"),
         {"TIPSOM_SUPPRESSION_THRESHOLD": "five"}),
    Case("evidence", ("evidence", "list"), ("TIPSOM_DB_LOCK_TIMEOUT", "-1"), {"TIPSOM_DB_LOCK_TIMEOUT": "-1"}),
    Case("money", ("money", "scan", "tx.csv", "-o", "f.csv", "--config", "bad.yaml"),
         ("bad.yaml", "fan_window_hours", "'abc'"), {},
         {"tx.csv": NATIVE_TX, "bad.yaml": "fan_window_hours: abc\n"}),
    Case("money corridors", ("money", "scan", "tx.csv", "-o", "f.csv", "--config", "bad.yaml"),
         ("bad.yaml", "high_risk_corridors.0.bogus", "unknown key"), {},
         {"tx.csv": NATIVE_TX, "bad.yaml": "high_risk_corridors: [{src_country: IRN, bogus: 1}]\n"}),
    Case("osint", ("osint", "scan", "ads.jsonl", "-o", "o.csv"), ("x.yaml", "lexicon", "'bogus'"),
         {"TIPSOM_DATA_PATH": "{dir}/agency"},
         {"ads.jsonl": '{"id": "a", "text": "hello"}\n', "agency/osint/lexicons/x.yaml": "lexicon: bogus\n"}),
    Case("context", ("context", "index", "-o", "out", "--config", "index.yaml"), ("index.yaml", "dimensions"),
         {}, {"index.yaml": "dimensions: 3\nindicators: []\n"}),
    Case("estimate", ("estimate", "registry"), ("TIPSOM_SUPPRESSION_THRESHOLD", "at least 1"),
         {"TIPSOM_SUPPRESSION_THRESHOLD": "0"}),
    Case("synth", ("synth", "linkage", "-o", "l.csv", "--lists", "9"), ("lists", "between 2 and 6")),
    Case("serve", ("serve",), ("TIPSOM_WEB_SESSION_HOURS", "'eight'"), {"TIPSOM_WEB_SESSION_HOURS": "eight"}),
    Case("user", ("user", "list"), ("TIPSOM_WEB_LOCKOUT_MINUTES", "'1.5'"), {"TIPSOM_WEB_LOCKOUT_MINUTES": "1.5"}),
    Case("org", ("org", "list"), ("TIPSOM_DB_LOCK_TIMEOUT", "'sixty'"), {"TIPSOM_DB_LOCK_TIMEOUT": "sixty"}),
    Case("key", ("key", "check"), ("TIPSOM_KEY", "base64"), {"TIPSOM_KEY": "not base64!"}),
    Case("audit", ("audit", "verify"), ("TIPSOM_DB_LOCK_TIMEOUT", "'x'"), {"TIPSOM_DB_LOCK_TIMEOUT": "x"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.group for c in CASES])
def test_a_bad_configuration_is_one_line_naming_where(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.replace("{dir}", str(tmp_path)))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, list(case.args))
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tipsom: ")
    for name in case.names:
        assert name in lines[0]
