"""Content-addressed, write-once storage for evidentiary copies.

An object's name is its SHA-256, so the same bytes are stored once and a path
can always be checked against its own name. Objects are written to a temporary
file while being hashed, then *linked* into place: linking fails if the name
already exists, so an evidentiary copy is never overwritten, even by two
processes adding the same file at once. Finished objects are made read-only;
analysts get separate working copies (see :meth:`Vault.copy_out`).
"""

from __future__ import annotations

import enum
import io
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tipsom.core.errors import InputError
from tipsom.core.files import sync_directory
from tipsom.evidence.hashing import ALL_ALGORITHMS, Digests, digest_stream, sha256_file

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP  # 0o440: the owner and its group may read


class ObjectState(enum.Enum):
    """What re-hashing a vault object found."""

    INTACT = "intact"
    CHANGED = "changed"
    MISSING = "missing"


@dataclass(frozen=True)
class StoredObject:
    """The digests of an object and whether this call wrote it or found it already stored."""

    digests: Digests
    path: Path
    newly_written: bool


class Vault:
    """The object store under ``root`` (``TIPSOM_VAULT``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the object with this digest lives (two-level fan-out keeps directories small)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a lower-case SHA-256 hex digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def store(self, source: Path) -> StoredObject:
        """Copy ``source`` into the vault, hashing it in the same pass; only a regular file is read.

        The file is opened without blocking and checked on the open handle, so
        a path swapped for a FIFO or a device after the intake's checks is
        still refused instead of hanging the copy.
        """
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise InputError("not a regular file; only files can be taken in", file=source)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", buffering=0) as src:
            return self._ingest(src, info.st_size)

    def store_bytes(self, data: bytes) -> StoredObject:
        """Store in-memory content (a capture's WARC) the same way."""
        return self._ingest(io.BytesIO(data), len(data))

    def _ingest(self, source: BinaryIO, size_hint: int) -> StoredObject:
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=staging, prefix="intake-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:  # buffered: write() always writes the whole block
                digests = digest_stream(source, ALL_ALGORITHMS, sink=out.write, size_hint=size_hint)
                out.flush()
                os.fsync(out.fileno())
            return self._publish(tmp, digests)
        finally:
            tmp.unlink(missing_ok=True)

    def _publish(self, tmp: Path, digests: Digests) -> StoredObject:
        final = self.path_for(digests.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, READ_ONLY)
        try:
            os.link(tmp, final)
        except FileExistsError:
            return StoredObject(digests, final, newly_written=False)
        sync_directory(final.parent)
        return StoredObject(digests, final, newly_written=True)

    def check(self, sha256: str, size: int) -> ObjectState:
        """Re-hash the object and compare it with the digest it was stored under."""
        path = self.path_for(sha256)
        try:
            actual_size = path.stat().st_size
        except FileNotFoundError:
            return ObjectState.MISSING
        if actual_size != size or sha256_file(path) != sha256:
            return ObjectState.CHANGED
        return ObjectState.INTACT

    def copy_out(self, sha256: str, dest: Path) -> Path:
        """Write a writable working copy of an object to ``dest`` (never over an existing file)."""
        source = self.path_for(sha256)
        if dest.exists():
            raise FileExistsError(f"{dest}: refusing to overwrite an existing file with a working copy")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        os.chmod(dest, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP)
        return dest


