"""Issue 15 finding 13: a web upload limit, checked with the login before the body is read; no empty files."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import WebEnv, csrf_of, signed_in
from tipsom.web import integrations
from tipsom.web.security import SESSION_COOKIE

MIB = 1024 * 1024
BOUNDARY = "tipsomtestboundary"


@pytest.fixture
def one_mib_limit(web_env: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_env.store, "settings", dataclasses.replace(web_env.store.settings, web_upload_max_mb=1))


def _multipart_chunks(csrf: str, n_mib: int) -> list[bytes]:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return [head, *(b"x" * MIB for _ in range(n_mib)), f"\r\n--{BOUNDARY}--\r\n".encode()]


def _send(env: WebEnv, path: str, chunks: list[bytes], *, cookie: str = "",
          declared: int | None = None) -> tuple[int, int]:
    """Call the app over ASGI with a body in chunks; returns the status and how many chunks it pulled."""
    headers = [(b"host", b"testserver"), (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]
    if cookie:
        headers.append((b"cookie", f"{SESSION_COOKIE}={cookie}".encode()))
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                             "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
                             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
                             "server": ("testserver", 443)}
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    # in a thread of its own: the session's Playwright browser keeps an event loop running in this one
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, env.app, scope, receive, send).result()
    return status, pulled


def _session(c: TestClient) -> tuple[str, str]:
    return str(c.cookies.get(SESSION_COOKIE)), csrf_of(c.get("/cases").text)


def test_an_upload_without_a_login_is_refused_before_its_body_is_read(web_env: WebEnv) -> None:
    status, pulled = _send(web_env, f"/cases/{web_env.case_a}/attachments", _multipart_chunks("x", 64))
    assert status == 303  # to the login page
    assert pulled == 0


def test_a_declared_oversize_upload_is_refused_unread(web_env: WebEnv, one_mib_limit: None) -> None:
    cookie, csrf = _session(signed_in(web_env, "demo.caseworker"))
    chunks = _multipart_chunks(csrf, 8)
    status, pulled = _send(web_env, f"/cases/{web_env.case_a}/attachments", chunks, cookie=cookie,
                           declared=sum(map(len, chunks)))
    assert status == 413
    assert pulled == 0


def test_an_undeclared_oversize_upload_is_cut_off_at_the_limit(web_env: WebEnv, one_mib_limit: None) -> None:
    before = len(integrations.attachments(web_env.store, web_env.case_a))
    cookie, csrf = _session(signed_in(web_env, "demo.caseworker"))
    status, pulled = _send(web_env, f"/cases/{web_env.case_a}/attachments", _multipart_chunks(csrf, 64),
                           cookie=cookie)
    assert status == 413
    assert pulled <= 3  # the head, one MiB, and the chunk that crossed the limit
    assert len(integrations.attachments(web_env.store, web_env.case_a)) == before


def test_an_upload_within_the_limit_is_stored(web_env: WebEnv, one_mib_limit: None) -> None:
    before = len(integrations.attachments(web_env.store, web_env.case_a))
    c = signed_in(web_env, "demo.caseworker")
    token = csrf_of(c.get(f"/cases/{web_env.case_a}").text)
    response = c.post(f"/cases/{web_env.case_a}/attachments", data={"csrf_token": token},
                      files={"file": ("note.txt", b"a" * (MIB // 2), "text/plain")}, follow_redirects=False)
    assert response.status_code == 303
    assert len(integrations.attachments(web_env.store, web_env.case_a)) == before + 1


def test_an_empty_file_is_refused(web_env: WebEnv) -> None:
    before = len(integrations.attachments(web_env.store, web_env.case_a))
    c = signed_in(web_env, "demo.caseworker")
    token = csrf_of(c.get(f"/cases/{web_env.case_a}").text)
    response = c.post(f"/cases/{web_env.case_a}/attachments", data={"csrf_token": token},
                      files={"file": ("empty.txt", b"", "text/plain")}, follow_redirects=False)
    assert response.status_code == 422
    assert "empty" in response.text
    assert len(integrations.attachments(web_env.store, web_env.case_a)) == before
