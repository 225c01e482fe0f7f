"""Acceptance: web captures from a loopback server give WARCs that pass ``warcio check``."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from tipsom.cli.evidence import evidence_app
from tipsom.evidence.capture import ScreenshotStatus, capture
from tipsom.evidence.locker import EvidenceLocker, Intake
from tipsom.evidence.tables import captures
from tipsom.evidence.verify import verify

from .conftest import CASE_ID

AD_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Jobs abroad</title></head>
<body><h1>Waitresses wanted, 3000 EUR/month</h1><p>Travel and visa paid. Message +000 555 0100.</p>
<img src="logo.png" alt="agency logo"></body></html>"""
LOGO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WARCIO = Path(sys.executable).parent / "warcio"


class _Site(SimpleHTTPRequestHandler):
    """Serves the advertisement, its logo, and an old address that redirects to it."""

    def do_GET(self) -> None:
        if self.path == "/old-ad":
            self.send_response(302)
            self.send_header("Location", "/ad.html")
            self.end_headers()
            return
        pages = {"/ad.html": (AD_PAGE, "text/html; charset=utf-8"), "/logo.png": (LOGO, "image/png")}
        if self.path not in pages:
            self.send_error(404)
            return
        body, kind = pages[self.path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        return


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _warc_records(path: Path) -> list[tuple[str, str, bytes]]:
    with path.open("rb") as handle:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI") or "", r.content_stream().read())
                for r in ArchiveIterator(handle)]


@pytest.mark.browser
def test_capture_of_url_with_redirect_and_screenshot(locker: EvidenceLocker, site: str, browser: Any) -> None:
    result = capture(locker, f"{site}/old-ad", Intake(CASE_ID, "Analyst C", authority="Order 12/2025"),
                     browser=browser)
    warc = locker.vault.path_for(result.item.sha256)
    check = subprocess.run([str(WARCIO), "check", "-v", str(warc)], check=False, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert hashlib.sha256(warc.read_bytes()).hexdigest() == result.warc_sha256 == result.item.sha256
    records = _warc_records(warc)
    kinds = [(kind, uri.removeprefix(site)) for kind, uri, _ in records]
    assert kinds[:5] == [("warcinfo", ""), ("response", "/old-ad"), ("request", "/old-ad"),
                         ("response", "/ad.html"), ("request", "/ad.html")]
    assert records[3][2] == AD_PAGE
    digests = {(d.record_type, d.uri.removeprefix(site)): d.sha256 for d in result.records}
    assert digests[("response", "/ad.html")] == hashlib.sha256(AD_PAGE).hexdigest()
    assert result.screenshot is ScreenshotStatus.TAKEN
    [png] = [body for kind, uri, body in records if uri.startswith("urn:screenshot:")]
    assert png.startswith(b"\x89PNG")
    assert hashlib.sha256(png).hexdigest() in digests.values()
    metadata = json.loads(records[-1][2])
    assert (metadata["operator"], metadata["target"]) == ("Analyst C", f"{site}/old-ad")
    with locker.engine.connect() as conn:
        row = conn.execute(select(captures)).one()
    assert (row.warc_sha256, row.operator) == (result.warc_sha256, "Analyst C")
    [intake] = locker.events([result.item.id])
    assert json.loads(intake["details"])["capture"]["warc_sha256"] == result.warc_sha256
    assert verify(locker).intact


@pytest.mark.browser
def test_capture_of_saved_page_renders_offline(locker: EvidenceLocker, tmp_path: Path, browser: Any) -> None:
    saved = tmp_path / "ad.html"
    saved.write_bytes(b"<!-- saved from url=(0031)https://jobs.example.invalid/ad -->\n"
                      + AD_PAGE.replace(b"logo.png", b"https://tracker.example.invalid/pixel.png"))
    result = capture(locker, str(saved), Intake(CASE_ID, "Analyst C"), browser=browser)
    warc = locker.vault.path_for(result.item.sha256)
    assert subprocess.run([str(WARCIO), "check", str(warc)], check=False, timeout=60).returncode == 0
    records = _warc_records(warc)
    assert ("resource", saved.resolve().as_uri()) in [(k, u) for k, u, _ in records]
    assert json.loads(records[-1][2])["original_url"] == "https://jobs.example.invalid/ad"
    assert result.screenshot is ScreenshotStatus.TAKEN


def test_capture_from_the_command_line(locker: EvidenceLocker, site: str) -> None:
    result = CliRunner().invoke(evidence_app, ["capture", f"{site}/ad.html", "--case", CASE_ID,
                                               "--actor", "Analyst C", "--no-screenshot"])
    assert result.exit_code == 0, result.output
    item_id, warc_sha256, exhibit = result.stdout.splitlines()[0].split("\t")
    assert hashlib.sha256(AD_PAGE).hexdigest() in result.stdout
    assert "screenshot: unavailable (not requested)" in result.stdout
    item = locker.resolve(item_id)
    assert (item.sha256, item.exhibit_number) == (warc_sha256, exhibit)


def test_capture_errors_are_reported(locker: EvidenceLocker, site: str, tmp_path: Path) -> None:
    missing = CliRunner().invoke(evidence_app, ["capture", str(tmp_path / "nope.html"), "--case", CASE_ID])
    assert missing.exit_code == 1
    assert "not a readable saved page" in missing.stderr
    result = capture(locker, f"{site}/gone", Intake(CASE_ID, "Analyst C"), screenshot=False)
    # a 404 is evidence too: it is archived, not dropped
    assert [d.record_type for d in result.records] == ["warcinfo", "response", "metadata"]
    records = _warc_records(locker.vault.path_for(result.item.sha256))
    assert b"404" in records[1][2]
    assert locker.items(CASE_ID) == [result.item]
