"""Web captures into WARC, following the Berkeley Protocol's three tests.

*Authenticity*: the page is fetched with no redirect followed silently; every
hop is written as a request and a response record with the bytes as received,
and the SHA-256 of each payload and of the WARC itself is recorded (warcio's
own digests are SHA-1). *Identity*: URL, UTC time, tool versions and operator
go into a ``warcinfo`` record, a ``metadata`` record and the custody log.
*Persistence*: the WARC enters the vault like any exhibit.

The screenshot is rendered by Chromium from the *archived* bytes (the main
document is served from the capture, so the picture shows what was archived);
images and styles load live for a URL, and not at all for a saved page, which
is rendered offline. Without Chromium the capture still succeeds and records
why it has no screenshot.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import re
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from sqlalchemy import Connection
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tipsom.evidence.custody import CustodyError, iso_utc
from tipsom.evidence.intake import FileFacts
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker, Intake, IntakeEntry, ItemKind
from tipsom.evidence.tables import captures

MAX_REDIRECTS = 10
#: A response larger than this is refused rather than held in memory.
MAX_BODY_BYTES = 512 * 1024 * 1024
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SAVED_FROM = re.compile(rb"saved from url=\(\d+\)(\S+?)\s*-->", re.IGNORECASE)
SNAPSHOT_LOCATION = re.compile(rb"^Snapshot-Content-Location:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class ScreenshotStatus(enum.Enum):
    TAKEN = "taken"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


@dataclass(frozen=True)
class RecordDigest:
    """One WARC record's payload and its SHA-256."""

    record_type: str
    uri: str
    content_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response received for it."""

    url: str
    request: StatusAndHeaders
    status: int
    reason: str
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Capture:
    item: EvidenceItem
    warc_sha256: str
    records: list[RecordDigest]
    screenshot: ScreenshotStatus
    screenshot_note: str


def _fetch(url: str, timeout: float) -> list[Exchange]:
    """GET ``url`` hop by hop, recording each redirect instead of following it blindly."""
    opener = urllib.request.build_opener(_NoRedirect())
    hops: list[Exchange] = []
    while True:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise CustodyError(f"{url}: only http and https addresses can be captured")
        headers = [("Host", parts.netloc), ("User-Agent", f"tipsom/{version('tipsom')} (evidence capture)"),
                   ("Accept", "*/*"), ("Accept-Encoding", "identity"), ("Connection", "close")]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = urllib.request.Request(url, headers=dict(headers[1:]))
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as answer:  # 3xx (redirects are not followed here), 4xx and 5xx
            response = answer
        except OSError as exc:
            raise CustodyError(f"{url}: could not be fetched: {exc}") from exc
        with response:
            body = response.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                raise CustodyError(f"{url}: response over {MAX_BODY_BYTES} bytes; capture it as a file")
            exchange = Exchange(
                url=url, request=StatusAndHeaders(f"GET {target} HTTP/1.1", headers, is_http_request=True),
                status=response.status, reason=response.reason or "",
                protocol="HTTP/1.0" if getattr(response, "version", 11) == 10 else "HTTP/1.1",
                headers=_archived_headers(list(response.headers.items())), body=body,
            )
        hops.append(exchange)
        location = {k.lower(): v for k, v in exchange.headers}.get("location")
        if not (300 <= exchange.status < 400 and location):
            return hops
        if len(hops) > MAX_REDIRECTS:
            raise CustodyError(f"{hops[0].url}: more than {MAX_REDIRECTS} redirects")
        url = urljoin(url, location)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _archived_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """urllib removes chunked framing from the body, so its header is kept under another name."""
    return [("X-Archive-Orig-" + k if k.lower() == "transfer-encoding" else k, v) for k, v in headers]


def _saved_page(path: Path) -> tuple[bytes, str, str | None]:
    """Content, MIME type and the original address a browser noted when saving the page."""
    data = path.read_bytes()
    mhtml = path.suffix.lower() in (".mhtml", ".mht")
    found = (SNAPSHOT_LOCATION if mhtml else SAVED_FROM).search(data[:65536])
    original = found.group(1).decode("utf-8", "replace") if found else None
    return data, "multipart/related" if mhtml else "text/html", original


class _WarcBuilder:
    """Writes records and remembers each payload's SHA-256."""

    def __init__(self, captured_at: datetime) -> None:
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=True, warc_version="1.1")
        self.date = iso_utc(captured_at)
        self.digests: list[RecordDigest] = []

    def write(self, uri: str, record_type: str, payload: bytes, *, content_type: str = "",
              http_headers: StatusAndHeaders | None = None, concurrent_to: str | None = None) -> str:
        extra = {"WARC-Date": self.date}
        if concurrent_to:
            extra["WARC-Concurrent-To"] = concurrent_to
        record = self.writer.create_warc_record(
            uri, record_type, payload=io.BytesIO(payload), length=len(payload),
            warc_content_type=content_type, warc_headers_dict=extra, http_headers=http_headers,
        )
        self.writer.write_record(record)
        if record_type != "request":
            self.digests.append(RecordDigest(record_type, uri, content_type or _content_type(http_headers),
                                             hashlib.sha256(payload).hexdigest(), len(payload)))
        return str(record.rec_headers.get_header("WARC-Record-ID"))


