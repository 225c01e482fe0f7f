"""Reading JSON Lines, CSV, WARC and HTML; bad records are reported, never dropped."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from tipsom.osint.records import AdInputError, read_ads


def test_jsonl_keeps_hash_of_raw_line_and_reports_bad_rows(tmp_path: Path) -> None:
    good = json.dumps({"id": "a1", "text": "new in town", "url": "https://x.example/1",
                       "posted_at": "2025-03-01T10:00:00Z", "location": "Paris"})
    lines = [good, "{not json", json.dumps({"text": "no id"}), json.dumps({"id": "a2", "text": "x",
                                                                         "posted_at": "yesterday"}),
             json.dumps({"id": "a1", "text": "duplicate"})]
    path = tmp_path / "ads.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = read_ads(path)
    assert [a.ad_id for a in batch.ads] == ["a1"]
    ad = batch.ads[0]
    assert ad.raw_sha256 == hashlib.sha256(good.encode()).hexdigest()
    assert ad.posted_at is not None
    assert ad.posted_at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert ad.origin == f"{path}:1"
    problems = [(b.row, b.field) for b in batch.bad]
    assert problems == [(2, "*"), (3, "id"), (4, "posted_at"), (5, "id")]
    assert "yesterday" in str(batch.bad[2])
    assert str(path) in str(batch.bad[2])


def test_csv_rows_with_quoted_newlines_and_wrong_width(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text('id,text,location\nb1,"line one\nline two",Madrid\nb2,too,many,values\n,empty id,X\n',
                    encoding="utf-8")
    batch = read_ads(path)
    assert [a.ad_id for a in batch.ads] == ["b1"]
    assert batch.ads[0].text == "line one\nline two"
    assert batch.ads[0].raw_sha256 == hashlib.sha256(b'b1,"line one\nline two",Madrid').hexdigest()
    assert [(b.row, b.field) for b in batch.bad] == [(3, "*"), (4, "id")]


def _write_warc(path: Path, pages: list[tuple[str, bytes, str]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, ctype in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                               warc_headers_dict={"WARC-Date": "2025-05-02T08:30:00Z"})
            writer.write_record(record)


def test_warc_responses_become_ads_with_evidence_reference(tmp_path: Path) -> None:
    page = (b'<html><head><title>Sweet Anna</title><meta property="article:published_time" '
            b'content="2025-05-01T20:00:00Z"></head><body><p>New in town!</p><p>Call 917-555-0123</p>'
            b'<script>track()</script></body></html>')
    path = tmp_path / "capture.warc.gz"
    _write_warc(path, [("https://classifieds.example/ny/1", page, "text/html; charset=utf-8"),
                       ("https://classifieds.example/logo.png", b"\x89PNG", "image/png")])
    batch = read_ads(path)
    assert not batch.bad
    [ad] = batch.ads
    assert ad.url == "https://classifieds.example/ny/1"
    assert ad.raw_sha256 == hashlib.sha256(page).hexdigest()
    assert ad.captured_at is not None
    assert ad.captured_at.isoformat() == "2025-05-02T08:30:00+00:00"
    assert ad.posted_at is not None
    assert ad.posted_at.day == 1
    assert ad.title == "Sweet Anna"
    assert "New in town!" in ad.text
    assert "track()" not in ad.text
    assert ad.origin.startswith(f"{path}#<urn:uuid:")


def test_saved_html_page_and_folder_input(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<html><body>Nueva en la ciudad</body></html>", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    batch = read_ads(tmp_path)
    assert len(batch.ads) == 1
    assert batch.ads[0].url.startswith("file://")


def test_unknown_format_and_missing_file_are_errors(tmp_path: Path) -> None:
    (tmp_path / "ads.xlsx").write_bytes(b"x")
    with pytest.raises(AdInputError, match="unknown input format"):
        read_ads(tmp_path / "ads.xlsx")
    with pytest.raises(AdInputError, match="no such file"):
        read_ads(tmp_path / "missing.jsonl")
