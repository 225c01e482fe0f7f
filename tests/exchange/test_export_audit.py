"""An export's audit event names the records that left the store (issue 15, finding 8)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tipsom.exchange.export import export_cases, exported_records
from tipsom.store import audit
from tipsom.store.db import Store
from tipsom.synth.demo import load_demo


def test_export_event_lists_the_exported_case_ids(tmp_path: Path, data_key: str) -> None:
    store = Store.init(f"sqlite:///{tmp_path / 'x.db'}")
    load_demo(store, n=7, seed=2)
    count = export_cases(store, tmp_path / "out.jsonl", actor="tester", purpose="court file")
    exported = [json.loads(line)["case_id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    with store.engine.connect() as conn:
        event = next(e for e in audit.events(conn, limit=50) if e["action"] == "export")
    store.dispose()
    detail = json.loads(event["detail"])
    assert count == len(exported) == 7
    assert detail["case_ids"] == exported
    assert event["purpose"] == "court file"


def test_a_whole_registry_export_is_named_by_a_digest_of_its_ids() -> None:
    ids = [f"C{i:07d}" for i in range(100_001)]
    named = exported_records(list(reversed(ids)))
    assert named == {"case_ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
                     "first_case_id": "C0000000", "last_case_id": "C0100000"}