def _content_type(headers: StatusAndHeaders | None) -> str:
    return str(headers.get_header("Content-Type") or "") if headers else ""


@contextmanager
def _chromium(browser: Any | None) -> Iterator[tuple[Any | None, str]]:
    """The given browser, or Debian's Chromium through Playwright, or a reason there is none."""
    if browser is not None:
        yield browser, ""
        return
    executable = shutil.which("chromium") or str(CHROMIUM)
    if not Path(executable).exists():
        yield None, "Chromium is not installed (apt-get install chromium)"
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        yield None, "Playwright is not installed"
        return
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched, ""
        finally:
            launched.close()


def _screenshot(browser: Any, address: str, main: Exchange | None) -> bytes:
    """Render ``address``: a capture's main document from its archived bytes, a saved page offline."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    try:
        page = context.new_page()

        def route(handle: Any) -> None:
            url = handle.request.url
            if main is not None and url == main.url:
                handle.fulfill(status=main.status, headers=dict(main.headers), body=main.body)
            elif main is None and not url.startswith(("file:", "data:")):
                handle.abort()  # a saved page is rendered offline: nothing leaves the machine
            else:
                handle.continue_()

        page.route("**/*", route)
        page.goto(address, wait_until="load", timeout=30_000)
        return bytes(page.screenshot(full_page=True, type="png"))
    finally:
        context.close()


def capture(locker: EvidenceLocker, target: str, intake: Intake, *, browser: Any | None = None,
            screenshot: bool = True, timeout: float = 30.0) -> Capture:
    """Capture a URL or a saved HTML/MHTML page into a WARC exhibit of ``intake.case_id``."""
    captured_at = datetime.now(UTC)
    builder = _WarcBuilder(captured_at)
    saved = Path(target.removeprefix("file://")) if not target.startswith(("http://", "https://")) else None
    tool = f"tipsom {version('tipsom')} (warcio {version('warcio')})"
    builder.write("", "warcinfo", json.dumps({
        "software": tool, "operator": intake.actor, "format": "WARC File Format 1.1",
        "description": f"tipsom evidence capture for case {intake.case_id}",
    }).encode(), content_type="application/json")
    main: Exchange | None = None
    original: str | None = None
    if saved is None:
        hops = _fetch(target, timeout)
        for hop in hops:
            response_id = builder.write(hop.url, "response", hop.body, http_headers=StatusAndHeaders(
                f"{hop.status} {hop.reason}", hop.headers, protocol=hop.protocol))
            builder.write(hop.url, "request", b"", http_headers=hop.request, concurrent_to=response_id)
        main = hops[-1]
        address = main.url
    else:
        if not saved.is_file():
            raise FileNotFoundError(f"{saved}: not a readable saved page")
        data, mime, original = _saved_page(saved)
        address = saved.resolve().as_uri()
        builder.write(address, "resource", data, content_type=mime)
    shot_status, shot_note, shot_sha = ScreenshotStatus.UNAVAILABLE, "not requested", None
    if screenshot:
        with _chromium(browser) as chromium:
            instance, reason = chromium
            if instance is None:
                shot_note = reason
            else:
                try:
                    png = _screenshot(instance, address, main)
                except Exception as exc:  # any browser failure is recorded, not fatal
                    shot_status, shot_note = ScreenshotStatus.FAILED, f"{type(exc).__name__}: {exc}"
                else:
                    builder.write(f"urn:screenshot:{address}", "resource", png, content_type="image/png")
                    shot_status, shot_sha = ScreenshotStatus.TAKEN, builder.digests[-1].sha256
                    shot_note = f"Chromium {instance.version}, 1280 px wide, full page"
    stamp = iso_utc(captured_at)
    summary: dict[str, Any] = {
        "target": target, "final_address": address, "original_url": original,
        "captured_at": stamp, "tool": tool, "operator": intake.actor,
        "screenshot": {"status": shot_status.value, "note": shot_note, "sha256": shot_sha},
        "records": [asdict(d) for d in builder.digests],
    }
    builder.write(f"urn:tipsom:capture:{address}", "metadata",
                  json.dumps(summary, indent=1).encode(), content_type="application/json")
    stored = locker.vault.store_bytes(builder.buffer.getvalue())
    name = f"capture-{captured_at.strftime('%Y%m%dT%H%M%SZ')}.warc.gz"
    facts = FileFacts(original_name=name, original_path=target, mime_type="application/warc",
                      modified_at=stamp, changed_at=stamp)
    capture_id = str(uuid.uuid4())

    def register(conn: Connection, items: list[EvidenceItem]) -> None:
        conn.execute(captures.insert().values(
            id=capture_id, item_id=items[0].id, target=target, captured_at=stamp,
            tool=tool, operator=intake.actor, warc_sha256=stored.digests.sha256,
            screenshot_sha256=shot_sha, screenshot_status=f"{shot_status.value}: {shot_note}",
            records=json.dumps(summary["records"]),
        ))

    entry = IntakeEntry(stored, facts, ItemKind.WEB_CAPTURE,
                        {"capture": {**summary, "warc_sha256": stored.digests.sha256}})
    [item] = locker.take_in([entry], intake, after=register)
    return Capture(item, stored.digests.sha256, builder.digests, shot_status, shot_note)
