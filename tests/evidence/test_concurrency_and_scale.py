"""Acceptance: concurrent writers in separate processes, and constant-memory hashing of 2 GB."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tipsom.evidence.locker import EvidenceLocker
from tipsom.evidence.verify import verify
from tipsom.store.db import Store

from .conftest import CASE_ID, add_case

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tipsom.evidence.custody import CustodyAction
    from tipsom.evidence.locker import EvidenceLocker, Intake
    from tipsom.store.db import Store

    folder, actor = Path(sys.argv[1]), sys.argv[2]
    sys.stdin.readline()  # both processes start writing at the same moment
    locker = EvidenceLocker.for_store(Store.open())
    for path in sorted(folder.iterdir()):
        [(item, _)] = locker.add_files([path], Intake(sys.argv[3], actor))
        locker.record(item.id, CustodyAction.ANALYSIS, actor, note="hash checked")
    print("done")
""")


def test_two_processes_adding_evidence_at_once(db_url: str, tmp_path: Path) -> None:
    """Runs on SQLite (BEGIN IMMEDIATE) and on PostgreSQL (advisory lock)."""
    locker = EvidenceLocker.for_store(Store.init(db_url))
    add_case(locker.engine, CASE_ID)
    procs = []
    for actor in ("Officer A", "Officer B"):
        folder = tmp_path / actor.replace(" ", "_")
        folder.mkdir()
        for n in range(10):
            (folder / f"photo_{n:02d}.jpg").write_bytes(f"{actor} exhibit {n}".encode() * 50)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), actor, CASE_ID],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "TIPSOM_DB_URL": db_url},
        ))
    outputs = [p.communicate("go\n", timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "done"
    items = locker.items(CASE_ID)
    assert len(items) == 20
    assert sorted(i.exhibit_number for i in items) == [f"{CASE_ID}-E{n:03d}" for n in range(1, 21)]
    events = locker.events()
    assert [e["seq"] for e in events] == list(range(1, 41))
    assert {e["actor"] for e in events} == {"Officer A", "Officer B"}
    result = verify(locker)
    locker.store.dispose()
    assert result.intact, [str(p) for p in result.problems]


# VmHWM is this process's own peak RSS; ru_maxrss would include the forking parent's (pytest's) pages.
MEMORY_PROBE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tipsom.evidence.hashing import digest_file
    digests = digest_file(Path(sys.argv[1]))
    status = Path("/proc/self/status").read_text()
    peak_mb = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(digests.size, digests.sha256, digests.md5, peak_mb)
""")


@pytest.mark.slow
def test_two_gigabyte_file_hashes_in_constant_memory(tmp_path: Path) -> None:
    size = 2 * 1024**3
    big = tmp_path / "extraction.bin"
    with big.open("wb") as handle:  # sparse: 2 GB to read, almost nothing on disk
        handle.seek(size - 1)
        handle.write(b"\x01")
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(big)], check=True, capture_output=True,
                         text=True, timeout=300).stdout.split()
    expected = hashlib.sha256()  # block-boundary correctness of all digests is in test_hashing.py
    block = bytes(1024**2)
    for _ in range(2047):
        expected.update(block)
    expected.update(bytes(1024**2 - 1) + b"\x01")
    assert int(out[0]) == size
    assert out[1] == expected.hexdigest()
    assert len(out[2]) == 32
    assert float(out[3]) < 100, f"peak RSS {out[3]} MB"
