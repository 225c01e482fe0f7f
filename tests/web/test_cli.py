"""``tipsom serve`` and ``tipsom user ...``, and demo logins printed by ``tipsom demo``."""

from __future__ import annotations

from typer.testing import CliRunner

from tipsom.cli.main import app

runner = CliRunner()


def test_demo_prints_logins_even_when_data_exists() -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    first = runner.invoke(app, ["demo", "--n", "15", "--quiet"])
    assert first.exit_code == 0, first.output
    assert "demo login: demo.admin / " in first.output
    again = runner.invoke(app, ["demo", "--if-empty", "--quiet"])
    assert "demo data not added" in again.output
    assert "demo login: demo.viewer" in again.output


def test_user_commands() -> None:
    runner.invoke(app, ["init"])
    added = runner.invoke(app, ["user", "add", "amira", "--org", "Shelter NGO", "--role", "investigator",
                                "--password", "a long password"])
    assert added.exit_code == 0
    assert "created amira (investigator, Shelter NGO)" in added.output
    duplicate = runner.invoke(app, ["user", "add", "amira", "--org", "X", "--password", "a long password"])
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    short = runner.invoke(app, ["user", "add", "bo", "--org", "X", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 10 characters" in short.output
    bad_role = runner.invoke(app, ["user", "add", "cy", "--org", "X", "--role", "boss", "--password", "x" * 12])
    assert bad_role.exit_code == 2
    listing = runner.invoke(app, ["user", "list"])
    assert "amira\tinvestigator\tShelter NGO\tactive" in listing.output
    assert runner.invoke(app, ["user", "unlock", "amira"]).exit_code == 0
    assert runner.invoke(app, ["user", "password", "amira", "--password", "another long one"]).exit_code == 0
    assert runner.invoke(app, ["user", "unlock", "nobody"]).exit_code == 1


def test_serve_help_names_host_and_port() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output
    assert "--port" in result.output
