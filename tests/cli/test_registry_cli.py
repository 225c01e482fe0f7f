"""Acceptance tests of the registry through the real ``tipsom`` command."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.registry_helpers import csv_rows, write_rows

TIPSOM = [sys.executable, "-m", "tipsom.cli.main"]


def tipsom(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TIPSOM_HOME": str(home)}
    env.pop("TIPSOM_KEY", None)
    proc = subprocess.run([*TIPSOM, *args], env=env, capture_output=True, text=True, timeout=600, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"tipsom {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    tipsom("init", home=h)
    assert (h / "tipsom.key").stat().st_mode & 0o777 == 0o600
    return h


def stats(home: Path) -> dict[str, int]:
    result: dict[str, int] = json.loads(tipsom("stats", "--json", home=home).stdout)
    return result


@pytest.mark.slow
def test_100k_cases_import(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "cases.csv"
    tipsom("synth", "cases", "--n", "100000", "--seed", "11", "-o", str(src), "-q", home=home)
    tipsom("import", "cases", str(src), "-q", home=home)
    counts = stats(home)
    assert counts["cases"] == 100_000
    assert counts["victims"] > 80_000


def test_bad_value_in_10k_rows(home: Path, tmp_path: Path) -> None:
    full = tmp_path / "full.csv"
    tipsom("synth", "cases", "--n", "8000", "--seed", "5", "-o", str(full), "-q", home=home)
    rows = csv_rows(full)[:10_000]
    assert len(rows) == 10_000
    rows[6543]["citizenship"] = "XXX"  # file row 6545 (the header is row 1)
    bad = write_rows(tmp_path / "bad.csv", rows)
    refused = tipsom("import", "cases", str(bad), "-q", home=home, check=False)
    assert refused.returncode == 1
    assert "row 6545: column citizenship: 'XXX' is not an ISO 3166-1 alpha-3 country code" in refused.stderr
    assert stats(home) == {"cases": 0, "persons": 0, "victims": 0}
    rejects = tmp_path / "rejects.csv"
    accepted = tipsom("import", "cases", str(bad), "--skip-invalid", "--rejects", str(rejects), "-q", home=home)
    assert json.loads(accepted.stdout)["accepted"] == 9_999
    assert stats(home)["persons"] == 9_999
    rejected = csv_rows(rejects)
    assert len(rejected) == 1
    assert rejected[0]["_row"] == "6545"
    assert "citizenship" in rejected[0]["_errors"]


@pytest.mark.slow
def test_killed_import_leaves_store_consistent(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "cases.csv"
    tipsom("synth", "cases", "--n", "20000", "--seed", "9", "-o", str(src), "-q", home=home)
    env = {**os.environ, "TIPSOM_HOME": str(home)}
    proc = subprocess.Popen([*TIPSOM, "import", "cases", str(src), "-q"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wal = home / "tipsom.db-wal"
    deadline = time.monotonic() + 120
    # Kill once the import has written a good part of its transaction.
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 4 << 20):
        assert proc.poll() is None, "import finished before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(home / "tipsom.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert stats(home) == {"cases": 0, "persons": 0, "victims": 0}
    tipsom("import", "cases", str(src), "-q", home=home)
    assert stats(home)["cases"] == 20_000


def test_no_plaintext_personal_data_in_sqlite_file(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "cases.csv"
    tipsom("synth", "cases", "--n", "500", "-o", str(src), "-q", home=home)
    rows = [r for r in csv_rows(src) if r["role"] in ("Victim", "PresumedVictim")]
    tipsom("import", "cases", str(src), "-q", home=home)
    tipsom("export", "cases", "-o", str(tmp_path / "out.csv"), "-q", home=home)
    raw = b"".join(p.read_bytes() for p in home.glob("tipsom.db*"))
    names = {f"{r['given_name']} {r['family_name']}" for r in rows} | {r["family_name"] for r in rows}
    phones = {r["phone"] for r in rows} | {r["phone"].replace(" ", "") for r in rows}
    leaked = [s for s in names | phones if s.encode() in raw]
    assert not leaked, f"plaintext found in the database file: {leaked[:5]}"
    assert len(names) > 100
    assert len(phones) > 300
    exported = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert not any(p in exported for p in phones), "export without --include-personal leaked phones"


def test_usage_errors_exit_2(home: Path) -> None:
    assert tipsom("import", "cases", "x.csv", "--format", "bogus", home=home, check=False).returncode == 2
    assert tipsom("export", "cases", home=home, check=False).returncode == 2
