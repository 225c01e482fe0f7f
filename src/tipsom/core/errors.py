"""One exception root, so the command line can turn every refusal into one line and an exit code.

A user who feeds tipsom a bad file or a bad setting must read what is wrong and
where, never a Python traceback. Each module raises its own subclass of one of
three branches, and the CLI's single handler (``tipsom.cli.main``) maps the
branch to the exit code that scripts branch on:

- :class:`InputError` (exit 1): the data offered is wrong; names file, row, field and reason.
- :class:`ConfigError` (exit 2): the call or the installation is wrong (option, setting, key, store).
- :class:`IntegrityError` (exit 3): stored data fails a check (custody chain, audit chain, seals).

``InputError`` and ``ConfigError`` also derive from ``ValueError`` so that code
written before the root existed, which catches ``ValueError``, keeps working.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import ClassVar


class ExitCode(enum.IntEnum):
    """Exit codes are part of the CLI contract, so scripts can branch on them."""

    OK = 0
    INVALID_INPUT = 1
    USAGE = 2
    INTEGRITY_FAILURE = 3
    #: A defect in tipsom itself: the one-line message asks for a report.
    INTERNAL = 70


def printable(message: str) -> str:
    """``message`` with every character a terminal or ``splitlines`` would not show as text escaped.

    Refusals quote the values they refuse, and a bad file's values may hold
    control characters or line separators (``\\x1c``, ``\\u2028``) that would
    break "one line naming file, row, field and reason" into several, or move
    the terminal's cursor. Newlines that the message itself puts between
    problems are kept.
    """
    return "\n".join("".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line)
                      for line in message.split("\n"))


class TipsomError(Exception):
    """Root of every error tipsom raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.INVALID_INPUT


class InputError(TipsomError, ValueError):
    """Input that cannot be accepted, located as precisely as it can be.

    ``str()`` gives one line: ``file: row N: field: reason``, leaving out the
    parts that are not known.
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [p for p in (self.file, f"row {self.row}" if self.row is not None else None, self.field) if p]
        return ": ".join([*parts, self.reason])

    def __str__(self) -> str:
        return self.message


class ConfigError(TipsomError, ValueError):
    """A bad option, setting, key or store: the user must change how tipsom is called or set up."""

    exit_code = ExitCode.USAGE


class IntegrityError(TipsomError):
    """Stored data fails a verification (tampering, a broken chain, a missing seal)."""

    exit_code = ExitCode.INTEGRITY_FAILURE
