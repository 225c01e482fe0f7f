"""``tipsom retention run``: erase the personal fields of persons past their retention date."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from tipsom.cli.common import DbOption, open_store
from tipsom.core.errors import ConfigError

retention_app = typer.Typer(help="Retention: erase personal data kept longer than recorded consent allows.",
                            no_args_is_help=True)


def run_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count the persons due; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"persons_due": n, "erased": n}.')] = False,
    today: Annotated[str | None, typer.Option(
        "--today", help="Erase what is past retention on this ISO date instead of today (to rehearse).")] = None,
    db: DbOption = None,
) -> None:
    """Erase names, contacts, identity numbers and birth dates of persons past ``retention_until``.

    Their history versions are erased too; the non-personal fields stay, so statistics keep the
    anonymous record. One audit event per person.
    """
    from tipsom.settings import get_settings
    from tipsom.store.retention import run_retention

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise ConfigError(f"--today {today!r}: a date YYYY-MM-DD is expected") from None
    done = run_retention(open_store(db), actor=get_settings().actor, today=day, dry_run=dry_run)
    if as_json:
        print(json.dumps(done.to_dict()))
    elif dry_run:
        print(f"{done.persons_due} person(s) past retention; dry run, nothing erased")
    else:
        print(f"{done.persons_due} person(s) past retention; {done.erased} erased")


def register(root: typer.Typer) -> None:
    retention_app.command("run")(run_command)
    root.add_typer(retention_app, name="retention")
