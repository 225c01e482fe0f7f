"""A bad file cannot overwrite a good record (issue 14, section 3)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from tests.exchange.helpers import contents, one_line_errors, run_cli
from tests.registry_helpers import csv_rows, write_cases, write_rows
from tipsom.exchange import formats
from tipsom.exchange.export import export_cases
from tipsom.exchange.importer import ImportFailed, import_file, import_records
from tipsom.exchange.native import ReadError, read_csv
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents
from tipsom.store.tables import REGISTRY

pytestmark = pytest.mark.usefixtures("data_key")


def _store() -> Store:
    return Store.init()


def _documents(store: Store) -> dict[str, dict[str, Any]]:
    with store.begin() as conn:
        return {d["case_id"]: d for d in iter_documents(conn, store.model, cipher=store.cipher)}


def _jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d, default=str) + "\n" for d in docs), encoding="utf-8")
    return path


def _imported(tmp_path: Path, n: int = 20, seed: int = 3) -> tuple[Store, Path]:
    src = write_cases(tmp_path / "cases.csv", n, seed=seed)
    store = _store()
    import_file(store, src, actor="t")
    return store, src


# --- records cut short ---------------------------------------------------------------------


@pytest.mark.parametrize("cut", [3, -3, "quote"])
def test_truncated_reimport_leaves_the_stored_record_and_exits_1(tmp_path: Path, cut: int | str) -> None:
    """``head -c`` of an imported file, cut inside its last row, is refused; the stored person stays whole."""
    store, src = _imported(tmp_path)
    data = src.read_bytes()
    last_start = data.rstrip(b"\r\n").rfind(b"\n") + 1
    truncated = tmp_path / "cut.csv"
    if cut == "quote":  # the last row ends inside a quoted value (an address with a line break)
        rows = csv_rows(src)
        rows[-1]["address"] = "12 Long Road\nFlat 3"
        full = write_rows(tmp_path / "quoted.csv", rows).read_bytes()
        truncated.write_bytes(full[: full.index(b"12 Long Road") + 5])
    elif isinstance(cut, int) and cut < 0:  # inside the last value, every comma still there
        truncated.write_bytes(data[: len(data.rstrip(b"\r\n")) + cut])
    else:
        truncated.write_bytes(data[: last_start + int(cut)])
    before = contents(store)
    result = run_cli("import", "cases", str(truncated), "-q")
    assert result.returncode == 1
    lines = one_line_errors(result.stderr)
    last_line = truncated.read_text(encoding="utf-8").count("\n") + 1
    assert any(line.startswith(f"{truncated}: row {last_line}: column (record): ") and "cut short" in line
               for line in lines), lines
    assert contents(store) == before


def test_short_row_in_the_middle_is_refused_the_same_on_both_paths(tmp_path: Path) -> None:
    rows = csv_rows(write_cases(tmp_path / "c.csv", 8))
    src = tmp_path / "short.csv"
    text = write_rows(tmp_path / "full.csv", rows).read_text(encoding="utf-8").splitlines(keepends=True)
    text[3] = ",".join(text[3].split(",")[:5]) + "\r\n"
    src.write_text("".join(text), encoding="utf-8")
    reports = []
    for run in (lambda s: import_file(s, src, actor="t", workers=0),
                lambda s: import_records(s, read_csv(src), source=str(src), actor="t")):
        with pytest.raises(ImportFailed) as info:
            run(_store())
        reports.append([(p.row, p.column, p.reason) for p in info.value.report.problems])
    assert reports[0] == reports[1] == [(4, "(record)", f"the record has 5 of the header's {len(rows[0])} "
                                                       "values: cut short?")]


# --- the same cases in another format --------------------------------------------------------


def test_csv_then_jsonl_reports_all_unchanged_and_keeps_context_fields(tmp_path: Path) -> None:
    store, _ = _imported(tmp_path, n=40)
    persons = REGISTRY["person"]
    with store.engine.begin() as conn:  # as ``tipsom context flag-cases`` fills them: only where empty
        filled = conn.execute(update(persons).where(persons.c.climate_hazard.is_(None))
                              .values(climate_hazard="Flood", climate_event_year=2020)).rowcount
    assert filled > 0
    jsonl = write_cases(tmp_path / "cases.jsonl", 40)
    again = import_file(store, jsonl, actor="t")
    assert again.written.unchanged == store.counts()["persons"]
    assert (again.written.persons_updated, again.written.cases_updated) == (0, 0)
    xlsx = write_cases(tmp_path / "cases.xlsx", 40)
    assert import_file(store, xlsx, actor="t").written.unchanged == store.counts()["persons"]
    # A real change still updates, and keeps what the context flags filled in.
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    docs[0]["persons"][0]["age"] = 33
    changed = import_file(store, _jsonl(tmp_path / "changed.jsonl", docs), actor="t")
    assert changed.written.persons_updated == 1
    stored = _documents(store)[docs[0]["case_id"]]["persons"][0]
    assert (stored["age"], stored["climate_hazard"], stored["climate_event_year"]) == (33, "Flood", 2020)


# --- outputs that would destroy an input --------------------------------------------------------


@pytest.mark.usefixtures("initialised_store")
def test_rejects_file_that_is_the_input_is_refused(tmp_path: Path) -> None:
    rows = csv_rows(write_cases(tmp_path / "c.csv", 30))
    rows[5]["sex"] = "Femal"
    src = write_rows(tmp_path / "in.csv", rows)
    link = tmp_path / "link.csv"
    link.hardlink_to(src)
    original = src.read_bytes()
    for rejects in (src, link):
        result = run_cli("import", "cases", str(src), "--skip-invalid", "--rejects", str(rejects), "-q")
        assert result.returncode == 2
        assert one_line_errors(result.stderr) == [f"tipsom: {rejects}: is the input file {src}; name another "
                                                  "output file"]
        assert src.read_bytes() == original
    missing = tmp_path / "no" / "such" / "folder.csv"
    refused = run_cli("import", "cases", str(src), "--skip-invalid", "--rejects", str(missing), "-q")
    assert refused.returncode == 2
    assert one_line_errors(refused.stderr) == [f"tipsom: {missing}: the folder {missing.parent} does not exist"]
    assert _store().counts()["cases"] == 0


@pytest.mark.usefixtures("initialised_store")
def test_existing_rejects_and_export_files_are_kept_unless_forced(tmp_path: Path) -> None:
    rows = csv_rows(write_cases(tmp_path / "c.csv", 30))
    rows[5]["sex"] = "Femal"
    src = write_rows(tmp_path / "in.csv", rows)
    rejects = tmp_path / "in.csv.rejects"
    rejects.write_text("earlier work\n", encoding="utf-8")
    refused = run_cli("import", "cases", str(src), "--skip-invalid", "-q")
    assert refused.returncode == 2
    assert one_line_errors(refused.stderr) == [f"tipsom: {rejects}: exists; give --force to overwrite it"]
    assert rejects.read_text(encoding="utf-8") == "earlier work\n"
    assert run_cli("import", "cases", str(src), "--skip-invalid", "--force", "-q").returncode == 0
    assert "Femal" in rejects.read_text(encoding="utf-8")
    out = tmp_path / "export.csv"
    out.write_text("a good earlier export\n", encoding="utf-8")
    assert run_cli("export", "cases", "-o", str(out)).returncode == 2
    assert out.read_text(encoding="utf-8") == "a good earlier export\n"
    assert run_cli("export", "cases", "-o", str(out), "--force").returncode == 0
    assert len(csv_rows(out)) == len(rows) - 1


# --- repeated columns and records ----------------------------------------------------------------


def _repeat_column(src: Path, out: Path, column: str, value: str) -> Path:
    with src.open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*table[0], column])
        writer.writerows([*r, value] for r in table[1:])
    return out


def _as_xlsx(src: Path, out: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    with src.open(newline="", encoding="utf-8") as fh:
        for r in csv.reader(fh):
            ws.append(r)
    wb.save(out)
    return out


@pytest.mark.usefixtures("initialised_store")
@pytest.mark.parametrize(("column", "value"), [("case_type", "SOM"), ("age", "45")])
def test_repeated_column_is_refused(tmp_path: Path, column: str, value: str) -> None:
    src = write_cases(tmp_path / "c.csv", 10)
    doubled = _repeat_column(src, tmp_path / "doubled.csv", column, value)
    for path in (doubled, _as_xlsx(doubled, tmp_path / "doubled.xlsx")):
        result = run_cli("import", "cases", str(path), "-q")
        assert result.returncode == 1
        assert one_line_errors(result.stderr) == [
            f"tipsom: {path}: row 1: {column}: column named twice in the header; remove one of them"]
    assert _store().counts()["cases"] == 0


def test_repeated_htcds_column_is_refused(tmp_path: Path) -> None:
    store, _ = _imported(tmp_path, n=15)
    out = tmp_path / "htcds.xlsx"
    export_cases(store, out, fmt="htcds", actor="t")
    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None
    codes = [c.value for c in ws[1]]
    gender = codes.index("prs_Gender") + 1
    extra = ws.max_column + 1
    for r in range(1, ws.max_row + 1):
        ws.cell(r, extra, ws.cell(r, gender).value)
    wb.save(out)
    with pytest.raises(ReadError, match="prs_Gender: column named twice"):
        import_file(_store(), out, fmt="htcds", actor="t")


@pytest.mark.usefixtures("initialised_store")
def test_same_person_twice_is_a_problem(tmp_path: Path) -> None:
    rows = csv_rows(write_cases(tmp_path / "c.csv", 10))
    twice = write_rows(tmp_path / "twice.csv", [*rows, {**rows[2], "age": "45"}])
    result = run_cli("import", "cases", str(twice), "-q")
    assert result.returncode == 1
    pid = rows[2]["person_id"]
    assert f"{twice}: row {len(rows) + 2}: column person_id: repeats row 4: a file holds each case and person " \
           f"once (value {pid!r})" in one_line_errors(result.stderr)
    assert _store().counts()["cases"] == 0


def test_same_case_twice_in_jsonl_is_a_problem(tmp_path: Path) -> None:
    jsonl = write_cases(tmp_path / "c.jsonl", 6)
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    other = {**docs[1], "persons": [{**docs[1]["persons"][0], "person_id": "P9"}]}
    with pytest.raises(ImportFailed) as info:
        import_file(_store(), _jsonl(tmp_path / "twice.jsonl", [*docs, other]), actor="t")
    assert [(p.row, p.column, p.reason) for p in info.value.report.problems] == [
        (7, "case_id", "repeats row 2: a file holds each case and person once")]


def test_repeats_across_chunks_are_refused_and_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A repeat in a later unit of work is found too; with --skip-invalid the first record is kept."""
    monkeypatch.setattr(formats, "CHUNK_ROWS", 4)
    rows = csv_rows(write_cases(tmp_path / "c.csv", 12))
    src = write_rows(tmp_path / "twice.csv", [*rows, {**rows[1], "age": "45"}])
    with pytest.raises(ImportFailed):
        import_records(_store(), read_csv(src), source=str(src), actor="t")
    store = _store()
    report = import_records(store, read_csv(src), source=str(src), actor="t", skip_invalid=True,
                            rejects_path=tmp_path / "rejects.csv")
    assert (report.rejected, report.accepted) == (1, len(rows))
    rejected = csv_rows(tmp_path / "rejects.csv")
    assert [(r["_row"], r["age"]) for r in rejected] == [(str(len(rows) + 2), "45")]
    stored = _documents(store)[rows[1]["case_id"]]["persons"]
    assert [str(p.get("age", "")) for p in stored if p["person_id"] == rows[1]["person_id"]] == [rows[1]["age"]]


