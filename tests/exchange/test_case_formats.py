"""CASE_FORMATS: one registry of case formats, read by the importer, the exporter and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.core.errors import ConfigError
from tipsom.exchange import formats
from tipsom.exchange.formats import CASE_FORMATS, CaseFormat, Direction, Reading, case_format, chunks, names
from tipsom.exchange.importer import import_file
from tipsom.exchange.native import Record
from tipsom.store.db import Store
from tipsom.synth.cases import CaseGenerator

pytestmark = pytest.mark.usefixtures("data_key")
runner = CliRunner()


def test_the_commands_offer_exactly_the_registered_formats() -> None:
    for command, direction in ((["import", "cases", "--help"], Direction.IMPORT),
                               (["export", "cases", "--help"], Direction.EXPORT)):
        shown = runner.invoke(app, command, terminal_width=400)
        assert shown.exit_code == 0, shown.output
        text = " ".join(shown.stdout.split())
        for f in CASE_FORMATS:
            assert (f"{f.name}:" in text) is f.supports(direction), (command, f.name)


def test_an_unknown_format_is_a_usage_error_naming_the_choices(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_text("case_id\n", encoding="utf-8")
    res = runner.invoke(app, ["import", "cases", str(source), "--format", "goaml"])
    assert res.exit_code == 2, res.output
    assert f"use {', '.join(names(Direction.IMPORT)[:-1])} or {names(Direction.IMPORT)[-1]}" in res.stderr
    assert "Traceback" not in res.output
    with pytest.raises(ConfigError, match="unknown export format 'ctdc'"):
        case_format("ctdc", Direction.EXPORT)  # CTDC is read, never written


def test_a_format_added_to_the_registry_is_imported_without_naming_it_anywhere_else(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = list(CaseGenerator(4).cases(5))

    def read_agency_dump(_store: Store, _path: Path) -> Reading:
        return Reading(chunks(Record(i, {}, doc) for i, doc in enumerate(docs, start=1)), whole_cases=True)

    agency = CaseFormat("agency-dump", (".dump",), "a national system's dump", read=read_agency_dump)
    monkeypatch.setattr(formats, "CASE_FORMATS", (*CASE_FORMATS, agency))
    dump = tmp_path / "cases.dump"
    dump.write_bytes(b"opaque")
    store = Store.init()
    report = import_file(store, dump, fmt="agency-dump", actor="t")
    assert report.written.cases_created == len(docs)
    assert store.counts()["cases"] == len(docs)
    store.dispose()
