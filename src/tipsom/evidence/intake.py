"""Facts about a file recorded at intake, before its content goes into the vault.

Names and extensions are claims a sender can get wrong, so the MIME type comes
from the file's first bytes when a known signature matches, and from the name
only otherwise. File-system times are recorded as found: they describe the copy
handed over, not necessarily the original device.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tipsom.core.errors import InputError
from tipsom.evidence.custody import iso_utc

#: Leading bytes of formats common in trafficking evidence (images, documents, archives, captures).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"WARC/1.", "application/warc"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
)


@dataclass(frozen=True)
class FileFacts:
    original_name: str
    original_path: str
    mime_type: str
    modified_at: str
    changed_at: str


def sniff_mime(path: Path) -> str:
    """MIME type from the content's signature, else from the name, else octet-stream."""
    with path.open("rb") as handle:
        head = handle.read(16)
    for signature, mime in SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def regular_file_stat(path: Path) -> os.stat_result:
    """The status of ``path`` if it is a regular file; anything else is refused without being opened.

    A FIFO blocks the reader until someone writes, and a device such as
    ``/dev/zero`` never ends: taking either in would hang the intake with a
    partial object in the vault. Evidence is a file handed over, so only
    regular files (symbolic links to them included) are accepted.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"is {_kind(info.st_mode)}, not a regular file; only files can be taken in", file=path)
    return info


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def file_facts(path: Path) -> FileFacts:
    """Read name, absolute path, MIME type and times of a file about to be taken in."""
    info = regular_file_stat(path)
    return FileFacts(
        original_name=path.name,
        original_path=str(path.resolve()),
        mime_type=sniff_mime(path),
        modified_at=iso_utc(datetime.fromtimestamp(info.st_mtime, UTC)),
        changed_at=iso_utc(datetime.fromtimestamp(info.st_ctime, UTC)),
    )
