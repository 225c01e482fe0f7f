"""Fixtures for the OSINT tests: one generated 10,000-ad set, scanned once."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from tipsom.osint.linkage import LinkInput
from tipsom.osint.pipeline import scan_all
from tipsom.osint.records import read_ads
from tipsom.osint.scan import AdScan
from tipsom.synth.ads import write_synthetic_ads


@dataclass
class Generated:
    ads_path: Path
    truth_path: Path
    scans: list[AdScan]
    link_input: LinkInput
    truth: dict[str, str]
    organised: set[str]


@pytest.fixture(scope="session")
def generated_10k(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    folder = tmp_path_factory.mktemp("ads10k")
    ads_path, truth_path = write_synthetic_ads(folder / "ads.jsonl", 10_000, seed=11)
    batch = read_ads(ads_path)
    assert not batch.bad
    scans, signatures = scan_all(batch.ads)
    with truth_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return Generated(
        ads_path, truth_path, scans, LinkInput.build(scans, signatures),
        {r["ad_id"]: r["operation_id"] for r in rows},
        {r["operation_id"] for r in rows if r["kind"] == "organised"},
    )
