"""``tipsom casework due --json`` with an injected clock, and the service directory commands."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from tests.casework.conftest import World
from tipsom.casework import tasks
from tipsom.casework.tasks import Task
from tipsom.cli.main import app

runner = CliRunner()


def _task(world: World) -> Task:
    return tasks.create_task(world.store, world.a, world.case, title="Appoint a guardian", assignee="a.worker",
                             due_on=dt.date(2026, 4, 3), now=dt.datetime(2026, 4, 2, 9))


def test_due_json_shape_and_injected_clock(world: World) -> None:
    _task(world)
    url = world.store.url
    on_time = runner.invoke(app, ["casework", "due", "--org", "orga", "--json", "--now", "2026-04-03", "--db", url])
    assert on_time.exit_code == 0, on_time.output
    assert json.loads(on_time.output) == [{"case_id": world.case, "kind": "task", "due": "2026-04-03",
                                           "overdue": False}]
    late = runner.invoke(app, ["casework", "due", "--json", "--now", "2026-04-04T10:00:00+02:00", "--db", url])
    assert json.loads(late.output)[0]["overdue"] is True
    assert json.loads(runner.invoke(app, ["casework", "due", "--org", "ORGB", "--json", "--db", url]).output) == []
    text = runner.invoke(app, ["casework", "due", "--now", "2026-04-04", "--db", url])
    assert text.output.split("\t")[:3] == ["2026-04-03", "OVERDUE", "task"]


def test_due_refusals_exit_2(world: World) -> None:
    url = world.store.url
    unknown = runner.invoke(app, ["casework", "due", "--org", "NOPE", "--db", url])
    assert unknown.exit_code == 2
    assert "no registered organisation 'NOPE'" in unknown.output
    bad_clock = runner.invoke(app, ["casework", "due", "--now", "next tuesday", "--db", url])
    assert bad_clock.exit_code == 2
    assert "--now" in bad_clock.output


def test_services_directory(world: World) -> None:
    url = world.store.url
    done = runner.invoke(app, ["casework", "services", "ORGB", "--service", "Shelter", "--service", "LegalAid",
                               "--speaks", "en", "--speaks", "ti", "--contact", "intake@b.example", "--db", url])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["casework", "directory", "--speaks", "ti", "--db", url]).output.splitlines()
    assert listed == ["ORGB\tOrganisation B\tLegalAid\ten,ti\tintake@b.example",
                      "ORGB\tOrganisation B\tShelter\ten,ti\tintake@b.example"]
    assert runner.invoke(app, ["casework", "directory", "--speaks", "fr", "--db", url]).output == ""
    bad = runner.invoke(app, ["casework", "services", "ORGB", "--service", "Spa", "--db", url])
    assert bad.exit_code == 2
    unregistered = runner.invoke(app, ["casework", "services", "ORGX", "--service", "Shelter", "--db", url])
    assert unregistered.exit_code == 1
    assert "no registered organisation 'ORGX'" in unregistered.output
