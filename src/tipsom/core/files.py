"""File-system steps that several modules need to get exactly right."""

from __future__ import annotations

import os
from pathlib import Path


def sync_directory(folder: Path) -> None:
    """Make new or renamed entries of ``folder`` durable.

    A rename or a new link is on disk only once the directory itself is
    flushed; without this a crash can lose a key file just written or a vault
    object just linked, although the file's own bytes were synced.
    """
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
