"""Options and helpers every command shares: ``--db``, ``--quiet`` and exit codes."""

from __future__ import annotations

import enum
import sys
from typing import Annotated, NoReturn

import typer

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: TIPSOM_DB_URL or the SQLite file under TIPSOM_HOME)."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


class ExitCode(enum.IntEnum):
    """Exit codes are part of the CLI contract, so scripts can branch on them."""

    OK = 0
    INVALID_INPUT = 1
    USAGE = 2
    INTEGRITY_FAILURE = 3


def fail(message: str, code: ExitCode = ExitCode.INVALID_INPUT) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    print(message, file=sys.stderr)
    raise typer.Exit(int(code))
