"""The module's workflows end to end: scan a file, cluster it, read clusters back.

These are the functions the command line calls; each takes paths and options
and returns what it wrote, so scripts and notebooks can use them directly.
"""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tipsom.core.cells import neutral_row, restore_row
from tipsom.core.engines import Engine
from tipsom.osint.choices import BadRecordPolicy, CrossLingual
from tipsom.osint.linkage import Clustering, LinkageSettings, LinkInput, link
from tipsom.osint.profile import ClusterProfile, profile_clusters
from tipsom.osint.records import Ad, AdInputError, BadRecord, read_ads
from tipsom.osint.scan import AdScan, scan_ads
from tipsom.osint.textsim import SignatureTable

CLUSTER_COLUMNS = ("ad_id", "cluster_id", "cluster_size", "link_reasons")


class BadRecordsError(AdInputError):
    def __init__(self, bad: Sequence[BadRecord]) -> None:
        self.bad = list(bad)
        super().__init__(f"{len(self.bad)} record(s) could not be read")


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of ads and scans are built.

    They are small acyclic objects that reference counting frees; the cyclic
    collector would only walk all of them again and again as they pile up,
    which cost more than building them (6 times as much, for linkage input).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_ads(path: Path, policy: BadRecordPolicy = BadRecordPolicy.FAIL) -> tuple[list[Ad], list[BadRecord]]:
    """Ads of ``path``; with ``FAIL``, any bad record raises :class:`BadRecordsError`."""
    with _bulk():
        batch = read_ads(path)
    if batch.bad and policy is BadRecordPolicy.FAIL:
        raise BadRecordsError(batch.bad)
    return batch.ads, batch.bad


@dataclass
class ScanOptions:
    regions: Sequence[str] = ()
    workers: int | None = None
    cross_lingual: CrossLingual = CrossLingual.AUTO


def scan_all(ads: Sequence[Ad], options: ScanOptions | None = None) -> tuple[list[AdScan], SignatureTable]:
    """Scans of ``ads`` in input order, and their near-duplicate signatures (``table[i]`` is ad ``i``'s)."""
    options = options or ScanOptions()
    scans: list[AdScan] = []
    tables: list[SignatureTable] = []
    with _bulk():
        for batch, table in scan_ads(ads, options.regions, options.workers, options.cross_lingual):
            scans.extend(batch)
            tables.append(table)
    return scans, SignatureTable.concat(tables)


def write_scans(path: Path, scans: Sequence[AdScan]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for scan in scans:
            fh.write(json.dumps(scan.to_json(), ensure_ascii=False) + "\n")


def write_clusters_csv(path: Path, clustering: Clustering) -> None:
    sizes = {cid: len(members) for cid, members in clustering.members().items()}
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CLUSTER_COLUMNS)
        for i, ad_id in enumerate(clustering.ad_ids):
            cid = clustering.cluster_id(i)
            writer.writerow(neutral_row([ad_id, cid, sizes[cid], ";".join(clustering.link_reasons(i))]))


def write_profiles_json(path: Path, profiles: Sequence[ClusterProfile], meta: dict[str, Any]) -> None:
    document = {**meta, "clusters": [p.to_json() for p in profiles]}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


@dataclass
class ClusterRun:
    scans: list[AdScan]
    clustering: Clustering
    profiles: list[ClusterProfile]
    bad: list[BadRecord]


def cluster_ads(ads: Sequence[Ad], engine: Engine = Engine.DUCKDB, spark: Any = None,
                options: ScanOptions | None = None, settings: LinkageSettings | None = None) -> ClusterRun:
    """Scan, link and profile ``ads``."""
    scans, signatures = scan_all(ads, options)
    with _bulk():
        clustering = link(LinkInput.build(scans, signatures), engine, spark, settings)
        profiles = profile_clusters(clustering, scans, workers=(options or ScanOptions()).workers)
    return ClusterRun(scans, clustering, profiles, [])


def read_clusters_csv(path: Path) -> dict[str, str]:
    """Ad id to cluster id, from a clusters CSV written by ``tipsom osint cluster``."""
    if not path.exists():
        raise AdInputError(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("ad_id", "cluster_id") if c not in (reader.fieldnames or [])]
        if missing:
            raise AdInputError(f"{path}: missing column(s) {missing}")
        mapping: dict[str, str] = {}
        for row, stored in enumerate(reader, start=2):
            record = restore_row(stored)
            if not record["ad_id"] or not record["cluster_id"]:
                field = "ad_id" if not record["ad_id"] else "cluster_id"
                raise AdInputError(f"{path}: row {row}: field {field!r}: empty")
            mapping[record["ad_id"]] = record["cluster_id"]
    return mapping
