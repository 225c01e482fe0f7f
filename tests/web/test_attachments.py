"""Attachments (preview, download, withdrawal by a supervisor) and the case-summary PDF: for those allowed, audited."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.evidence.locker import EvidenceLocker
from tipsom.store import audit
from tipsom.store.tables import REGISTRY
from tipsom.web import routes_cases

PERSONS = REGISTRY["person"]

pytestmark = pytest.mark.sqlite_only("the vault is files; the case rows it checks are covered on both backends")


def _upload(c: TestClient, case_id: str, name: str, content: bytes, media: str) -> str:
    page = c.get(f"/cases/{case_id}")
    sent = c.post(f"/cases/{case_id}/attachments", data={"csrf_token": csrf_of(page.text)},
                  files={"file": (name, content, media)}, follow_redirects=False)
    assert sent.status_code == 303
    page = c.get(f"/cases/{case_id}").text
    found = re.search(rf'/cases/[^"]+/attachments/([0-9a-f-]+)\?view=download" download>[^<]*'
                      rf'<span class="sr-only"> {re.escape(name)}<', page)
    assert found, "no download link for the upload"
    return found.group(1)


def _opened(env: WebEnv, item_id: str) -> list[tuple[str, str]]:
    with env.store.engine.connect() as conn:
        return [(str(e["actor"]), str(e["purpose"])) for e in audit.events(conn)
                if e["entity"] == "evidence_item" and e["entity_id"] == item_id and e["action"] == "read"]


def test_preview_and_download_are_for_those_who_may_reveal_and_are_audited(web_env: WebEnv) -> None:
    c = signed_in(web_env, "demo.caseworker")
    case = web_env.case_a
    text = _upload(c, case, "statement.txt", "Déclaration: 12 h par jour".encode(), "text/plain")
    script = _upload(c, case, "drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
                     "image/svg+xml")
    shown = c.get(f"/cases/{case}/attachments/{text}", params={"view": "preview"})
    assert shown.status_code == 200
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.headers["content-type"] == "text/plain; charset=utf-8"
    assert shown.text == "Déclaration: 12 h par jour"
    saved = c.get(f"/cases/{case}/attachments/{text}", params={"view": "download"})
    assert saved.headers["content-disposition"].startswith("attachment")
    unsafe = c.get(f"/cases/{case}/attachments/{script}", params={"view": "preview"})
    assert unsafe.headers["content-disposition"].startswith("attachment")  # an SVG can carry a script
    assert unsafe.headers["content-type"] == "application/octet-stream"
    assert _opened(web_env, text) == [("demo.caseworker", "download attachment"),
                                      ("demo.caseworker", "preview attachment")]
    analyst = signed_in(web_env, "demo.analyst")  # reads cases pseudonymised, never personal data
    assert analyst.get(f"/cases/{case}/attachments/{text}").status_code == 403
    assert "?view=download" not in analyst.get(f"/cases/{case}").text
    outsider = signed_in(web_env, "other.caseworker")
    assert outsider.get(f"/cases/{case}/attachments/{text}").status_code == 404
    assert c.get(f"/cases/{web_env.case_b}/attachments/{text}").status_code == 404  # not another case's file
    assert _opened(web_env, text)[2:] == []


def test_a_supervisor_withdraws_a_mistaken_upload_which_is_kept_but_hidden(web_env: WebEnv) -> None:
    worker = signed_in(web_env, "demo.caseworker")
    case = web_env.case_a
    item = _upload(worker, case, "wrong-person.txt", b"another family's letter", "text/plain")
    token = csrf_of(worker.get(f"/cases/{case}").text)
    refused = worker.post(f"/cases/{case}/attachments/{item}/withdraw",
                          data={"csrf_token": token, "reason": "wrong case"}, follow_redirects=False)
    assert refused.status_code == 403
    admin = signed_in(web_env, "demo.admin")
    token = csrf_of(admin.get(f"/cases/{case}").text)
    assert "Withdraw this upload" in admin.get(f"/cases/{case}").text
    unexplained = admin.post(f"/cases/{case}/attachments/{item}/withdraw", data={"csrf_token": token, "reason": " "})
    assert unexplained.status_code == 422
    done = admin.post(f"/cases/{case}/attachments/{item}/withdraw",
                      data={"csrf_token": token, "reason": "uploaded to the wrong case"}, follow_redirects=False)
    assert done.status_code == 303
    assert "wrong-person.txt" not in admin.get(f"/cases/{case}").text
    assert admin.get(f"/cases/{case}/attachments/{item}").status_code == 404
    locker = EvidenceLocker.for_store(web_env.store)
    (kept,) = [i for i in locker.items(case) if i.id == item]
    assert locker.vault.path_for(kept.sha256).read_bytes() == b"another family's letter"
    actions = [(e["action"], e["actor"], e["note"]) for e in locker.events([item])]
    assert actions[-1] == ("withdrawn", "demo.admin", "uploaded to the wrong case")
    with web_env.store.engine.connect() as conn:
        logged = [json.loads(str(e["detail"])) for e in audit.events(conn) if e["entity"] == "custody_event"]
    assert {"exhibit": kept.exhibit_number, "action": "withdrawn"}.items() <= logged[0].items()


def test_the_case_summary_pdf_holds_what_the_reader_may_see_and_no_personal_data(
        web_env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    pages: list[str] = []
    real = routes_cases.html_to_pdf

    def keep(html: str, out: Path) -> Path:
        pages.append(html)
        return real(html, out)

    monkeypatch.setattr(routes_cases, "html_to_pdf", keep)
    c = signed_in(web_env, "demo.caseworker")
    case = web_env.case_a
    with web_env.store.begin() as conn:  # this test's copy: give a person of the case a name to keep out
        key = conn.scalar(select(PERSONS.c.key).where(PERSONS.c.case_id == case))
        conn.execute(update(PERSONS).where(PERSONS.c.key == key)
                     .values(given_name_enc=web_env.store.cipher.seal("given_name", "Zainabou")))
    assert "summary.pdf" in c.get(f"/cases/{case}").text
    pdf = c.get(f"/cases/{case}/summary.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"].startswith("attachment")
    (html,) = pages
    assert f"Case {case}" in html
    assert key.split("/", 1)[1] in html  # the person id is shown, as on the case page
    assert "Zainabou" not in html
    with web_env.store.engine.connect() as conn:
        reads = [e for e in audit.events(conn) if e["entity_id"] == case and "case summary PDF" in str(e["detail"])]
    assert [e["actor"] for e in reads] == ["demo.caseworker"]
    assert signed_in(web_env, "other.caseworker").get(f"/cases/{case}/summary.pdf").status_code == 404