# --- HTCDS rows without tipsom ids -----------------------------------------------------------------


def test_htcds_without_ids_edited_and_reimported_updates_the_victim(tmp_path: Path) -> None:
    store, _ = _imported(tmp_path, n=15)
    out = tmp_path / "htcds.xlsx"
    export_cases(store, out, fmt="htcds", include_personal=True, actor="t")
    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None
    for col in sorted((c.column for c in ws[1] if str(c.value or "").startswith("tipsom_")), reverse=True):
        ws.delete_cols(col)
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    other = Store.init(f"sqlite:///{tmp_path / 'other.db'}")
    first = import_file(other, plain, fmt="htcds", actor="t")
    victims = other.counts()["victims"]
    assert first.written.persons_created == victims > 5
    codes = [c.value for c in ws[1]]
    named = next(r for r in range(3, ws.max_row + 1)
                 if all(ws.cell(r, codes.index(c) + 1).value for c in ("prs_FirstName", "prs_Birthdate")))
    ws.cell(named, codes.index("vic_LocationOfExploitation") + 1, "A place written again")
    wb.save(plain)
    again = import_file(other, plain, fmt="htcds", actor="t")
    assert other.counts()["victims"] == victims
    assert again.written.persons_updated == 1
    assert again.written.unchanged == victims - 1


