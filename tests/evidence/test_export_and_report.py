"""Acceptance: the CASE/UCO export passes case_validate; the custody report renders to PDF."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tipsom.cli.evidence import evidence_app
from tipsom.evidence.case_export import case_graph
from tipsom.evidence.custody import CustodyAction
from tipsom.evidence.locker import EvidenceLocker, Intake
from tipsom.evidence.report import custody_html
from tipsom.evidence.verify import verify
from tipsom.store.tables import audit_log

from .conftest import CASE_ID

CASE_VALIDATE = Path(sys.executable).parent / "case_validate"


@pytest.fixture
def custody(locker: EvidenceLocker, exhibit_files: list[Path], tmp_path: Path) -> EvidenceLocker:
    """A small but complete custody history: intake, copy, transfer, analysis, court, disposal."""
    locker.add_files(exhibit_files, Intake(CASE_ID, "Officer A", authority="Warrant W-2025-117",
                                           source="witness phone", place="Unit X evidence store"))
    first = f"{CASE_ID}-E001"
    locker.checkout(first, tmp_path / "copy.png", "Analyst C", purpose="reverse image search")
    locker.record(first, CustodyAction.TRANSFER, "Officer A", recipient="Custodian B", place="Unit X")
    locker.record(first, CustodyAction.ANALYSIS, "Analyst C", note="matched to advertisement on site Y")
    locker.record(first, CustodyAction.COURT, "Prosecutor D", place="District Court 3", purpose="trial")
    locker.record(f"{CASE_ID}-E003", CustodyAction.DISPOSAL, "Custodian B",
                  authorisation="Court order 2025/88")
    return locker


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CASE_VALIDATE), str(path)], check=False, capture_output=True, text=True,
                          timeout=120)


def test_case_export_passes_case_validate(custody: EvidenceLocker, tmp_path: Path) -> None:
    out = tmp_path / "case.jsonld"
    args = ["export", "--case", CASE_ID, "--format", "case", "-o", str(out)]
    result = CliRunner().invoke(evidence_app, args)
    assert result.exit_code == 0, result.output
    check = _validate(out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Conforms: True" in check.stdout
    graph = json.loads(out.read_text())["@graph"]
    kinds = [n["@type"] for n in graph]
    assert kinds.count("case-investigation:InvestigativeAction") == len(custody.events())
    assert kinds.count("uco-observable:File") == 3
    records = [n for n in graph if n["@type"] == "case-investigation:ProvenanceRecord"]
    assert sorted(r["case-investigation:exhibitNumber"] for r in records) == [
        f"{CASE_ID}-E00{n}" for n in (1, 2, 3)]
    [investigation] = [n for n in graph if n["@type"] == "case-investigation:Investigation"]
    authorisations = {a["case-investigation:authorizationIdentifier"]
                      for a in investigation["case-investigation:relevantAuthorization"]}
    assert authorisations == {"Warrant W-2025-117", "Court order 2025/88"}
    sha256 = custody.resolve(f"{CASE_ID}-E001").sha256
    hashes = [h for n in graph if n["@type"] == "uco-observable:File" for f in n["uco-core:hasFacet"]
              for h in f.get("uco-observable:hash", [])]
    pairs = [(h["uco-types:hashMethod"], h["uco-types:hashValue"]["@value"]) for h in hashes]
    assert ("SHA256", sha256) in pairs
    with custody.engine.connect() as conn:
        logged = conn.execute(select(audit_log.c.entity_id).where(audit_log.c.action == "export")).scalars()
        assert list(logged) == [CASE_ID]


def test_single_exhibit_export_is_valid_and_stable(custody: EvidenceLocker, tmp_path: Path) -> None:
    first = case_graph(custody, CASE_ID, f"{CASE_ID}-E003")
    assert first == case_graph(custody, CASE_ID, f"{CASE_ID}-E003")
    actions = [n for n in first["@graph"] if n["@type"] == "case-investigation:InvestigativeAction"]
    assert [a["uco-core:name"] for a in actions] == ["intake", "disposal"]
    out = tmp_path / "exhibit.jsonld"
    out.write_text(json.dumps(first))
    assert _validate(out).returncode == 0
    with pytest.raises(LookupError, match="belongs to case"):
        case_graph(custody, "OTHER-CASE", f"{CASE_ID}-E003")


def test_custody_report_pdf(custody: EvidenceLocker, tmp_path: Path) -> None:
    item = custody.resolve(f"{CASE_ID}-E001")
    html = custody_html(custody, item, verify(custody, CASE_ID))
    for expected in (item.exhibit_number, item.sha256, item.md5, "Warrant W-2025-117", "Custodian B",
                     "District Court 3", "Verified intact", "TSEAL1-"):
        assert expected in html
    assert "http" not in html.replace("http://www.w3", "")  # self-contained: nothing to fetch
    out = tmp_path / "custody.pdf"
    result = CliRunner().invoke(evidence_app, ["report", item.exhibit_number, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")


def test_report_shows_integrity_problems(custody: EvidenceLocker) -> None:
    item = custody.resolve(f"{CASE_ID}-E002")
    custody.vault.path_for(item.sha256).unlink()
    html = custody_html(custody, item, verify(custody, CASE_ID))
    assert "INTEGRITY PROBLEMS FOUND" in html
    assert "file missing" in html
