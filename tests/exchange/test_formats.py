"""Native, HTCDS and CTDC formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.registry_helpers import write_cases
from tipsom.exchange.crosswalk import load_crosswalk
from tipsom.exchange.export import export_cases
from tipsom.exchange.importer import import_file
from tipsom.schema.enums import PersonRole
from tipsom.store.db import Store
from tipsom.store.reader import iter_documents

pytestmark = pytest.mark.usefixtures("data_key")


def _documents(store: Store, personal: bool = True) -> dict[str, dict[str, Any]]:
    with store.begin() as conn:
        return {d["case_id"]: d for d in iter_documents(conn, store.model,
                                                        cipher=store.cipher if personal else None)}


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "jsonl"])
def test_native_round_trip(tmp_path: Path, suffix: str) -> None:
    src = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    import_file(src, write_cases(tmp_path / "in.jsonl", 60), actor="t")
    out = tmp_path / f"out.{suffix}"
    export_cases(src, out, fmt="jsonl" if suffix == "jsonl" else "native",
                 include_personal=True, actor="t", purpose="round trip test")
    dst = Store.init(f"sqlite:///{tmp_path / 'b.db'}")
    import_file(dst, out, actor="t")
    assert _documents(dst) == _documents(src)


def _htcds_view(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What HTCDS can carry of a case: its victims' mapped fields, extensions folded."""
    cw = load_crosswalk("htcds")
    out = []
    for person in doc["persons"]:
        if not PersonRole(person["role"]).is_victim:
            continue
        view: dict[str, Any] = {}
        for target in {**cw["columns"], **cw["extension_columns"]}.values():
            if target is None:
                continue
            entity, name = target
            source = {"case": doc, "person": person,
                      "first_identification": (person["identifications"] or [{}])[0]}[entity]
            value = source.get(name)
            if isinstance(value, list):
                ext = cw["extension_to_htcds"].get(name, {})
                value = sorted({ext.get(v, v) for v in value})
            view[f"{entity}.{name}"] = value
        out.append(view)
    return out


def test_htcds_round_trip(tmp_path: Path) -> None:
    src = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    import_file(src, write_cases(tmp_path / "in.jsonl", 150), actor="t")
    out = tmp_path / "htcds.xlsx"
    export_cases(src, out, fmt="htcds", include_personal=True, actor="t", purpose="HTCDS test")
    dst = Store.init(f"sqlite:///{tmp_path / 'b.db'}")
    report = import_file(dst, out, fmt="htcds", actor="t")
    assert report.rejected == 0
    before = {cid: _htcds_view(d) for cid, d in _documents(src).items() if _htcds_view(d)}
    after = {cid: _htcds_view(d) for cid, d in _documents(dst).items()}
    assert after == before
    assert sum(len(v) for v in before.values()) > 100


def test_ctdc_sample_imports(tmp_path: Path, reference: Path) -> None:
    store = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    sample = reference / "standards" / "ctdc" / "the_global_k_anon_dataset_SAMPLE_header_and_rows.csv"
    report = import_file(store, sample, fmt="ctdc", actor="t")
    assert report.rejected == 0
    assert report.written.cases_created == 3
    docs = list(_documents(store, personal=False).values())
    victims = [d["persons"][0] for d in docs]
    assert {v["sex"] for v in victims} == {"Female"}
    assert all(v["age_basis"] == "Banded" and v["age_min"] == 18 and v["age_max"] == 20 for v in victims)
    assert sorted(v["citizenship"][0] for v in victims) == ["COL", "MDA", "MDA"]
    assert {d["year"] for d in docs} == {2002}
    assert sum("SexualExploitation" in (v.get("exploitation_forms") or []) for v in victims) == 2
    again = import_file(store, sample, fmt="ctdc", actor="t")
    assert again.written.cases_created == 0


def test_jsonl_problems_name_line_and_field(tmp_path: Path) -> None:
    store = Store.init(f"sqlite:///{tmp_path / 'a.db'}")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"case_id": "C1", "case_type": "TIP", "reporting_org": "X", "persons": '
                   '[{"person_id": "P1", "role": "Victim", "age": 230}]}\nnot json\n', encoding="utf-8")
    from tipsom.exchange.importer import ImportFailed

    with pytest.raises(ImportFailed) as info:
        import_file(store, bad, actor="t")
    found = [(p.row, p.column, p.reason) for p in info.value.report.problems]
    assert found[0] == (1, "age", "above the maximum 120")
    assert found[1][0] == 2
    assert "not valid JSON" in found[1][2]
