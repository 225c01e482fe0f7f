"""The offline form: tipsom's XLSForm from the standard, and HTCDS's, both as ODK's converter sees them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.core.errors import InputError
from tipsom.core.vocab import Language
from tipsom.exchange.xlsform import CHILD_GROUP, FORM_ID, SECTION, check_xlsform
from tipsom.schema.model import FieldType, get_model

HTCDS_FORM = Path("/work/shared/reference/standards/htcds/htcds_xlsform.xlsx")
XF = "{http://www.w3.org/2002/xforms}"
runner = CliRunner()


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The form as ``tipsom export xlsform`` writes it, in all four languages."""
    out = tmp_path_factory.mktemp("form") / "case.xlsx"
    res = runner.invoke(app, ["export", "xlsform", "-o", str(out), "--org", "NGO Alpha"])
    assert res.exit_code == 0, res.output
    return out


def _sheet(path: Path, name: str) -> list[dict[str, str]]:
    rows = list(load_workbook(path, read_only=True)[name].iter_rows(values_only=True))
    return [{str(h): str(v) for h, v in zip(rows[0], row, strict=False) if v is not None} for row in rows[1:]]


@pytest.mark.skipif(not HTCDS_FORM.is_file(), reason="HTCDS reference form not present")
def test_the_htcds_form_converts() -> None:
    xform = ET.fromstring(check_xlsform(HTCDS_FORM))
    binds = {b.get("nodeset", "").rsplit("/", 1)[-1] for b in xform.iter(f"{XF}bind")}
    assert {"con_Consent", "prs_Birthdate", "vic_TypeOfExploitation"} <= binds


def test_tipsom_form_converts_with_every_field_of_case_and_person_and_their_codes(form: Path) -> None:
    model = get_model()
    xform = ET.fromstring(check_xlsform(form))
    binds = {b.get("nodeset", "").rsplit("/", 1)[-1]: b for b in xform.iter(f"{XF}bind")}
    for entity in ("case", "person"):
        for f in model[entity].fields.values():
            if f.type is not FieldType.ID and f.name != "source":
                assert f.name in binds, f.name
                assert (binds[f.name].get("required") == "true()") is f.required, f.name
    choices = _sheet(form, "choices")
    for f in model["person"].fields.values():
        if f.codelist is not None:
            listed = {c["name"] for c in choices if c["list_name"] == f.codelist.name}
            assert listed == f.codelist.codes, f.name
    assert binds[f"{SECTION}{CHILD_GROUP}"].get("relevant", "").count("/age") == 2
    settings = _sheet(form, "settings")[0]
    assert settings["form_id"] == FORM_ID


def test_labels_come_in_the_four_languages_with_the_org_prefilled(form: Path) -> None:
    survey = {row["name"]: row for row in _sheet(form, "survey")}
    columns = [c for c in survey["given_name"] if c.startswith("label::")]
    assert [c.rsplit("(", 1)[1].rstrip(")") for c in columns] == [lang.value for lang in Language]
    labels = [survey["given_name"][c] for c in columns]
    assert labels[0] == get_model()["person"].fields["given_name"].label
    assert len(set(labels)) == len(labels)  # translated, not English four times
    assert survey["reporting_org"]["default"] == "NGO Alpha"


def test_an_existing_file_is_kept_and_a_broken_form_is_refused(form: Path, tmp_path: Path) -> None:
    before = form.read_bytes()
    res = runner.invoke(app, ["export", "xlsform", "-o", str(form)])
    assert res.exit_code == 2
    assert "--force" in res.stderr
    assert form.read_bytes() == before
    broken = tmp_path / "broken.xlsx"
    wb = load_workbook(form)
    wb["survey"].append(["select_one no_such_list", "q"])
    wb.save(broken)
    with pytest.raises(InputError, match="no_such_list"):
        check_xlsform(broken)
