"""``tipsom casework due|services|directory|referrals-from-htcds``: deadlines, the service directory and
HTCDS referrals from the shell."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from tipsom.cli.common import DbOption, open_store
from tipsom.core.errors import ConfigError

casework_app = typer.Typer(help="Casework: what is due, and the directory of services organisations offer.",
                           no_args_is_help=True)


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--now {text!r}: an ISO 8601 date or date and time is expected") from None
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def due_command(
    org: Annotated[str | None, typer.Option("--org", help="Code of one organisation (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array of {case_id, kind, due, overdue}.")] = False,
    now: Annotated[str | None, typer.Option(
        "--now", help="Count overdue as of this ISO date or time (UTC) instead of now, e.g. to plan a week.")] = None,
    db: DbOption = None,
) -> None:
    """Open tasks, referrals awaiting an answer and NRM deadlines, soonest first."""
    from tipsom.casework.due import due

    items = due(open_store(db, verify_key=False), org, now=_moment(now))
    if as_json:
        print(json.dumps([i.to_dict() for i in items], ensure_ascii=False))
        return
    for i in items:
        print(f"{i.due.isoformat()}\t{'OVERDUE' if i.overdue else 'due'}\t{i.kind}\t{i.case_id or '(referral)'}")


def services_command(
    org: Annotated[str, typer.Argument(help="Code of a registered organisation.")],
    service: Annotated[list[str], typer.Option("--service", help="A service offered (repeat); none withdraws all.")],
    language: Annotated[list[str] | None, typer.Option("--speaks", help="ISO 639 code of a language spoken "
                                                                         "(repeat).")] = None,
    contact: Annotated[str, typer.Option("--contact", help="Contact point for referrals.")] = "",
    db: DbOption = None,
) -> None:
    """Set what an organisation offers in the service directory (replaces its previous entry; audited)."""
    from tipsom.casework.enums import Service
    from tipsom.casework.services import set_services
    from tipsom.settings import get_settings

    known = {s.value: s for s in Service}
    bad = [s for s in service if s not in known]
    if bad:
        raise ConfigError(f"--service {', '.join(bad)}: not a service; one of {', '.join(known)}")
    offers = set_services(open_store(db, verify_key=False), org, [known[s] for s in service], languages=language or [],
                          contact=contact, actor=get_settings().actor)
    print(f"{org.upper()}: {len(offers)} service(s) in the directory")


def directory_command(
    service: Annotated[str | None, typer.Option("--service", help="Only organisations offering this.")] = None,
    language: Annotated[str | None, typer.Option("--speaks", help="Only where this language is spoken.")] = None,
    db: DbOption = None,
) -> None:
    """The service directory: organisation, service, languages, contact (tab-separated)."""
    from tipsom.casework.enums import Service
    from tipsom.casework.services import directory

    if service is not None and service not in {s.value for s in Service}:
        raise ConfigError(f"--service {service}: not a service; one of {', '.join(s.value for s in Service)}")
    offering = Service(service) if service else None
    for o in directory(open_store(db, verify_key=False), service=offering, language=language):
        print(f"{o.org_code}\t{o.org_name}\t{o.service}\t{','.join(o.languages)}\t{o.contact}")


def referrals_from_htcds_command(
    case: Annotated[list[str] | None, typer.Option("--case", help="Only this case (repeat); default all.")] = None,
    db: DbOption = None,
) -> None:
    """Turn the referral fields of stored identifications (from an HTCDS import) into casework referrals.

    Prints {"created", "unchanged", "no_consent", "unregistered"}; running it again adds nothing.
    """
    from tipsom.casework.htcds import referrals_from_identifications
    from tipsom.settings import get_settings

    done = referrals_from_identifications(open_store(db), actor=get_settings().actor, case_ids=case)
    print(json.dumps(done.to_dict()))


def register(root: typer.Typer) -> None:
    casework_app.command("due")(due_command)
    casework_app.command("services")(services_command)
    casework_app.command("directory")(directory_command)
    casework_app.command("referrals-from-htcds")(referrals_from_htcds_command)
    root.add_typer(casework_app, name="casework")
