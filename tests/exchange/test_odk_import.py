"""Submissions collected offline (ODK Central CSV, KoboToolbox JSON) imported idempotently, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.exchange.helpers import contents
from tipsom.cli.main import app
from tipsom.exchange.importer import ImportFailed, import_file
from tipsom.exchange.odk import SOURCE, submission_case_id
from tipsom.exchange.xlsform import ENGLISH, _Builder
from tipsom.schema.document import PERSONS
from tipsom.schema.model import FieldType, get_model
from tipsom.store.db import Store
from tipsom.synth.cases import CaseGenerator

pytestmark = pytest.mark.usefixtures("data_key")
runner = CliRunner()
#: The columns ODK Central writes after the form's own questions.
CENTRAL_TAIL = ["meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
                "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
N = 200

Path_ = tuple[str, ...]


def _question_paths() -> list[Path_]:
    """Every question of tipsom's form with its group path, in form order (as servers name export columns)."""
    build = _Builder([ENGLISH], None)
    build.entity(get_model()["case"], subgroups=False)
    build.entity(get_model()["person"], subgroups=True)
    groups: list[str] = []
    paths: list[Path_] = [("start",), ("end",)]
    for row in build.survey:
        if row["type"] == "begin group":
            groups.append(row["name"])
        elif row["type"] == "end group":
            groups.pop()
        else:
            paths.append((*groups, row["name"]))
    return paths


def _answer(value: Any, ftype: FieldType) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _submissions(n: int = N) -> Iterator[tuple[str, dict[Path_, str]]]:
    """Synthetic cases as submissions of tipsom's form: one case, its first person (what an interview records)."""
    model = get_model()
    fields = {**model["case"].fields, **model["person"].fields}
    paths = _question_paths()
    for i, doc in enumerate(CaseGenerator(16).cases(n)):
        person = doc[PERSONS][0]
        answers = {p: _answer(doc.get(p[-1], person.get(p[-1])), fields[p[-1]].type) if p[-1] in fields else ""
                   for p in paths}
        answers[("start",)] = answers[("end",)] = "2024-05-01T10:00:00.000+03:00"
        yield str(uuid.UUID(int=i + 1)), answers


def write_central_csv(path: Path, submissions: list[tuple[str, dict[Path_, str]]]) -> Path:
    """ODK Central's CSV export: SubmissionDate, the questions as ``group-name``, then its own columns."""
    paths = _question_paths()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["SubmissionDate", *("-".join(p) for p in paths), *CENTRAL_TAIL])
        for sid, answers in submissions:
            out.writerow(["2024-05-02T08:00:00.000Z", *(answers[p] for p in paths),
                          f"uuid:{sid}", f"uuid:{sid}", "7", "tablet 3", "0", "0", "", "", "collect:abc", "0",
                          "1.0"])
    return path