def test_htcds_row_matching_two_stored_persons_is_a_possible_duplicate(tmp_path: Path) -> None:
    store, _ = _imported(tmp_path, n=15)
    out = tmp_path / "htcds.xlsx"
    export_cases(store, out, fmt="htcds", include_personal=True, actor="t")
    wb = load_workbook(out)
    ws = wb.active
    assert ws is not None
    codes = [c.value for c in ws[1]]
    ids = [c.column for c in ws[1] if str(c.value or "").startswith("tipsom_")]
    for code in ("tipsom_case_id", "tipsom_person_id"):
        ws.cell(4, codes.index(code) + 1, f"{ws.cell(3, codes.index(code) + 1).value}-copy")
    for code in ("prs_FirstName", "prs_SecondName", "prs_Birthdate", "cas_CaseOwner"):
        ws.cell(4, codes.index(code) + 1, ws.cell(3, codes.index(code) + 1).value)
    wb.save(out)
    import_file(store, out, fmt="htcds", actor="t", replace=True)
    for col in sorted(ids, reverse=True):
        ws.delete_cols(col)
    ws.delete_rows(4, ws.max_row)
    wb.save(out)
    with pytest.raises(ImportFailed) as info:
        import_file(store, out, fmt="htcds", actor="t")
    assert [p.row for p in info.value.report.problems] == [3]
    assert "possible duplicate" in info.value.report.problems[0].reason


