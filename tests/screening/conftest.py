"""Fixtures for screening tests: case documents built field by field, and a small synthetic store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def case(*persons: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A valid case document with the given persons (case fields overridable)."""
    doc: dict[str, Any] = {"case_id": "C1", "case_type": "TIP", "reporting_org": "Test unit",
                           "jurisdiction": "KEN", "year": 2024}
    doc.update(fields)
    doc["persons"] = [{"person_id": f"P{i + 1}", **p} for i, p in enumerate(persons)]
    return doc


def recruited_for_forced_labour(age: int, **extra: Any) -> dict[str, Any]:
    """A person recruited through an agency for forced labour, with no means recorded."""
    return {"role": "PresumedVictim", "age": age, "age_basis": "Documented",
            "recruitment_methods": ["RecruitmentAgency"], "exploitation_forms": ["ForcedLabour"], **extra}


@pytest.fixture
def demo_store() -> Iterator[Any]:
    """A store holding 200 synthetic cases (seed 11)."""
    from tipsom.settings import get_settings
    from tipsom.store.crypto import create_key_file
    from tipsom.store.db import Store
    from tipsom.synth.demo import load_demo

    create_key_file(get_settings().key_path)
    store = Store.init()
    load_demo(store, n=200, seed=11)
    yield store
    store.dispose()
