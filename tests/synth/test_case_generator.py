"""The synthetic case generator: deterministic, valid, and shaped like published data."""

from __future__ import annotations

from collections import Counter

from tipsom.schema.document import DocumentValidator
from tipsom.synth.cases import CaseGenerator


def test_same_seed_same_cases() -> None:
    assert list(CaseGenerator(42).cases(200)) == list(CaseGenerator(42).cases(200))
    assert list(CaseGenerator(42).cases(50)) != list(CaseGenerator(43).cases(50))


def test_every_generated_case_is_valid() -> None:
    validator = DocumentValidator()
    for i, doc in enumerate(CaseGenerator(5).cases(2000)):
        _, problems = validator.validate(doc, i)
        assert not problems, problems


def test_published_shares() -> None:
    docs = list(CaseGenerator(8).cases(8000))
    victims = [p for d in docs for p in d["persons"] if p["role"] in ("Victim", "PresumedVictim")
               and d["case_type"] == "TIP"]
    children = [p for p in victims if (p.get("age") is not None and p["age"] < 18)
                or (p.get("age") is None and p.get("age_appearance") == "Adolescent")]
    assert 0.25 < len(children) / len(victims) < 0.40, "about one detected victim in three is a child"
    girls = Counter(p["exploitation_forms"][0] for p in children if p["sex"] == "Female")
    boys = Counter(p["exploitation_forms"][0] for p in children if p["sex"] == "Male")
    assert girls.most_common(1)[0][0] == "SexualExploitation"
    assert boys.most_common(1)[0][0] == "ForcedLabour"
    types = Counter(d["case_type"] for d in docs)
    assert types["SOM"] > 0.1 * len(docs)
    assert types["Mixed"] > 0
    migrants = [p for d in docs for p in d["persons"] if p["role"] == "SmuggledMigrant"]
    assert all(p["smuggling_fee"] > 0 and p["route_legs"] for p in migrants)
    assert any(d.get("deaths_on_route") for d in docs)
    assert sum(bool(p.get("climate_hazard")) for p in victims) > 0.02 * len(victims)
    assert sum(bool(p.get("conflict_area")) for p in victims) > 0.02 * len(victims)
    assert sum(bool(p.get("recruited_online")) for p in victims) > 0.15 * len(victims)
    charged = [p for p in victims if p.get("charges")]
    assert 0.02 < len(charged) / len(victims) < 0.1
