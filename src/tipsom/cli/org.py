"""``tipsom org add|list``: the registry of organisations that share this installation."""

from __future__ import annotations

from typing import Annotated

import typer

from tipsom.cli.common import DbOption, open_store

org_app = typer.Typer(help="Registered organisations (account owners and share recipients).",
                      no_args_is_help=True)


def add_org(
    code: Annotated[str, typer.Argument(help="Short code, e.g. DEU-BKA (capitals, digits, '-', '_').")],
    name: Annotated[str, typer.Option("--name", help="Full name; cases carry it as their reporting organisation.")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", help="ISO 3166-1 alpha-3 country code.")],
    org_type: Annotated[str, typer.Option("--type", help="Kind of organisation, e.g. LawEnforcement, NGO.")] = "",
    contact: Annotated[str, typer.Option("--contact", help="Contact point (address, phone or mailbox).")] = "",
    db: DbOption = None,
) -> None:
    """Register an organisation (audited); refuses a code or name already registered (exit 1)."""
    from tipsom.settings import get_settings
    from tipsom.web.organisations import add_organisation

    org = add_organisation(open_store(db, verify_key=False), code=code, name=name, org_type=org_type,
                           jurisdiction=jurisdiction, contact=contact, actor=get_settings().actor)
    print(f"registered {org.code}: {org.name} ({org.jurisdiction})")


def list_orgs(db: DbOption = None) -> None:
    """List registered organisations: code, name, type, jurisdiction, contact (tab-separated)."""
    from tipsom.web.organisations import list_organisations

    with open_store(db, verify_key=False).engine.connect() as conn:
        for o in list_organisations(conn):
            print(f"{o.code}\t{o.name}\t{o.org_type}\t{o.jurisdiction}\t{o.contact}")


def register(root: typer.Typer) -> None:
    org_app.command("add")(add_org)
    org_app.command("list")(list_orgs)
    root.add_typer(org_app, name="org")
