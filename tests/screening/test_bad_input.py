"""``tipsom screen FILE``: every bad file ends in one line and exit 1, never a traceback or a hang."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.screening.conftest import case, recruited_for_forced_labour
from tipsom.cli.main import app
from tipsom.core.errors import InputError
from tipsom.core.textinput import MAX_JSON_DEPTH
from tipsom.screening.screen import MAX_PERSONS_PER_CASE, screen_document


def _screen(path: Path) -> tuple[int, str]:
    out = CliRunner().invoke(app, ["screen", "case", str(path)])
    return out.exit_code, out.stderr


def test_json_nested_ten_thousand_levels_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"case_id": ' + "[" * 10_000 + "]" * 10_000 + "}", encoding="utf-8")
    code, err = _screen(path)
    assert code == 1
    assert err.strip() == f"tipsom: {path}: JSON nested deeper than {MAX_JSON_DEPTH} levels"


def test_latin1_case_file_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(case(recruited_for_forced_labour(16)), ensure_ascii=False)
                     .replace("Test unit", "Unité test").encode("latin-1"))
    code, err = _screen(path)
    assert code == 1
    offset = path.read_bytes().index(b"\xe9")
    assert err.strip() == f"tipsom: {path}: not UTF-8 text (byte 0xe9 at offset {offset}); save the file as UTF-8"


def test_case_with_too_many_persons_is_refused_before_validation(tmp_path: Path) -> None:
    # Persons that would each fail validation: the refusal must come first, from the count alone.
    doc = case(*({"role": "NotARole"} for _ in range(100_000)))
    path = tmp_path / "crowd.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, err = _screen(path)
    assert code == 1
    assert err.startswith(f"tipsom: {path}: row 1: persons: 100,000 persons in one case; at most "
                          f"{MAX_PERSONS_PER_CASE:,}")
    assert len(err.strip().splitlines()) == 1


def test_person_limit_is_inclusive() -> None:
    at_limit = case(*(recruited_for_forced_labour(30) for _ in range(MAX_PERSONS_PER_CASE)))
    assert len(screen_document(at_limit).indicators) == MAX_PERSONS_PER_CASE
    at_limit["persons"].append(at_limit["persons"][0])
    with pytest.raises(InputError) as refused:
        screen_document(at_limit)
    assert refused.value.field == "persons"


def test_answers_file_in_latin1_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.json"
    path.write_bytes('{"q1": true, "é": false}'.encode("latin-1"))
    out = CliRunner().invoke(app, ["screen", "questionnaire", "--answers", str(path)])
    assert out.exit_code == 1
    assert out.stderr.startswith(f"tipsom: {path}: not UTF-8 text")


_VALID = json.dumps(case(recruited_for_forced_labour(16))).encode()


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    """Random bytes, a valid case cut short, or a valid case wrapped in deep nesting."""
    kind = draw(st.sampled_from(["random", "truncated", "nested"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "truncated":
        return _VALID[: draw(st.integers(0, len(_VALID) - 1))]
    depth = draw(st.integers(MAX_JSON_DEPTH, 5_000))
    return b'{"persons": ' + b"[" * depth + b"]" * draw(st.integers(0, depth)) + b"}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_damaged())
def test_damaged_case_files_exit_one_with_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(data)
    code, err = _screen(path)
    assert code == 1, err
    assert "Traceback" not in err
    assert err.startswith(f"tipsom: {path}") or err.startswith(f"{path}")
