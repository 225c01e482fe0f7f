"""``tipsom audit``: verify the audit log's hash chain, and seal its head."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tipsom.cli.common import DbOption, QuietOption, open_store

audit_app = typer.Typer(help="Check that the audit log is complete and unaltered.", no_args_is_help=True)


@audit_app.command("verify")
def verify_cmd(
    seal: Annotated[list[str] | None, typer.Option("--seal", help="Seal to check (repeatable).")] = None,
    quiet: QuietOption = False,
    db: DbOption = None,
) -> None:
    """Walk the audit chain and check every seal issued here; exit 3 naming the first broken event."""
    from tipsom.store import audit

    given = [(f"--seal {s}", audit.Seal.parse(s)) for s in seal or []]
    store = open_store(db, verify_key=False)  # an auditor checks the chain without the right to read personal data
    try:
        journal = audit.SealJournal(store.settings.home, store.url)
        known = journal.known()
        with store.engine.connect() as conn:
            result = audit.verify(conn, [*given, *known])
    finally:
        store.dispose()
    if result.intact and result.head.seq > max((s.seq for _, s in known), default=0):
        # An intact head is remembered too, so a tail cut off after this check is caught by the next.
        journal.remember(result.head)
    for finding in result.findings[1:]:
        print(f"FAIL {finding}", file=sys.stderr)
    if not quiet:
        print(f"{result.events_checked} audit events checked, head {result.head}")
    if not result.intact:
        from tipsom.core.errors import IntegrityError

        more = f" ({len(result.findings) - 1} more above)" if len(result.findings) > 1 else ""
        raise IntegrityError(f"audit log broken at {result.findings[0]}{more}")


@audit_app.command("seal")
def seal_cmd(db: DbOption = None) -> None:
    """Print a seal of the audit log's head, remembered here and to keep outside the system."""
    from tipsom.store import audit

    store = open_store(db, verify_key=False)
    try:
        with store.begin() as conn:
            print(audit.seal(conn, audit.SealJournal(store.settings.home, store.url)))
    finally:
        store.dispose()


def register(root: typer.Typer) -> None:
    """Add ``tipsom audit`` and its commands."""
    root.add_typer(audit_app, name="audit")
