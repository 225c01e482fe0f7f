"""Published tables against counts made independently from the synthetic documents (plain Python)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.report.conftest import Built

VICTIM = {"Victim", "PresumedVictim"}
THRESHOLD = 5


def victims(docs: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for case in docs:
        for person in case["persons"]:
            if person["role"] in VICTIM:
                yield case, person


def child_or_adult(p: dict[str, Any]) -> str:
    if p.get("age") is not None:
        return "Child" if p["age"] < 18 else "Adult"
    if p.get("age_min") is not None:
        return "Adult" if p["age_min"] >= 18 else "Child"
    if p.get("age_max") is not None and p["age_max"] < 18:
        return "Child"
    if p.get("age_appearance") in ("Child", "Adolescent"):
        return "Child"
    return "Adult" if p.get("age_appearance") == "Adult" else "Unknown"


def form(p: dict[str, Any]) -> str:
    forms = p.get("exploitation_forms") or []
    return "NotRecorded" if not forms else ("Multiple" if len(forms) > 1 else forms[0])


def published(out: Path, table: str) -> dict[tuple[str, ...], tuple[str, str]]:
    """Published cells of one table CSV: codes -> (value as shown, status)."""
    with (out / "tables" / f"{table}.csv").open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        n = header.index("value") // 2
        return {tuple(row[:n]): (row[-2], row[-1]) for row in reader}


def test_victims_by_year_sex_and_form_match_independent_counts(built: Built) -> None:
    by_form_sex: Counter[tuple[str, ...]] = Counter()
    by_year_sex_age: Counter[tuple[str, ...]] = Counter()
    for case, p in victims(built.documents):
        sex = p.get("sex") if p.get("sex") in ("Female", "Male") else "OtherUnknown"
        group = child_or_adult(p)
        for s in (sex, "Total"):
            for f in (form(p), "Total"):
                for a in (group, "Total"):
                    by_form_sex[("Total", "Total", s, a, f, "Total")] += 1
            for y in (str(case["year"]), "Total"):
                for a in (group, "Total"):
                    by_year_sex_age[("Total", y, s, a, "Total", "Total")] += 1
    cells = published(built.out, "victims")
    assert sum(1 for k in by_form_sex if k in cells) == len(by_form_sex)
    for expected in (by_form_sex, by_year_sex_age):
        compared = 0
        for key, truth in expected.items():
            shown, status = cells[key]
            if status == "shown":
                assert float(shown) == truth, (key, shown, truth)
            elif status == "primary":
                assert 1 <= truth < THRESHOLD, (key, truth)
            compared += 1
        assert compared == len(expected)
    total_shown, status = cells[("Total",) * 6]
    assert status == "shown"
    assert float(total_shown) == sum(1 for _ in victims(built.documents))


def test_flows_justice_smuggling_and_non_punishment_match_independent_counts(built: Built) -> None:
    flows: Counter[tuple[str, ...]] = Counter()
    charges: Counter[tuple[str, ...]] = Counter()
    for case, p in victims(built.documents):
        legs = sorted(p.get("route_legs") or [], key=lambda leg: leg["seq"])
        origin = p.get("origin_country") or (legs[0]["origin"] if legs else "Unknown")
        dest = p.get("exploitation_country") or (legs[-1]["destination"] if legs else case["jurisdiction"])
        flows[(origin, dest, "Total")] += 1
        flows[("Total", "Total", "Domestic" if origin == dest else "CrossBorder")] += 1
        if p.get("charges"):  # one victim counts once, however many charges
            offences = {ch["offence"] for ch in p["charges"]}
            offence = offences.pop() if len(offences) == 1 else "SeveralOffences"
            convicted = any(ch.get("outcome") == "Convicted" for ch in p["charges"])
            charges[(offence, "Total", "Convicted" if convicted else "NotConvicted")] += 1
            charges[("Total", case["jurisdiction"], "Total")] += 1
    migrants: Counter[tuple[str, ...]] = Counter()
    suspects: Counter[tuple[str, ...]] = Counter()
    for case in built.documents:
        for p in case["persons"]:
            if p["role"] == "SmuggledMigrant":
                legs = sorted(p.get("route_legs") or [], key=lambda leg: leg["seq"])
                migrants[(f"{legs[0]['origin']}-{legs[-1]['destination']}", str(case["year"]))] += 1
            if p["role"] == "Suspect":
                sex = p.get("sex") if p.get("sex") in ("Female", "Male") else "OtherUnknown"
                outcome = {c.get("outcome") for c in p.get("charges") or []}
                suspects[("Total", sex, "Total", "Convicted")] += "Convicted" in outcome
                suspects[("Total", sex, "Total", "Total")] += 1
    for table, expected in (("flows", flows), ("non_punishment", charges), ("migrants", migrants),
                            ("justice", suspects)):
        cells = published(built.out, table)
        for key, truth in expected.items():
            shown, status = cells[key]
            if status == "shown":
                assert float(shown) == truth, (table, key, shown, truth)
            elif status == "primary":
                assert 1 <= truth < THRESHOLD, (table, key, truth)


def test_context_shares_match_independent_counts(built: Built) -> None:
    online: Counter[tuple[str, ...]] = Counter()
    for case in built.documents:
        flag = any(p.get("recruited_online") or p.get("controlled_online") or p.get("exploited_online")
                   for p in case["persons"])
        for y in (str(case["year"]), "Total"):
            online[(y, "Total", "Total", "Total", "Yes" if flag else "No")] += 1
            online[(y, "Total", "Total", "Total", "Total")] += 1
    cells = published(built.out, "context")
    for key, truth in online.items():
        shown, status = cells[key]
        assert status != "shown" or float(shown) == truth, (key, shown, truth)
    assert cells[("Total",) * 5] == (str(len(built.documents)), "shown")


def test_no_published_cell_is_between_one_and_threshold(built: Built) -> None:
    for path in (built.out / "tables").glob("*.csv"):
        if path.stem in ("fees", "revenue", "sdg_16_2_2", "codebook", "notes"):
            continue
        cells = published(built.out, path.stem)
        assert cells, path
        for key, (shown, status) in cells.items():
            if status == "shown":
                assert float(shown) == 0 or float(shown) >= THRESHOLD, (path.stem, key, shown)
            else:
                assert shown in ("<5", "x"), (path.stem, key, shown)
