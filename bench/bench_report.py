"""Benchmark: ``tipsom report sdg`` and ``report build`` across registry sizes, new and previous suppression.

Targets (issue 17): ``report sdg`` under 5 s at 20,000 cases, ``report build``
under 10 s at 1,000,000 cases (PDF excluded), and a time curve that does not
rise as the registry shrinks. Each size is a seeded synthetic store
(``CaseGenerator(11)``, as ``tipsom synth cases --seed 11``) generated once
under ``bench/work`` (gitignored) and reused.

The previous suppression (cell-by-cell LP probing) lives only here, in
``bench/previous_disclosure.py``, and is run through the same CLI commands with
``compute``'s protection swapped for it, under a time limit (it did not finish
20,000 cases in 10 minutes). Sizes: ``TIPSOM_BENCH_REPORT_SIZES`` (comma
separated, default 500 to 1,000,000); time limit per run:
``TIPSOM_BENCH_REPORT_LIMIT`` seconds (default 600); ``TIPSOM_BENCH_REPORT_PREVIOUS=0``
leaves the previous method out (its table cells then read "not run").
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import measure, python_cmd, write_result  # noqa: E402  (bench/ is not a package)

SIZES = tuple(int(n) for n in os.environ.get("TIPSOM_BENCH_REPORT_SIZES",
                                             "500,2000,20000,200000,1000000").split(","))
LIMIT = int(os.environ.get("TIPSOM_BENCH_REPORT_LIMIT", "600"))
METHODS = (False, True) if os.environ.get("TIPSOM_BENCH_REPORT_PREVIOUS", "1") != "0" else (False,)
SDG_TARGET = (20_000, 5.0)
BUILD_TARGET = (1_000_000, 10.0)
KEY = "YmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmI="


def work(n: int) -> Path:
    return HERE / "work" / f"report_{n}"


def setup(n: int) -> str:
    return f"""
import base64, time
from pathlib import Path
from tipsom.exchange.importer import import_records
from tipsom.exchange.native import Record
from tipsom.settings import Settings
from tipsom.store.db import Store
from tipsom.synth.cases import CaseGenerator
home = Path({str(work(n))!r})
home.mkdir(parents=True, exist_ok=True)
store = Store.init(Settings(home=home, key={KEY!r}, db_url="").database_url,
                   settings=Settings(home=home, key={KEY!r}, db_url=""))
if store.counts()["cases"] != {n}:
    docs = CaseGenerator(11).cases({n})
    import_records(store, (Record(i, {{}}, d) for i, d in enumerate(docs, 1)), source="bench", actor="bench",
                   purpose="benchmark", workers=2)
print(store.url)
"""


def command(url: str, args: list[str], previous: bool) -> str:
    """The CLI command in a fresh process; with ``previous``, the old suppression swapped in."""
    swap = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
import previous_disclosure
from tipsom.report import compute
def _previous(con, flt, policy, names=tuple(compute.CUBES)):
    return {{n: previous_disclosure.protect(compute.CUBES[n](con, flt), policy) for n in names}}
compute.compute_cubes = _previous
""" if previous else ""
    return f"""{swap}
import time
from tipsom.cli.main import app
app({[*args, "--db", url]!r}, standalone_mode=False)
print("cpu", time.process_time())
"""


def timed(n: int, url: str, name: str, args: list[str], previous: bool) -> tuple[float, float] | None:
    """Wall and CPU seconds of one run, or None past the time limit. On a shared machine the
    wall time includes waiting for a core; the CPU time of the process does not."""
    m = measure(["timeout", str(LIMIT), *python_cmd(command(url, args, previous))], env={"TIPSOM_KEY": KEY})
    cpu = next((float(line.split()[1]) for line in m.stdout.splitlines() if line.startswith("cpu ")), 0.0)
    print(f"{n:>9,} {name:<6} {'previous' if previous else 'new':<8} "
          f"{'> limit' if m.returncode == 124 else f'{m.seconds:.1f} s, cpu {cpu:.1f} s'} (rc {m.returncode})",
          flush=True)
    return (m.seconds, cpu) if m.returncode == 0 else None


def main() -> None:
    rows: dict[tuple[int, str, bool], tuple[float, float] | None] = {}
    load = os.getloadavg()
    for n in SIZES:
        t = time.perf_counter()
        made = measure(python_cmd(setup(n)), env={"TIPSOM_KEY": KEY})
        if made.returncode:
            raise RuntimeError(f"could not prepare the {n}-case store")
        url = made.stdout.strip().splitlines()[-1]
        print(f"{n:,} cases ready ({time.perf_counter() - t:.0f} s)", flush=True)
        out = work(n)
        commands = {"sdg": ["report", "sdg", "-o", str(out / "sdg.csv")],
                    "build": ["report", "build", "--out", str(out / "report"), "--no-pdf"]}
        for previous in METHODS:
            for name, args in commands.items():
                skip = previous and any(v is None for (m, c, p), v in rows.items() if p and c == name and m < n)
                rows[n, name, previous] = None if skip else timed(n, url, name, args, previous)

    def cell(n: int, name: str, previous: bool) -> str:
        if previous not in METHODS:
            return "not run"
        v = rows.get((n, name, previous))
        return f"{v[0]:.1f} s (cpu {v[1]:.1f} s)" if v is not None else f"did not finish in {LIMIT} s (or skipped)"

    def verdict(size: int, name: str, target: float) -> str:
        v = rows.get((size, name, False))
        if v is None:
            return "not measured" if size not in SIZES else "NOT met (did not finish)"
        return f"{'met' if v[0] < target else 'NOT met'} ({v[0]:.1f} s wall, {v[1]:.1f} s cpu)"

    table = "\n".join(f"| {n:,} | {cell(n, 'sdg', False)} | {cell(n, 'sdg', True)} | {cell(n, 'build', False)} "
                      f"| {cell(n, 'build', True)} |" for n in SIZES)
    write_result("report", f"""## Statistics report across registry sizes (issue 17)

`tipsom report sdg` and `tipsom report build --no-pdf` run as fresh processes (start-up and imports
included; wall time, and in brackets the process's CPU time, which waiting for a shared core does not
inflate) on seeded synthetic stores (`CaseGenerator(11)`), with the new suppression and with the
previous one (cell-by-cell LP probing, kept in `bench/previous_disclosure.py`). Load average when the
run started: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) on a shared 2-core machine.

| cases | `report sdg` new | `report sdg` previous | `report build` new | `report build` previous |
|---|---|---|---|---|
{table}

Targets: `report sdg` under {SDG_TARGET[1]:.0f} s at {SDG_TARGET[0]:,} cases:
**{verdict(SDG_TARGET[0], "sdg", SDG_TARGET[1])}**;
`report build` under {BUILD_TARGET[1]:.0f} s at {BUILD_TARGET[0]:,} cases:
**{verdict(BUILD_TARGET[0], "build", BUILD_TARGET[1])}**.
""")


if __name__ == "__main__":
    main()
