"""Run benchmarks and assemble ``docs/benchmarks.md`` from their results.

``python bench/run.py`` runs every ``bench/bench_*.py``; ``python bench/run.py
money osint`` runs only those. Each benchmark writes ``bench/results/NAME.md``;
the document is rebuilt from every stored result so a partial run keeps the
others' last numbers.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import RESULTS, ROOT  # noqa: E402  (bench/ is not a package)

HEADER = """# Benchmarks

Measured with `make bench` on this project's reference machine (2 cores, 24 GiB).
Each section compares tipsom against a baseline or peer measured in the same run.
Targets come from the issues; a missed target is stated, not hidden.
"""


def assemble() -> Path:
    parts = [HEADER]
    for path in sorted(RESULTS.glob("*.md")):
        parts.append(path.read_text(encoding="utf-8").strip())
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return out


def main(names: list[str]) -> int:
    files = sorted(HERE.glob("bench_*.py"))
    if names:
        files = [f for f in files if f.stem.removeprefix("bench_") in names]
    failed = []
    for file in files:
        print(f"== {file.stem}", flush=True)
        spec = importlib.util.spec_from_file_location(file.stem, file)
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            module.main()
        except Exception as exc:  # report every benchmark, then fail
            print(f"{file.stem} failed: {exc!r}", file=sys.stderr)
            failed.append(file.stem)
    print(f"wrote {assemble()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
