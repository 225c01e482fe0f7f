"""The exception root and the CLI's single handler: one line, the branch's exit code, no traceback."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tipsom.cli.main import TipsomGroup, app
from tipsom.core.errors import ConfigError, ExitCode, InputError, IntegrityError, TipsomError


def test_input_error_names_file_row_field_and_reason() -> None:
    err = InputError("not a date", file="cases.csv", row=12, field="case_date")
    assert str(err) == "cases.csv: row 12: case_date: not a date"
    assert str(InputError("empty file", file="x.csv")) == "x.csv: empty file"
    assert isinstance(err, ValueError)  # callers written before the root still catch it


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InputError("bad row", file="f.csv", row=3), ExitCode.INVALID_INPUT),
        (ConfigError("no such store"), ExitCode.USAGE),
        (IntegrityError("chain broken at event 7"), ExitCode.INTEGRITY_FAILURE),
        (FileNotFoundError(2, "No such file or directory", "missing.csv"), ExitCode.INVALID_INPUT),
        (KeyError("defect"), ExitCode.INTERNAL),
    ],
)
def test_handler_maps_each_branch_to_its_exit_code(error: Exception, code: ExitCode) -> None:
    probe = typer.Typer(cls=TipsomGroup)

    @probe.command()
    def raise_it() -> None:
        raise error

    @probe.command()
    def other() -> None:  # two commands, so the group dispatches as the real root does
        pass

    result = CliRunner().invoke(probe, ["raise-it"])
    assert result.exit_code == int(code)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("tipsom: ")
    if isinstance(error, TipsomError):
        assert str(error) in lines[0]
    if isinstance(error, OSError):
        assert "missing.csv" in lines[0]


def test_malformed_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPSOM_SUPPRESSION_THRESHOLD", "abc")
    result = CliRunner().invoke(app, ["stats"])
    assert result.exit_code == ExitCode.USAGE
    assert "TIPSOM_SUPPRESSION_THRESHOLD" in result.output
    assert "Traceback" not in result.output


def test_every_module_exception_derives_from_the_root() -> None:
    """Each exception class tipsom defines for refusals sits under TipsomError (issue 20)."""
    import importlib
    import inspect
    import pkgutil

    import tipsom

    strays = []
    for info in pkgutil.walk_packages(tipsom.__path__, "tipsom."):
        if info.name.startswith(("tipsom.web", "tipsom.store.migrations")):
            continue  # web exceptions become HTTP answers, not exit codes; migrations are scripts
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == info.name
                    and not issubclass(obj, TipsomError)):
                strays.append(f"{info.name}.{name}")
    assert strays == []
