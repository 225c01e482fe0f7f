"""Demo data: synthetic cases loaded straight into the store."""

from __future__ import annotations

from collections.abc import Callable

from tipsom.exchange.importer import ImportReport, import_records
from tipsom.exchange.native import Record
from tipsom.store.db import Store
from tipsom.synth.cases import CaseGenerator


def load_demo(store: Store, *, n: int = 3000, seed: int = 7,
              progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import ``n`` synthetic cases.

    Their reporting organisations are registered by the caller
    (``tipsom.web.organisations.register_reporting_organisations``): organisations
    are the web's accounts, a layer above this one.
    """
    records = (Record(i, {}, doc) for i, doc in enumerate(CaseGenerator(seed).cases(n), start=1))
    return import_records(store, records, source=f"synthetic demo (seed {seed})", actor="demo",
                          purpose="load synthetic demo data", progress=progress)
