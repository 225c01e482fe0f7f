"""A clean refusal for every bad case file (issue 14 section 4) and for bad identifiers (issue 15 finding 12)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.exchange.helpers import contents, one_line_errors, run_cli
from tests.registry_helpers import write_cases
from tipsom.exchange.export import export_cases
from tipsom.exchange.importer import import_file
from tipsom.schema.document import DocumentValidator
from tipsom.store.db import Store

pytestmark = pytest.mark.usefixtures("data_key")

_CASE = {"case_id": "C1", "case_type": "TIP", "status": "Active", "reporting_org": "Org", "opened_on": "2024-05-01",
         "persons": [{"person_id": "P1", "role": "Victim"}]}


def _jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def _stored_store(tmp_path: Path) -> tuple[Store, dict[str, list[tuple[Any, ...]]]]:
    store = Store.init()
    import_file(store, write_cases(tmp_path / "good.jsonl", 5), actor="t")
    return store, contents(store)


def _refused(path: Path, *args: str) -> list[str]:
    result = run_cli("import", "cases", str(path), "-q", *args)
    assert result.returncode == 1, result.stderr
    return one_line_errors(result.stderr)


# --- deep nesting --------------------------------------------------------------------------------


def test_json_nested_10000_levels_is_one_refused_line(tmp_path: Path) -> None:
    store, before = _stored_store(tmp_path)
    deep = "[" * 10_000 + "]" * 10_000
    src = tmp_path / "deep.jsonl"
    src.write_text(json.dumps(_CASE) + "\n" + deep + "\n"
                   + json.dumps({**_CASE, "case_id": "C2", "notes": json.loads("[" * 200 + "]" * 200)}) + "\n",
                   encoding="utf-8")
    lines = _refused(src)
    assert f"{src}: row 2: column (record): JSON nested deeper than 16 levels" in lines
    assert f"{src}: row 3: column (record): JSON nested deeper than 16 levels" in lines
    assert contents(store) == before
    skipped = run_cli("import", "cases", str(src), "-q", "--skip-invalid")
    assert skipped.returncode == 0, skipped.stderr
    assert f"{src}: row 2: column (record): JSON nested deeper than 16 levels" in one_line_errors(skipped.stderr)
    rejected = Path(json.loads(skipped.stdout)["rejects_file"]).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["_row"] for line in rejected] == [2, 3]
    assert store.counts()["cases"] == len(before["case"]) + 1


# --- files that are not workbooks ------------------------------------------------------------------


def _not_workbooks(tmp_path: Path) -> dict[str, Path]:
    good = write_cases(tmp_path / "good.xlsx", 30)
    data = good.read_bytes()
    made = {
        "cut in half": data[: len(data) // 2],
        "random bytes": bytes(range(256)) * 8,
        "a CSV": write_cases(tmp_path / "c.csv", 3).read_bytes(),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    made["a ZIP of something else"] = buf.getvalue()
    out = {}
    for name, content in made.items():
        path = tmp_path / f"{name.replace(' ', '-')}.xlsx"
        path.write_bytes(content)
        out[name] = path
    return out


@pytest.mark.parametrize("fmt", ["native", "htcds"])
def test_files_that_are_not_workbooks_are_refused(tmp_path: Path, fmt: str) -> None:
    store, before = _stored_store(tmp_path)
    for name, path in _not_workbooks(tmp_path).items():
        lines = _refused(path, "--format", fmt)
        assert len(lines) == 1, (name, lines)
        expected = ("not an XLSX workbook (it does not start as one" if name in ("random bytes", "a CSV")
                    else "not a readable XLSX workbook (")
        assert lines[0].startswith(f"tipsom: {path}: {expected}"), (name, lines)
    assert contents(store) == before


@pytest.mark.usefixtures("initialised_store")
def test_workbook_damaged_after_its_start_is_refused(tmp_path: Path) -> None:
    """A workbook whose sheet XML is cut fails only while rows are read: still one line."""
    good = write_cases(tmp_path / "good.xlsx", 200)
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(damaged, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, data[: len(data) // 2] if item.filename.startswith("xl/worksheets/") else data)
    lines = _refused(damaged)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"tipsom: {damaged}: "), lines
    assert Store.init().counts()["cases"] == 0


@pytest.mark.usefixtures("initialised_store")
def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    src = write_cases(tmp_path / "c.csv", 5)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(src.read_bytes().replace(b"Org", "Organisation Zoë".encode("latin-1"), 1) + "é\n".encode(
        "latin-1"))
    lines = _refused(latin)
    assert lines == [f"tipsom: {latin}: not UTF-8 text (byte {lines[0].split('byte ')[1].split(' ')[0]} of a "
                     "block cannot be decoded); save the file as UTF-8"]


# --- implausible values ----------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "column", "reason"), [
    ({"opened_on": "2099-01-01"}, "opened_on", "in the future"),
    ({"year": 2099}, "year", "in the future"),
    ({"persons": [{"person_id": "P1", "role": "Victim", "birth_date": "2099-03-04"}]}, "birth_date",
     "in the future"),
    ({"persons": [{"person_id": "P1", "role": "Victim", "birth_date": "2024-06-01"}]}, "birth_date",
     "after the case's opened_on (2024-05-01)"),
    ({"persons": [{"person_id": "P1", "role": "Victim", "recruitment_date": "1800-01-01"}]}, "recruitment_date",
     "before 1900-01-01, not plausible"),
    ({"case_id": {"a": 1}}, "case_id", "must be text, not a JSON object"),
    ({"case_id": "../etc/passwd"}, "case_id", "not an identifier"),
    ({"case_id": "C1?x=1#top"}, "case_id", "not an identifier"),
    ({"case_id": "<b>C1</b>"}, "case_id", "not an identifier"),
    ({"case_id": "C" * 65}, "case_id", "not an identifier"),
    ({"case_id": "a/b"}, "case_id", "not an identifier"),
    ({"case_id": "a..b"}, "case_id", "not an identifier"),
    ({"persons": [{"person_id": "P 1", "role": "Victim"}]}, "person_id", "not an identifier"),
    ({"persons": [{"person_id": "P1", "role": "Victim", "email": "no address"}]}, "email", "not an e-mail"),
    ({"persons": [{"person_id": "P1", "role": "Victim", "phone": "call me maybe"}]}, "phone", "not a phone number"),
    ({"persons": [{"person_id": "P1", "role": "Victim", "phone": "=1+2"}]}, "phone", "not a phone number"),
])
def test_implausible_values_are_problems(change: dict[str, Any], column: str, reason: str) -> None:
    _, problems = DocumentValidator().validate({**_CASE, **change}, 4)
    assert [(p.row, p.column) for p in problems] == [(4, column)]
    assert problems[0].reason.startswith(reason), problems


def test_implausible_values_refused_by_the_command_with_one_line_each(tmp_path: Path) -> None:
    store, before = _stored_store(tmp_path)
    docs = [{**_CASE, "case_id": "C1", "opened_on": "2099-01-01"},
            {**_CASE, "case_id": "C2", "persons": [{"person_id": "P1", "role": "Victim", "birth_date": "2024-06-01"}]},
            {**_CASE, "case_id": {"nested": "object"}},
            {**_CASE, "case_id": "C4", "persons": [{"person_id": "P1", "role": "Victim",
                                                    "recruitment_date": "1800-05-05"}]},
            {**_CASE, "case_id": "C5/../x"}]
    src = _jsonl(tmp_path / "odd.jsonl", docs)
    lines = _refused(src)
    assert lines[:5] == [
        f"{src}: row 1: column opened_on: in the future (value '2099-01-01')",
        f"{src}: row 2: column birth_date: after the case's opened_on (2024-05-01)",
        f"{src}: row 3: column case_id: must be text, not a JSON object (value \"{{'nested': 'object'}}\")",
        f"{src}: row 4: column recruitment_date: before 1900-01-01, not plausible (value '1800-05-05')",
        f"{src}: row 5: column case_id: not an identifier: 1 to 64 letters, digits and . _ : - starting with a "
        "letter or digit, without '..' (value 'C5/../x')",
    ]
    assert lines[5] == f"tipsom: {src}: 5 problem(s) in 5 record(s); nothing was imported"
    assert contents(store) == before


def test_csv_rows_with_implausible_values_are_refused_alike_on_both_paths(tmp_path: Path) -> None:
    """The columnar path hands such rows to the row-wise validator: same problems either way."""
    from tests.registry_helpers import csv_rows, write_rows
    from tipsom.exchange.importer import ImportFailed, import_records
    from tipsom.exchange.native import read_csv

    rows = csv_rows(write_cases(tmp_path / "c.csv", 12))
    rows[1]["opened_on"], rows[2]["case_id"], rows[3]["phone"] = "2099-01-01", "a/b", "not a phone"
    rows[4]["birth_date"], rows[4]["opened_on"] = "2020-02-02", "2019-01-01"
    src = write_rows(tmp_path / "odd.csv", rows)
    found = []
    for run in (lambda s: import_file(s, src, actor="t", workers=0),
                lambda s: import_records(s, read_csv(src), source=str(src), actor="t")):
        with pytest.raises(ImportFailed) as info:
            run(Store.init())
        found.append([(p.row, p.column) for p in info.value.report.problems])
    assert found[0] == found[1]
    assert {(3, "opened_on"), (4, "case_id"), (5, "phone"), (6, "birth_date")} <= set(found[0])


def test_web_and_api_validator_refuses_bad_identifiers() -> None:
    """The web form and the API save through :class:`DocumentValidator`, the importers' validator."""
    from tipsom.web import casework

    assert casework.DocumentValidator is DocumentValidator
    _, problems = DocumentValidator().validate({**_CASE, "case_id": "x?y"}, 1)
    assert [p.column for p in problems] == ["case_id"]


def test_exported_identifiers_and_dates_import_again(tmp_path: Path) -> None:
    """Everything tipsom writes passes its own checks (no self-made refusals after an upgrade)."""
    store = Store.init()
    import_file(store, write_cases(tmp_path / "c.jsonl", 80), actor="t")
    out = tmp_path / "out.xlsx"
    export_cases(store, out, fmt="htcds", include_personal=True, actor="t")
    other = Store.init(f"sqlite:///{tmp_path / 'other.db'}")
    assert import_file(other, out, fmt="htcds", actor="t").rejected == 0
