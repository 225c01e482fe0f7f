"""The offline form: tipsom's XLSForm from the standard, and HTCDS's, both as ODK's converter sees them."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_public_key,
)
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from tipsom.cli.formlabels import catalog_labels
from tipsom.cli.main import app
from tipsom.core.errors import ConfigError, InputError
from tipsom.core.vocab import Language
from tipsom.exchange.xlsform import (
    CHILD_GROUP,
    FORM_ID,
    SECTION,
    FormSummary,
    check_xlsform,
    encryption_key,
    write_xlsform,
)
from tipsom.schema.model import FieldType, get_model

XF = "{http://www.w3.org/2002/xforms}"
runner = CliRunner()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormSummary]:
    """The form in all four languages (as ``tipsom export xlsform`` writes it) and the XForm pyxform made of it."""
    out = tmp_path_factory.mktemp("form") / "case.xlsx"
    languages = [catalog_labels(language) for language in Language]
    return out, write_xlsform(out, languages=languages, org="NGO Alpha")


@pytest.fixture
def form(written: tuple[Path, FormSummary]) -> Path:
    return written[0]


def _sheet(path: Path, name: str) -> list[dict[str, str]]:
    rows = list(load_workbook(path, read_only=True)[name].iter_rows(values_only=True))
    return [{str(h): str(v) for h, v in zip(rows[0], row, strict=False) if v is not None} for row in rows[1:]]


def test_the_htcds_form_converts(reference: Path) -> None:
    xform = ET.fromstring(check_xlsform(reference / "standards" / "htcds" / "htcds_xlsform.xlsx"))
    binds = {b.get("nodeset", "").rsplit("/", 1)[-1] for b in xform.iter(f"{XF}bind")}
    assert {"con_Consent", "prs_Birthdate", "vic_TypeOfExploitation"} <= binds


def test_tipsom_form_converts_with_every_field_of_case_and_person_and_their_codes(
        written: tuple[Path, FormSummary]) -> None:
    form, summary = written
    model = get_model()
    xform = ET.fromstring(summary.xform)
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
    messages = [v for c, v in survey["age"].items() if c.startswith("constraint_message::")]
    assert len(messages) == 4
    assert len(set(messages)) == 4
    assert "120" in messages[0]


def test_the_command_keeps_an_existing_file_and_a_broken_form_is_refused(form: Path, tmp_path: Path) -> None:
    before = form.read_bytes()
    res = runner.invoke(app, ["export", "xlsform", "-o", str(form), "--label-lang", "fr"])
    assert res.exit_code == 2
    assert "--force" in res.stderr
    assert form.read_bytes() == before
    arabic = tmp_path / "ar.xlsx"
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "odk.pem"
    pem.write_bytes(private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    res = runner.invoke(app, ["export", "xlsform", "-o", str(arabic), "--label-lang", "ar", "--public-key", str(pem)])
    assert res.exit_code == 0, res.output
    assert [c for c in _sheet(arabic, "survey")[3] if c.startswith("label::")] == ["label::العربية (ar)"]
    settings = _sheet(arabic, "settings")[0]
    assert settings["default_language"] == "العربية (ar)"
    shipped = load_der_public_key(base64.b64decode(settings["public_key"]))
    assert shipped.public_numbers() == private.public_key().public_numbers()  # type: ignore[union-attr]


def test_only_an_rsa_public_key_encrypts_the_form(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    as_private = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(ConfigError, match="not a PEM public key"):
        encryption_key(as_private)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(ConfigError, match="2048 bits"):
        encryption_key(weak.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    broken = tmp_path / "broken.xlsx"
    wb = Workbook()
    wb.active.title = "survey"
    wb["survey"].append(["type", "name", "label"])
    wb["survey"].append(["select_one no_such_list", "q", "Q"])
    wb.save(broken)
    with pytest.raises(InputError, match=r"not a valid XLSForm: .*choices"):
        check_xlsform(broken)
