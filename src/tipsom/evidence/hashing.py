"""Streaming digests: SHA-256 for identity, MD5 and SHA-1 for older forensic tools.

Evidence files can be phone extractions of tens of gigabytes, so a file is never
read whole: it is read in fixed-size blocks into two reusable buffers. OpenSSL's
hash functions release the GIL, so the digests run on worker threads while the
next block is read (and, during intake, while the block is written to the vault).
Memory stays at a few blocks whatever the file size, and on a two-core machine
the three digests together outpace a single-digest tool such as ``sha256sum``.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: Bytes read per block: large enough that thread hand-off costs nothing, small
#: enough that two buffers stay far below any memory budget.
BLOCK_SIZE = 4 * 1024 * 1024


class HashAlgorithm(enum.Enum):
    """Digests recorded at intake; values are hashlib names."""

    SHA256 = "sha256"
    SHA1 = "sha1"
    MD5 = "md5"

    @property
    def cost(self) -> float:
        """Relative CPU cost per byte (OpenSSL on x86-64), used to balance threads."""
        return {HashAlgorithm.SHA256: 0.8, HashAlgorithm.SHA1: 0.7, HashAlgorithm.MD5: 1.6}[self]


ALL_ALGORITHMS = (HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5)


@dataclass(frozen=True)
class Digests:
    """Hex digests and byte count of one stream; absent algorithms are empty strings."""

    size: int
    sha256: str
    sha1: str = ""
    md5: str = ""


class _HashGroup:
    """Hashers updated together on one worker thread."""

    def __init__(self, algorithms: list[HashAlgorithm]) -> None:
        self.hashers = {a: hashlib.new(a.value) for a in algorithms}

    def update(self, block: memoryview) -> None:
        for hasher in self.hashers.values():
            hasher.update(block)


def _balanced_groups(algorithms: tuple[HashAlgorithm, ...], workers: int) -> list[_HashGroup]:
    """Split algorithms over ``workers`` threads, heaviest first onto the lightest thread."""
    buckets: list[list[HashAlgorithm]] = [[] for _ in range(max(1, min(workers, len(algorithms))))]
    for algorithm in sorted(algorithms, key=lambda a: a.cost, reverse=True):
        min(buckets, key=lambda b: sum(a.cost for a in b)).append(algorithm)
    return [_HashGroup(b) for b in buckets]


def digest_stream(
    source: BinaryIO,
    algorithms: tuple[HashAlgorithm, ...] = ALL_ALGORITHMS,
    sink: Callable[[memoryview], object] | None = None,
    block_size: int = BLOCK_SIZE,
    size_hint: int | None = None,
) -> Digests:
    """Digest ``source`` to its end, passing every block to ``sink`` too (if given).

    Reading block *n+1* overlaps hashing (and sinking) block *n*; the two buffers
    swap roles each round, so no block is copied. A stream known to fit in one
    block (``size_hint``) is hashed inline: threads and 4 MiB buffers would cost
    more than the hashing of a small screenshot.
    """
    if HashAlgorithm.SHA256 not in algorithms:
        raise ValueError("SHA-256 identifies every vault object and cannot be left out")
    groups = _balanced_groups(algorithms, os.cpu_count() or 1)
    if size_hint is not None and size_hint < block_size:
        return _digest_inline(source, groups, sink, bytearray(size_hint + 1))
    buffers = (bytearray(block_size), bytearray(block_size))
    size = 0
    with ThreadPoolExecutor(max_workers=len(groups) + (1 if sink else 0)) as pool:
        pending: list[Future[object]] = []
        turn = 0
        while True:
            buffer = buffers[turn]
            count = source.readinto(buffer)  # type: ignore[attr-defined]
            for future in pending:  # the other buffer is free once its work is done
                future.result()
            if not count:
                break
            block = memoryview(buffer)[:count]
            size += count
            pending = [pool.submit(g.update, block) for g in groups]
            if sink is not None:
                pending.append(pool.submit(sink, block))
            turn = 1 - turn
    return _digests(groups, size)


def _digest_inline(source: BinaryIO, groups: list[_HashGroup], sink: Callable[[memoryview], object] | None,
                   buffer: bytearray) -> Digests:
    """One thread, one buffer (a spare byte beyond the hint shows whether the stream grew)."""
    size = 0
    while count := source.readinto(buffer):  # type: ignore[attr-defined]
        block = memoryview(buffer)[:count]
        size += count
        for group in groups:
            group.update(block)
        if sink is not None:
            sink(block)
    return _digests(groups, size)


def _digests(groups: list[_HashGroup], size: int) -> Digests:
    found = {a: h.hexdigest() for g in groups for a, h in g.hashers.items()}
    return Digests(
        size=size,
        sha256=found[HashAlgorithm.SHA256],
        sha1=found.get(HashAlgorithm.SHA1, ""),
        md5=found.get(HashAlgorithm.MD5, ""),
    )


def digest_file(path: Path, algorithms: tuple[HashAlgorithm, ...] = ALL_ALGORITHMS) -> Digests:
    """Digest the file at ``path`` (unbuffered reads straight into the block buffers)."""
    with path.open("rb", buffering=0) as handle:
        return digest_stream(handle, algorithms, size_hint=os.fstat(handle.fileno()).st_size)


def sha256_file(path: Path) -> str:
    """SHA-256 alone: what re-verification of a vault object needs."""
    return digest_file(path, (HashAlgorithm.SHA256,)).sha256
