"""``tipsom org add|list`` and the demo's registered organisations (issue 15, finding 3's registry)."""

from __future__ import annotations

from typer.testing import CliRunner

from tipsom.cli.main import app

runner = CliRunner()


def test_org_add_list_and_refusals() -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    added = runner.invoke(app, ["org", "add", "deu-bka", "--name", "DEU Federal Criminal Police",
                                "--jurisdiction", "deu", "--type", "LawEnforcement", "--contact", "desk@example.org"])
    assert added.exit_code == 0, added.output
    listing = runner.invoke(app, ["org", "list"]).output.splitlines()
    assert listing == ["DEU-BKA\tDEU Federal Criminal Police\tLawEnforcement\tDEU\tdesk@example.org"]
    duplicate = runner.invoke(app, ["org", "add", "DEU-BKA", "--name", "Another", "--jurisdiction", "DEU"])
    assert duplicate.exit_code == 1
    assert "code: 'DEU-BKA' is already registered" in duplicate.output
    same_name = runner.invoke(app, ["org", "add", "DEU-X", "--name", "DEU Federal Criminal Police",
                                    "--jurisdiction", "DEU"])
    assert same_name.exit_code == 1
    bad_country = runner.invoke(app, ["org", "add", "XX-1", "--name", "Somewhere", "--jurisdiction", "Germany"])
    assert bad_country.exit_code == 1
    assert "jurisdiction" in bad_country.output
    assert len(runner.invoke(app, ["org", "list"]).output.splitlines()) == 1


def test_demo_registers_its_organisations() -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["demo", "--n", "15", "--quiet"]).exit_code == 0
    rows = [line.split("\t") for line in runner.invoke(app, ["org", "list"]).output.splitlines()]
    assert len(rows) >= 2
    for code, name, _type, jurisdiction, _contact in rows:
        assert name.startswith(jurisdiction)
        assert code.startswith(f"{jurisdiction}-")
