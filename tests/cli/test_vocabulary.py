"""One vocabulary across every command: the rules, checked over the whole command tree, and the old spellings.

The walk reads the commands as Click builds them from the Typer apps, so a
command added later is held to the same rules without being listed here;
the option types are read from the command functions' annotations, so
"uses the one enum" means the very class in :mod:`tipsom.core.vocab`.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tipsom.cli.common import RENAMED_OPTIONS, common_spelling
from tipsom.cli.main import app
from tipsom.core.vocab import Engine, Language, OnError

#: Hidden options: the old spellings whose value or meaning changed, so the name-for-name renaming of
#: ``RENAMED_OPTIONS`` cannot carry them. Each maps to what it now means.
HIDDEN_ALIASES = {
    ("import cases", "--skip-invalid"): "--on-error skip",
    ("context import", "--strict"): "--on-error fail",
    ("osint cluster", "--json"): "--profiles PATH",
}
#: Commands that read records from a file and can go on past a bad one.
RECORD_READERS = {
    "import cases", "context import",
    "money scan", "money trace", "money corridors", "money risk", "money export-ftm", "money export-gexf",
    "osint scan", "osint cluster", "osint report", "osint ftm",
}
#: The one option typed as a list of languages rather than one: the comparison pages of several languages.
LANGUAGE_LISTS = {"estimate report"}
#: The type each shared option name must have.
TYPED_OPTIONS = {"--on-error": OnError, "--engine": Engine, "--lang": Language}

runner = CliRunner()


def _commands() -> Iterator[tuple[str, Any]]:
    """Every leaf command as (path without ``tipsom``, Click command)."""
    def walk(prefix: str, command: Any) -> Iterator[tuple[str, Any]]:
        children = getattr(command, "commands", None)
        if children is None:
            yield prefix, command
            return
        for name, child in children.items():
            yield from walk(f"{prefix} {name}".strip(), child)

    yield from walk("", typer.main.get_command(app))


COMMANDS = dict(_commands())


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option"]


def _annotation(command: Any, name: str) -> Any:
    """The type a command function declares for its parameter ``name`` (``Annotated`` and ``| None`` removed)."""
    declared = typing.get_type_hints(inspect.unwrap(command.callback))[name]
    if typing.get_origin(declared) in (typing.Union, types.UnionType):
        (declared,) = [a for a in typing.get_args(declared) if a is not type(None)]
    return declared


def test_the_walk_sees_every_command_group() -> None:
    groups = {path.split()[0] for path in COMMANDS}
    assert {"screen", "money", "osint", "estimate", "context", "evidence", "import", "export", "law"} <= groups
    assert len(COMMANDS) > 50


def test_output_files_are_o_out() -> None:
    wrong = [f"tipsom {path}: {sorted(option.opts)}" for path, command in COMMANDS.items()
             for option in _options(command)
             if set(option.opts) & {"-o", "--out", "--output"} and set(option.opts) != {"-o", "--out"}]
    assert wrong == []


def test_json_is_only_the_flag_that_prints_json() -> None:
    wrong = [f"tipsom {path}" for path, command in COMMANDS.items() for option in _options(command)
             if "--json" in option.opts and (path, "--json") not in HIDDEN_ALIASES
             and not (option.is_flag and option.opts == ["--json"] and _annotation(command, option.name) is bool)]
    assert wrong == []


def test_shared_options_have_the_one_type() -> None:
    checked, wrong = 0, []
    for path, command in COMMANDS.items():
        for option in _options(command):
            for name, kind in TYPED_OPTIONS.items():
                if name in option.opts and not (name == "--lang" and path in LANGUAGE_LISTS):
                    checked += 1
                    if _annotation(command, option.name) is not kind:
                        wrong.append(f"tipsom {path} {name}")
    assert wrong == []
    assert checked >= len(RECORD_READERS) + 4  # every reader's --on-error, three engines, two single languages


def test_the_language_list_accepts_exactly_the_languages() -> None:
    (path,) = LANGUAGE_LISTS
    (option,) = [o for o in _options(COMMANDS[path]) if "--lang" in o.opts]
    assert option.default == ",".join(Language)


def test_record_readers_are_the_commands_with_a_bad_record_policy() -> None:
    with_policy = {path for path, command in COMMANDS.items()
                   if any("--on-error" in o.opts for o in _options(command))}
    assert with_policy == RECORD_READERS


def test_old_spellings_are_hidden_and_documented() -> None:
    hidden = {(path, name) for path, command in COMMANDS.items() for option in _options(command)
              if option.hidden for name in option.opts}
    assert hidden == set(HIDDEN_ALIASES)
    visible = {name for command in COMMANDS.values() for option in _options(command) if not option.hidden
               for name in option.opts}
    assert not visible & {f"--{old}" for old in RENAMED_OPTIONS}
    assert not visible & {"--skip-invalid", "--strict", "--backend", "--output", "--language"}
    assert {f"--{new}" for new in RENAMED_OPTIONS.values()} <= visible


def test_commands_open_the_store_one_way() -> None:
    for source in Path(inspect.getfile(common_spelling)).parent.glob("*.py"):
        if source.name != "common.py":
            text = source.read_text(encoding="utf-8")
            assert "Store.open(" not in text, source.name
            assert ".open(db" not in text, source.name


# --- the old spellings still work -----------------------------------------------------------------------------


def test_output_still_names_the_output_file(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    assert runner.invoke(app, ["law", "checklist", "--output", str(old)]).exit_code == 0
    assert runner.invoke(app, ["law", "checklist", "--out", str(new)]).exit_code == 0
    assert old.read_text(encoding="utf-8") == new.read_text(encoding="utf-8") != ""


def test_backend_still_chooses_the_engine() -> None:
    refused = runner.invoke(app, ["estimate", "link", "records.csv", "-o", "out.csv", "--backend", "nope"])
    assert refused.exit_code == 2
    assert "'--engine'" in refused.output


def test_language_still_chooses_the_language() -> None:
    refused = runner.invoke(app, ["user", "add", "someone", "--org", "X", "--language", "de"])
    assert refused.exit_code == 2
    assert "'--lang'" in refused.output


def test_skip_invalid_still_means_on_error_skip(tmp_path: Path, data_key: str) -> None:
    from tests.registry_helpers import csv_rows, write_rows

    cases = tmp_path / "cases.csv"
    assert runner.invoke(app, ["synth", "cases", "--n", "3", "-o", str(cases), "-q"]).exit_code == 0
    rows = csv_rows(cases)
    rows[0]["citizenship"] = "XXX"
    bad = write_rows(tmp_path / "bad.csv", rows)
    assert runner.invoke(app, ["init"]).exit_code == 0
    refused = runner.invoke(app, ["import", "cases", str(bad), "-q"])
    assert refused.exit_code == 1
    reports = []
    for spelling in (["--skip-invalid"], ["--on-error", "skip"]):
        done = runner.invoke(app, ["import", "cases", str(bad), "-q", "--force", "--replace", *spelling])
        assert done.exit_code == 0, done.output
        reports.append(json.loads(done.stdout)["rejected"])
    assert reports == [1, 1]


@pytest.mark.usefixtures("initialised_store")
def test_strict_still_means_on_error_fail() -> None:
    rows = Path(__file__).parents[1] / "context" / "fixtures" / "acled_sample.csv"  # two rows are rejected
    for spelling in (["--strict"], ["--on-error", "fail"]):
        refused = runner.invoke(app, ["context", "import", str(rows), "--source", "acled", *spelling])
        assert refused.exit_code == 1, refused.output
        assert "2 rows rejected; nothing imported" in refused.stderr
    kept = runner.invoke(app, ["context", "import", str(rows), "--source", "acled"])
    assert kept.exit_code == 0
    assert "2 rows rejected" in kept.stdout


def test_json_path_on_cluster_still_writes_the_profiles_with_a_warning(tmp_path: Path) -> None:
    ads = tmp_path / "ads.jsonl"
    assert runner.invoke(app, ["synth", "ads", "-o", str(ads), "--n", "40"]).exit_code == 0
    old = tmp_path / "old-profiles.json"
    done = runner.invoke(app, ["osint", "cluster", str(ads), "-o", str(tmp_path / "c.csv"), "--json", str(old),
                               "--workers", "1", "--cross-lingual", "off", "-q"])
    assert done.exit_code == 0, done.output
    assert json.loads(old.read_text(encoding="utf-8"))
    assert done.stderr.splitlines() == ["tipsom: --json PATH is deprecated; use --profiles PATH"]


@pytest.mark.parametrize(("old", "new"), [
    (["--questionnaire", "--child"], ["questionnaire", "--child"]),
    (["--all", "--json"], ["all", "--json"]),
])
def test_the_one_command_screen_still_runs_as_its_subcommand(old: list[str], new: list[str], data_key: str) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    before, after = runner.invoke(app, ["screen", *old]), runner.invoke(app, ["screen", *new])
    assert before.exit_code == after.exit_code == 0, before.output
    assert before.stdout == after.stdout
    assert "deprecated" in before.stderr
    assert "deprecated" not in after.stderr


def test_screen_case_wants_a_file_or_a_stored_case() -> None:
    refused = runner.invoke(app, ["screen", "case"])
    assert refused.exit_code == 2
    assert refused.stderr.strip() == "tipsom: give exactly one of FILE or --case ID"
