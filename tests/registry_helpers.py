"""Helpers shared by the registry tests: small synthetic files and stores."""

from __future__ import annotations

import csv
from pathlib import Path

from tipsom.exchange.native import DocumentSink
from tipsom.synth.cases import CaseGenerator


def write_cases(path: Path, n: int, seed: int = 3) -> Path:
    with DocumentSink(path) as sink:
        for doc in CaseGenerator(seed).cases(n):
            sink.write(doc)
    return path


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
