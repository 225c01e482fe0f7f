"""Seals: short statements of the custody log's head, kept outside the database.

A log that is consistent with itself can still be an *old* log: restoring last
month's backup yields a perfectly valid chain that has simply lost events. Only
a record of the head kept elsewhere shows this. A seal is ``TSEAL1-<seq>-<hash>``:
an analyst writes it into the paper case file or sends it to a prosecutor, and
``verify --seal`` later checks that the log still contains that event with that
hash. Each installation also keeps, per database, a journal of the seals it
issued and the highest head it has written, outside the database, so a restored
database is caught even when nobody typed a seal in.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

SEAL_PATTERN = re.compile(r"^TSEAL1-(\d+)-([0-9a-f]{64})$")


@dataclass(frozen=True, order=True)
class Seal:
    """The log contained event ``seq`` with hash ``head_hash`` when this was issued."""

    seq: int
    head_hash: str

    def __str__(self) -> str:
        return f"TSEAL1-{self.seq}-{self.head_hash}"

    @classmethod
    def parse(cls, text: str) -> Seal:
        match = SEAL_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"not a seal: {text.strip()!r} (expected TSEAL1-<number>-<64 hex digits>)")
        return cls(int(match.group(1)), match.group(2))


class SealJournal:
    """Seals issued and the highest head written, for one database, under ``TIPSOM_HOME``."""

    def __init__(self, home: Path, database: str) -> None:
        digest = hashlib.sha256(database.encode("utf-8")).hexdigest()[:16]
        self.directory = home / "custody" / digest
        self.issued_path = self.directory / "seals.log"
        self.head_path = self.directory / "head"
        self.database = database

    @contextmanager
    def _locked(self, name: Path) -> Iterator[TextIO]:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "database").write_text(self.database + "\n", encoding="utf-8")
        with name.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def record_issued(self, seal: Seal) -> None:
        with self._locked(self.issued_path) as handle:
            handle.write(f"{seal}\n")

    def raise_head(self, seal: Seal) -> None:
        """Remember ``seal`` as the head unless a later one is already remembered."""
        with self._locked(self.head_path) as handle:
            handle.seek(0)
            current = handle.read().strip()
            if current and Seal.parse(current).seq >= seal.seq:
                return
            handle.seek(0)
            handle.truncate()
            handle.write(f"{seal}\n")

    def known(self) -> list[tuple[str, Seal]]:
        """Every seal to check the log against, each with where it came from."""
        found: list[tuple[str, Seal]] = []
        for path in (self.issued_path, self.head_path):
            if path.exists():
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                    if line.strip():
                        found.append((f"{path}:{number}", Seal.parse(line)))
        return found
