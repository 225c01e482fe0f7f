"""Data key commands: ``key check`` and ``key rotate``."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from tipsom.cli.common import DbOption, QuietOption, open_store

key_app = typer.Typer(help="The data key: check it against the store, move the store to a new one.",
                      no_args_is_help=True)


@key_app.command("check")
def check(db: DbOption = None) -> None:
    """Print the data key's id and source, and whether this store is encrypted under it (exit 2 if not)."""
    from tipsom.settings import get_settings
    from tipsom.store.crypto import load_data_key

    key = load_data_key(get_settings())
    print(f"key: {key.id}")
    print(f"source: {key.origin}")
    store = open_store(db, verify_key=False)
    store.data_key  # noqa: B018  (the verification itself: a mismatch is raised as a configuration error)
    print("store: matches")


@key_app.command("rotate")
def rotate(
    purpose: Annotated[str, typer.Option("--purpose", help="Why, for the audit log.")] = "data key rotation",
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Re-encrypt every personal value under a new key in one transaction; rerun to finish an interrupted one."""
    from tipsom.settings import get_settings
    from tipsom.store.keys import rotate_data_key

    def show(table: str, rows: int) -> None:
        if not quiet:
            print(f"re-encrypting {table}: {rows:,} rows", file=sys.stderr, flush=True)

    settings = get_settings()
    store = open_store(db, verify_key=False)  # the rotation checks the keys itself, and finishes an interrupted one
    report = rotate_data_key(store.engine, store.model, settings, actor=settings.actor, purpose=purpose,
                             progress=show)
    print(json.dumps(report.as_dict(), indent=2))
    if report.backup:
        print(f"the old key is kept in {report.backup} (mode 0600) until you no longer need old backups",
              file=sys.stderr)
    if report.new_key_text:
        print(f"new data key (shown once): {report.new_key_text}")
        print(f"set TIPSOM_KEY to the new key now: the store no longer opens under the old one. "
              f"The new key is also in {report.key_file}; delete that file once TIPSOM_KEY is updated.",
              file=sys.stderr)


def register(root: typer.Typer) -> None:
    root.add_typer(key_app, name="key")
