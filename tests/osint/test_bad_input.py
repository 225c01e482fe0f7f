"""``tipsom osint scan`` on hostile or damaged input: one line and exit 1, or a quick scan, never a hang."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.core.textinput import MAX_JSON_DEPTH

runner = CliRunner()
_SKIP_HINT = "(1 bad record(s); nothing written, use --on-error skip to continue without them)"


def _scan(path: Path, *extra: str) -> tuple[int, str, Path]:
    out = path.parent / "scan.jsonl"
    result = runner.invoke(app, ["osint", "scan", str(path), "-o", str(out), "--workers", "1",
                                 "--region", "US", *extra])
    return result.exit_code, result.stderr, out


def test_jsonl_nested_ten_thousand_levels_is_a_bad_record(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text('{"id": "a", "text": ' + "[" * 10_000 + "]" * 10_000 + "}\n", encoding="utf-8")
    code, err, out = _scan(path)
    assert code == 1
    assert err.strip() == (f"tipsom: {path}: row 1: field '*': JSON nested deeper than {MAX_JSON_DEPTH} levels "
                           f"{_SKIP_HINT}")
    assert not out.exists()


def test_latin1_csv_record_is_named_and_skippable(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_bytes("id,text\na1,Café ouvert, appelle\na2,new in town call 917-555-0123\n"
                     .replace("Café ouvert, appelle", '"Café ouvert, appelle"').encode("latin-1"))
    code, err, out = _scan(path)
    assert code == 1
    assert err.strip() == (f"tipsom: {path}: row 2: field 'text': not valid Unicode text (a lone surrogate or "
                           f"undecodable bytes) {_SKIP_HINT}")
    code, err, out = _scan(path, "--on-error", "skip")
    assert code == 0, err
    scans = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [s["ad_id"] for s in scans] == ["a2"]


@pytest.mark.parametrize("name", ["ads.csv", "ads.warc", "ads.warc.gz"])
def test_binary_input_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 8)
    code, err, out = _scan(path)
    assert code == 1
    assert err.startswith(f"tipsom: {path}: row 1: field '*': ")
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("on_error", ["fail", "skip"])
def test_lone_surrogate_in_ad_text_is_a_bad_record(tmp_path: Path, on_error: str) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_text('{"id": "a", "text": "hello \\ud800 new girl"}\n'
                    '{"id": "b", "text": "new in town call 917-555-0123"}\n', encoding="utf-8")
    code, err, out = _scan(path, "--on-error", on_error)
    if on_error == "fail":
        assert code == 1
        assert err.startswith(f"tipsom: {path}: row 1: field 'text': not valid Unicode text")
    else:
        assert code == 0, err
        assert f"skipped bad record: {path}: row 1: field 'text'" in err
        scans = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [i["value"] for s in scans for i in s["identifiers"]] == ["+19175550123"]


@pytest.mark.timeout(300)  # the cubic search took over 300 s for 4,000 groups (these have 8,000)
@pytest.mark.parametrize("filler", ["1 " * 8_000, "9💋" * 8_000, "one " * 4_000, "1-" * 8_000])
def test_long_runs_of_digit_groups_scan_quickly_and_keep_the_real_number(tmp_path: Path, filler: str) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_text(json.dumps({"id": "a", "text": filler + ", call 917-555-0123"}) + "\n"
                    + json.dumps({"id": "b", "text": "new in town, call 646-555-0199"}) + "\n", encoding="utf-8")
    code, err, out = _scan(path)
    assert code == 0, err
    scans = {s["ad_id"]: s for s in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert "+19175550123" in [i["value"] for i in scans["a"]["identifiers"]]
    assert [i["value"] for i in scans["b"]["identifiers"]] == ["+16465550199"]


def test_missing_output_folder_is_refused_before_reading(tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "scan.jsonl"
    result = runner.invoke(app, ["osint", "scan", str(tmp_path / "absent.jsonl"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"tipsom: {out}: the folder {out.parent} does not exist; create it or "
                                     "choose another output path")


_GOOD_JSONL = (json.dumps({"id": "a1", "text": "new in town, call 917-555-0123", "title": "Hi"}) + "\n"
               + json.dumps({"id": "a2", "text": "sweet girl 22yo", "posted_at": "2025-01-02"}) + "\n").encode()
_GOOD_CSV = b'id,text,title\na1,"new in town, call 917-555-0123",Hi\na2,sweet girl 22yo,\n'


def _good_warc() -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    body = b"<html><body>new in town, call 917-555-0123</body></html>"
    writer.write_record(writer.create_warc_record("https://ads.example/1", "response", payload=io.BytesIO(body),
                                                  http_headers=headers,
                                                  warc_headers_dict={"WARC-Date": "2025-05-02T08:30:00Z"}))
    return buffer.getvalue()


_GOOD = {"ads.jsonl": _GOOD_JSONL, "ads.csv": _GOOD_CSV, "ads.warc": _good_warc()}


@st.composite
def _damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    """A reader's file: random bytes, a valid file cut short, or a record wrapped in deep nesting."""
    name = draw(st.sampled_from([*sorted(_GOOD), "ads.warc.gz"]))
    good = _GOOD.get(name) or gzip.compress(_GOOD["ads.warc"])
    kind = draw(st.sampled_from(["random", "truncated", "nested"]))
    if kind == "random":
        return name, draw(st.binary(max_size=400))
    if kind == "truncated":
        return name, good[: draw(st.integers(0, len(good)))]
    depth = draw(st.integers(MAX_JSON_DEPTH, 3_000))
    return name, b'{"id": "x", "text": ' + b"[" * depth + b"]" * depth + b"}\n" + good


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_damaged())
def test_damaged_ad_files_scan_or_exit_one_without_traceback(tmp_path: Path, case: tuple[str, bytes]) -> None:
    name, data = case
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "scan.jsonl"
    out.unlink(missing_ok=True)
    result = runner.invoke(app, ["osint", "scan", str(path), "-o", str(out), "--workers", "1", "--quiet"])
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    if result.exit_code == 1:
        assert result.stderr.splitlines()[-1].startswith(f"tipsom: {path}")
        assert not out.exists()
