"""The data standard: loader, enums, crosswalks and the generated dictionary."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from tipsom.exchange.crosswalk import load_crosswalk
from tipsom.schema.dictionary import render_dictionary
from tipsom.schema.enums import ENUM_CODELISTS
from tipsom.schema.model import SCHEMA_DIR, SchemaError, get_model, load_model

ROOT = Path(__file__).resolve().parents[2]


def test_dictionary_matches_schema() -> None:
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_dictionary(), (
        "docs/data-dictionary.md is out of date: run `tipsom schema dictionary -o docs/data-dictionary.md`"
    )


@pytest.mark.parametrize("name", sorted(ENUM_CODELISTS))
def test_enums_equal_code_lists(name: str) -> None:
    assert {e.value for e in ENUM_CODELISTS[name]} == set(get_model().codelists[name].codes)


def test_htcds_values_are_kept(reference: Path) -> None:
    """Where HTCDS has a picklist, every HTCDS value is a code of ours, spelled the same."""
    import json

    htcds = json.loads((reference / "standards" / "code_lists.json").read_text())["htcds_v2"]["code_lists"]
    model = get_model()
    checked = 0
    for entity in model.entities.values():
        for f in entity.fields.values():
            if f.htcds in htcds and f.codelist is not None:
                missing = set(htcds[f.htcds]["values"]) - f.codelist.codes
                assert not missing, f"{f.entity}.{f.name} lacks HTCDS values {missing}"
                checked += 1
    assert checked >= 8
    extensions = {v.code for cl in model.codelists.values() for v in cl.values if v.extension}
    assert "ForcedCriminality" in extensions


def test_crosswalk_csv_codes_exist() -> None:
    model = get_model()
    lists = {"TypeOfExploitation": "exploitation_form", "MethodsOfControl": "control_method",
             "TypeOfSexExploitation": "sex_exploitation_type", "ForcedLabourIndustry": "sector"}
    with (SCHEMA_DIR / "crosswalks" / "exploitation_and_control.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    checked = 0
    for row in rows:
        value = row["htcds_v2_value"]
        if "=" not in value or " " in value.split("=", 1)[1]:
            continue
        field, code = value.split("=", 1)
        if field in lists:
            assert code in model.codelists[lists[field]].codes, f"crosswalk value {value} unknown"
            checked += 1
    assert checked >= 30


def test_glotip_crosswalk_covers_every_form() -> None:
    forms = set(get_model().codelists["exploitation_form"].codes)
    glotip = load_crosswalk("glotip")["forms"]
    assert set(glotip) == forms
    assert {v["sdg_series"] for v in glotip.values()} <= {"VC_HTF_DETVSX", "VC_HTF_DETVFL", "VC_HTF_DETVOG",
                                                          "VC_HTF_DETVOP"}


def test_htcds_crosswalk_targets_exist() -> None:
    model = get_model()
    cw = load_crosswalk("htcds")
    for code, target in {**cw["columns"], **cw["extension_columns"]}.items():
        if target is None:
            continue
        entity = "identification" if target[0] == "first_identification" else target[0]
        assert target[1] in model[entity].fields, f"{code} maps to unknown field {target}"
        assert code in cw["labels"]


def test_malformed_schema_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "entities").mkdir()
    (tmp_path / "codelists.yaml").write_text(yaml.safe_dump({"sex": {"label": "Sex", "values": [
        {"code": "F", "label": "Female"}]}}))
    (tmp_path / "entities" / "case.yaml").write_text(yaml.safe_dump({"case": {
        "label": "Case", "table": "cases", "fields": {"sex": {"type": "code", "codelist": "gender"}}}}))
    with pytest.raises(SchemaError, match=r"case\.sex: code list 'gender' is not defined"):
        load_model(tmp_path)


def test_malformed_documents_are_problems_not_crashes() -> None:
    from tipsom.schema.document import DocumentValidator

    validator = DocumentValidator()
    doc = {"case_id": "C1", "case_type": "TIP", "reporting_org": "X",
           "persons": [{"person_id": "P1", "role": "Victim", "age": 10**400, "route_legs": "x"}, "nobody"]}
    _, problems = validator.validate(doc, 1)
    found = {(p.column, p.reason.split(":")[0]) for p in problems}
    assert ("persons[0].age", "not a number") in found
    assert ("persons[0].route_legs", "must be a list") in found
    assert ("persons[1]", "must be an object") in found
