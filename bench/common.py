"""Helpers for benchmarks: wall time and peak memory of a child process.

Each measured step runs in its own process so that its peak RSS is its own
(``os.wait4`` returns the child's resource usage), and the baseline or peer is
measured in the same run on the same machine.
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Measurement:
    seconds: float
    #: Peak resident memory of the largest single process (from ``wait4``).
    peak_rss_mb: float
    returncode: int
    stdout: str
    #: Peak of the summed resident memory of the process and its children (sampled every 0.1 s).
    tree_peak_mb: float = 0.0


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run ``cmd`` and return its wall time and peak resident memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
        cwd=cwd, text=True,
    )
    chunks: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda k=k, s=s: chunks.__setitem__(k, s.read()))
        for k, s in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for t in readers:
        t.start()
    tree_peak = [0.0]
    done = threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(proc.pid, tree_peak, done))
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    for t in readers:
        t.join()
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        sys.stderr.write(chunks.get("err", ""))
    peak = usage.ru_maxrss / 1024.0
    return Measurement(seconds, peak, code, chunks.get("out", ""), max(tree_peak[0], peak))


def _sample_tree(pid: int, peak: list[float], done: threading.Event) -> None:
    import psutil

    while not done.wait(0.1):
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
            total = 0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            peak[0] = max(peak[0], total / (1 << 20))
        except psutil.Error:
            return


def python_cmd(code: str) -> list[str]:
    """A command running ``code`` in this interpreter (the project's venv)."""
    return [sys.executable, "-c", code]


def machine() -> str:
    """One line describing where the numbers were measured."""
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"


def write_result(name: str, markdown: str) -> Path:
    """Store one benchmark's section; ``bench/run.py`` assembles them."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    path.write_text(f"{markdown.rstrip()}\n\n_Measured {stamp} on {machine()}._\n", encoding="utf-8")
    return path