# --- updates that remove stored values --------------------------------------------------------------


def test_removing_stored_records_needs_replace(tmp_path: Path) -> None:
    jsonl = write_cases(tmp_path / "c.jsonl", 30)
    store = _store()
    import_file(store, jsonl, actor="t")
    docs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    with_legs = next(d for d in docs if any(p.get("route_legs") for p in d["persons"]))
    person = next(p for p in with_legs["persons"] if p.get("route_legs"))
    person["route_legs"] = []
    several = next(d for d in docs if len(d["persons"]) > 1 and d is not with_legs)
    dropped = several["persons"].pop()
    edited = _jsonl(tmp_path / "edited.jsonl", docs)
    before = contents(store)
    result = run_cli("import", "cases", str(edited), "-q")
    assert result.returncode == 1
    lines = one_line_errors(result.stderr)
    legs_row = docs.index(with_legs) + 1
    assert any(line.startswith(f"{edited}: row {legs_row}: column route_legs: the file holds 0 of the ")
               and "--replace" in line for line in lines), lines
    assert any(f"stored person {dropped['person_id']} of case {several['case_id']} is not in this file" in line
               for line in lines), lines
    assert contents(store) == before
    replaced = run_cli("import", "cases", str(edited), "--replace", "-q")
    assert replaced.returncode == 0, replaced.stderr
    after = _documents(store)
    assert not next(p for p in after[with_legs["case_id"]]["persons"]
                    if p["person_id"] == person["person_id"])["route_legs"]
    assert dropped["person_id"] not in {p["person_id"] for p in after[several["case_id"]]["persons"]}