def write_kobo_json(path: Path, submissions: list[tuple[str, dict[Path_, str]]]) -> Path:
    """KoboToolbox's JSON export (API v2 ``data.json``): flat ``group/name`` keys, its own ``_`` keys."""
    results = [{**{"/".join(p): v for p, v in answers.items() if v}, "_id": i, "_uuid": sid,
                "meta/instanceID": f"uuid:{sid}", "formhub/uuid": "f00d", "__version__": "vABC",
                "_submission_time": "2024-05-02T08:00:00", "_status": "submitted_via_web", "_tags": [],
                "_validation_status": {}}
               for i, (sid, answers) in enumerate(submissions, start=1)]
    path.write_text(json.dumps({"count": len(results), "results": results}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def submissions() -> list[tuple[str, dict[Path_, str]]]:
    return list(_submissions())


def test_central_csv_imports_once_and_kobo_json_gives_the_same_store(
        tmp_path: Path, submissions: list[tuple[str, dict[Path_, str]]]) -> None:
    central = write_central_csv(tmp_path / "central.csv", submissions)
    store = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    first = import_file(store, central, fmt="odk", actor="t")
    assert (first.written.cases_created, first.written.persons_created) == (N, N)
    stored = contents(store)
    sid, answers = submissions[0]
    cid = submission_case_id(f"uuid:{sid}")
    assert dict(next(r for r in stored["case"] if dict(r)["id"] == cid))["source"] == SOURCE
    person = dict(next(r for r in stored["person"] if dict(r)["case_id"] == cid))
    for name in ("given_name", "phone", "gender", "exploitation_forms", "role"):
        answer = next(v for p, v in answers.items() if p[-1] == name)
        stored_value = person.get(name, person.get(f"{name}_enc"))
        assert answer.split() == str(stored_value or "").replace("|", " ").split(), name

    res = runner.invoke(app, ["import", "cases", str(central), "--format", "odk", "--db", str(store.engine.url)])
    assert res.exit_code == 0, res.output
    again = json.loads(res.stdout)
    assert again["already_imported"] == N
    assert again["cases_created"] == again["persons_created"] == again["cases_updated"] == 0
    stored_again = contents(store)
    assert stored_again["case"] == stored["case"]
    assert stored_again["person"] == stored["person"]

    kobo = Store.init(f"sqlite:///{tmp_path / 'b.db'}")
    import_file(kobo, write_kobo_json(tmp_path / "kobo.json", submissions), fmt="odk", actor="t")
    from_kobo = contents(kobo)
    for table in ("case", "person"):
        assert from_kobo[table] == stored[table], table


def test_a_bad_code_names_file_row_and_field_and_nothing_is_imported(
        tmp_path: Path, db_url: str, submissions: list[tuple[str, dict[Path_, str]]]) -> None:
    """On both backends: the refused file changes nothing; a cumulative export then adds only the new ones."""
    store = Store.init(db_url)
    import_file(store, write_central_csv(tmp_path / "first.csv", submissions[:5]), fmt="odk", actor="t")
    before = contents(store)
    gender = next(p for p in _question_paths() if p[-1] == "gender")
    bad = [(sid, {**answers, gender: "Unknown-code"} if i == 7 else answers)
           for i, (sid, answers) in enumerate(submissions[:20])]
    source = write_central_csv(tmp_path / "bad.csv", bad)
    res = runner.invoke(app, ["import", "cases", str(source), "--format", "odk", "--db", db_url])
    assert res.exit_code == 1, res.output
    line = next(ln for ln in res.stderr.splitlines() if "Unknown-code" in ln)
    # The header is row 1, so the eighth submission is row 9.
    assert line.startswith(f"{source}: row 9: column gender: "), line
    with pytest.raises(ImportFailed):
        import_file(store, source, fmt="odk", actor="t")
    assert contents(store) == before
    cumulative = import_file(store, write_central_csv(tmp_path / "all.csv", submissions[:20]), fmt="odk", actor="t")
    assert (cumulative.written.cases_created, cumulative.already_imported) == (15, 5)


def test_htcds_form_submissions_import_through_the_htcds_crosswalk(tmp_path: Path) -> None:
    """The HTCDS XLSForm's own question names, its alpha-2 citizenship and ``;``-separated Kobo CSV."""
    sid = str(uuid.UUID(int=99))
    header = ["start", "end", "con_Consent", "prs_First_Name", "prs_Birthdate", "prs_Gender", "prs_Citizenship",
              "vic_Methods_of_Control", "vic_Methods_of_Control/DebtBondage", "vic_TraffickingStatus",
              "vic_TraffickingStatusDecisionMakingOrg", "cas_CaseOwner", "__version__", "_id", "_uuid"]
    row = ["", "", "TRUE", "Amina", "1990-02-03", "Feminine", "NG", "DebtBondage", "1",
           "ActualVictimOfTrafficking", "Police", "NGO Alpha", "vSmt", "1", sid]
    source = tmp_path / "htcds_kobo.csv"
    source.write_text(";".join(header) + "\n" + ";".join(row) + "\n", encoding="utf-8")
    store = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    import_file(store, source, fmt="odk", actor="t")
    stored = contents(store)
    person = dict(stored["person"][0])
    assert dict(stored["case"][0])["id"] == submission_case_id(sid)
    assert dict(stored["case"][0])["reporting_org"] == "NGO Alpha"
    assert person["role"] == "Victim"
    assert person["status_decided_by"] == "Police"
    assert "NGA" in str(person["citizenship"])
    assert "DebtBondage" in str(person["control_methods"])


def test_odk_central_odata_json_is_read_through_its_nested_groups(tmp_path: Path) -> None:
    sid = str(uuid.UUID(int=7))
    submission = {"__id": f"uuid:{sid}", "__system": {"submitterName": "tablet 3", "reviewState": None},
                  "start": "2024-05-01T10:00:00.000+03:00",
                  "case": {"case_type": "TIP", "reporting_org": "NGO Alpha", "deaths_on_route": None},
                  "person": {"section_identity": {"role": "PresumedVictim", "given_name": "Dara"},
                             "section_age": {"age": 15, "age_disputed": "yes"},
                             "section_children": {"unaccompanied": "yes"},
                             "section_exploitation": {"exploitation_forms": "ForcedBegging ForcedLabour"}},
                  "meta": {"instanceID": f"uuid:{sid}"}}
    source = tmp_path / "Submissions.json"
    source.write_text(json.dumps({"@odata.context": "x", "value": [submission]}), encoding="utf-8")
    store = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    report = import_file(store, source, fmt="odk", actor="t")
    assert report.written.cases_created == 1
    person = dict(contents(store)["person"][0])
    assert person["case_id"] == submission_case_id(sid)
    assert (person["age"], person["age_disputed"], person["unaccompanied"]) == (15, True, True)
    assert person["given_name_enc"] == "Dara"
    assert sorted(str(person["exploitation_forms"]).replace("|", " ").split()) == ["ForcedBegging", "ForcedLabour"]
