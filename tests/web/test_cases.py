"""Case work through the pages: schema-generated form, inline errors, personal data, timeline."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.schema.model import SCHEMA_DIR, load_model
from tipsom.store import audit
from tipsom.web import casework, forms
from tipsom.web.i18n import Language, reset_language, set_language


def _new_case(c: TestClient, **fields: str) -> tuple[str, dict[str, str]]:
    page = c.get("/cases/new")
    case_id = re.search(r'name="c.case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    data = {"csrf_token": csrf_of(page.text), "c.case_id": case_id, "p0.person_id": "P1", "p0.__present": "1",
            "action": "save", **fields}
    return case_id, data


def test_validation_errors_appear_inline_next_to_their_field(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    _case_id, data = _new_case(c, **{"p0.role": "Victim", "p0.age": "200", "p0.birth_date": "31/12/2010"})
    response = c.post("/cases/new", data=data)
    assert response.status_code == 422
    errors = dict(re.findall(r'<p class="error" id="([^"]+)-error">([^<]+)</p>', response.text))
    assert errors["f-c-case_type"] == "This field is required."
    assert errors["f-p0-age"] == "The largest allowed value is 120."
    assert errors["f-p0-birth_date"] == "Enter a date as YYYY-MM-DD."
    assert 'aria-invalid="true"' in response.text
    assert 'value="200"' in response.text  # the user's input is kept


def test_inline_errors_are_translated(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.investigator")
    page = c.get("/cases")
    c.post("/language", data={"lang": "fr", "csrf_token": csrf_of(page.text)})
    _case_id, data = _new_case(c, **{"p0.role": "Victim"})
    response = c.post("/cases/new", data=data)
    assert "Ce champ est obligatoire." in response.text
    c.post("/language", data={"lang": "en", "csrf_token": data["csrf_token"]})


def test_child_records_and_persons_are_added_and_saved(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    case_id, data = _new_case(c, **{"c.case_type": "SOM", "p0.role": "SmuggledMigrant", "p0.age": "30"})
    added = c.post("/cases/new", data={**data, "action": "add:p0.route_legs"})
    assert added.status_code == 200
    assert 'name="p0.route_legs.0.origin"' in added.text
    data.update({"p0.route_legs.0.__present": "1", "p0.route_legs.0.origin": "AFG",
                 "p0.route_legs.0.destination": "IRN", "p0.route_legs.0.departed_on": "2023-03-01",
                 "p0.identifications.0.__present": "1", "p0.identifications.0.agency": "Border police",
                 "p0.identifications.0.identified_on": "2023-04-02", "p0.identifications.0.referred_to": "Shelter A",
                 "p0.identifications.0.referral_date": "2023-04-03", "p1.__present": "1", "p1.person_id": "P2",
                 "p1.role": "Suspect", "p1.given_name": "Karim", "p1.family_name": "Test"})
    saved = c.post("/cases/new", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-2000:]
    case_id = saved.headers["location"].split("?")[0].removeprefix("/cases/")  # the organisation-scoped key
    page = c.get(f"/cases/{case_id}").text
    assert "Shelter A" in page
    assert "Karim" not in page
    stages = re.findall(r'<span class="stage">([^<]+)</span>', page)
    assert stages == ["Movement", "Identification", "Referral"]
    found = c.get("/cases", params={"q": "Karim Test"}).text  # exact name through its pseudonym
    assert case_id in found


def test_viewing_personal_data_needs_a_purpose_and_is_audited(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.investigator")
    page = c.get(f"/cases/{web_env.case_a}").text
    reveal = c.post(f"/cases/{web_env.case_a}/reveal", data={"person_id": "P1", "purpose": "investigation",
                                                             "csrf_token": csrf_of(page)})
    assert reveal.status_code == 200
    assert "Personal data shown for a stated purpose" in reveal.text
    with web_env.store.engine.connect() as conn:
        reads = audit.events(conn, entity_id=f"{web_env.case_a}/P1", actor="demo.investigator",
                             action=audit.AuditAction.READ)
    assert reads
    assert reads[0]["purpose"] == "investigation"
    analyst = signed_in(web_env, "demo.analyst")
    assert analyst.post(f"/cases/{web_env.case_a}/reveal", data={
        "person_id": "P1", "purpose": "investigation",
        "csrf_token": csrf_of(analyst.get(f"/cases/{web_env.case_a}").text)}).status_code == 403


def test_edit_form_round_trips_the_stored_case(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    form = c.get(f"/cases/{web_env.case_a}/edit")
    assert form.status_code == 200
    values = dict(re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', form.text))
    assert values["c.case_id"] == web_env.case_a
    before = web_env.store.counts()
    data = {k: v for k, v in values.items() if v}
    data.update({"csrf_token": csrf_of(form.text), "action": "save"})
    for name, value in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(?:(?!</select>).)*?'
                                  r'<option value="([^"]+)" selected', form.text, re.S):
        data[name] = value
    data.update(dict(re.findall(r'name="([^"]+__present)" value="(1)"', form.text)))
    data["c.closure_reason"] = "edited in test"
    saved = c.post(f"/cases/{web_env.case_a}/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[-1500:]
    assert web_env.store.counts() == before
    assert "edited in test" in c.get(f"/cases/{web_env.case_a}").text


def test_a_new_yaml_field_appears_in_the_form_with_no_template_change(tmp_path: Path, web_env: WebEnv) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, schema, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = schema / "entities" / "person.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["person"]["fields"]["shelter_nights"] = {"type": "integer", "min": 0, "label": "Nights in shelter",
                                                 "group": "aftercare"}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    model = load_model(schema)
    form = forms.build_form(model, {"p0.shelter_nights": ["12"]})
    section = [s for s in form.persons[0].sections if s.title == "Aftercare"]
    assert section
    assert section[0].fields[0].name == "p0.shelter_nights"
    assert section[0].fields[0].widget is forms.Widget.NUMBER
    parsed = forms.form_to_document(model, {"c.case_id": ["X"], "p0.person_id": ["P1"],
                                            "p0.shelter_nights": ["12"]})
    assert parsed.document["persons"][0]["shelter_nights"] == "12"
    html = web_env.app.state.web.templates.get_template("case_form.html").render(
        form=form, case_id=None, csrf_token="t", language=Language.EN, direction="ltr", languages=[],
        user=None, training=False, request={"url": {"path": "/cases/new"}})
    assert 'name="p0.shelter_nights"' in html
    assert "Nights in shelter" in html


def test_timeline_orders_the_stages(web_env: WebEnv) -> None:
    doc = {"case_id": "T", "opened_on": dt.date(2023, 5, 1), "persons": [{
        "person_id": "P1", "recruitment_date": dt.date(2022, 1, 1), "recruitment_country": "NGA",
        "exploitation_start": dt.date(2022, 6, 1), "exploitation_forms": ["ForcedLabour"],
        "route_legs": [{"origin": "NGA", "destination": "NER", "departed_on": dt.date(2022, 2, 1)}],
        "identifications": [], "charges": [{"offence": "IllegalEntry", "stage": "Trial",
                                             "charged_on": dt.date(2023, 6, 1)}]}]}
    token = set_language(Language.EN)
    try:
        events = casework.timeline(web_env.store, doc)
    finally:
        reset_language(token)
    assert [e.stage for e in events] == [casework.Stage.RECRUITMENT, casework.Stage.MOVEMENT,
                                         casework.Stage.EXPLOITATION, casework.Stage.CASE,
                                         casework.Stage.PROCEEDINGS]


def test_training_workspace_is_separate_and_marked(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    live_cases = web_env.store.counts()["cases"]
    page = c.get("/cases")
    c.post("/workspace", data={"target": "training", "csrf_token": csrf_of(page.text)})
    training = c.get("/cases")
    assert "TRAINING WORKSPACE" in training.text
    assert "TRN-" in training.text
    assert web_env.case_a not in training.text
    assert web_env.store.counts()["cases"] == live_cases
    c.post("/workspace", data={"target": "live", "csrf_token": csrf_of(training.text)})
    assert "TRAINING WORKSPACE" not in c.get("/cases").text


def test_attachment_goes_into_the_evidence_vault(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    page = c.get(f"/cases/{web_env.case_a}")
    response = c.post(f"/cases/{web_env.case_a}/attachments", data={"csrf_token": csrf_of(page.text),
                                                                    "note": "photo of a contract"},
                      files={"file": ("contract.txt", b"work contract, 12h/day", "text/plain")},
                      follow_redirects=False)
    assert response.status_code == 303, response.text[-1500:]
    page = c.get(f"/cases/{web_env.case_a}").text
    assert f"{web_env.case_a}-E001" in page
    assert "contract.txt" in page


def test_list_filters_and_paginates(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.analyst")
    full = c.get("/cases", params={"case_type": "TIP"}).text
    assert "SOM</td>" not in full
    partial = c.get("/cases", params={"page": "1"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "<table" in partial.text
