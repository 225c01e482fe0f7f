"""``tipsom estimate`` straight from the registry: agency-type lists by default, refusal above the limit."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import secrets

import pytest
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.estimate.mse import MAX_LISTS_LOGLINEAR, Selection
from tipsom.estimate.registry import estimate_registry
from tipsom.estimate.store_histories import ListBy
from tipsom.store.db import Store

runner = CliRunner()


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPSOM_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


@pytest.fixture
def demo_store(keyed: None) -> None:
    """The demo's own generator: victims identified by one or two of six agency types, many organisations."""
    from tipsom.store.db import Store
    from tipsom.synth.demo import load_demo

    store = Store.init()
    load_demo(store, n=400, seed=7)
    store.dispose()


def test_estimate_with_no_options_uses_six_agency_type_lists(demo_store: None) -> None:
    res = runner.invoke(app, ["estimate", "registry", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["lists_by"] == "agency-type"
    assert len(out["lists"]) == 6
    assert out["estimate"] > out["observed"] > 0
    assert out["interval"]["low"] <= out["estimate"] <= out["interval"]["high"]
    bare = runner.invoke(app, ["estimate"])
    assert bare.exit_code == 0, bare.output
    assert f"estimate {round(out['estimate']):,}" in bare.stdout


def test_organisations_as_lists_are_refused_naming_the_limit(demo_store: None) -> None:
    res = runner.invoke(app, ["estimate", "registry", "--by", "agency"])
    assert res.exit_code == 1, res.output
    assert f"at most {MAX_LISTS_LOGLINEAR} are supported" in res.stderr
    assert "Traceback" not in res.output


def test_strata_are_estimated_and_summed_beside_the_pooled_estimate(demo_store: None) -> None:
    store = Store.init()
    result = estimate_registry(store, strata=["sex"], actor="test")
    store.dispose()
    assert [dict(s.stratum)["sex"] for s in result.strata] == ["Female", "Male"]
    estimated = [s.result for s in result.strata if s.result is not None]
    assert result.strata_sum == pytest.approx(sum(e.total for e in estimated))
    assert sum(e.observed for e in estimated) <= result.pooled.observed
    out = result.to_dict()
    assert out["strata_sum"] == pytest.approx(result.strata_sum)
    assert out["estimate"] == pytest.approx(result.pooled.total)


def test_twenty_agency_lists_refused_at_once(keyed: None) -> None:
    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record
    from tipsom.store.db import Store

    rng = random.Random(4)
    agencies = [f"Agency {i:02d}" for i in range(20)]
    docs = []
    for i in range(300):
        chosen = rng.sample(agencies, k=rng.choice((1, 1, 2)))
        person = {"person_id": "P1", "role": "Victim", "given_name": f"G{i}", "family_name": f"F{i}",
                  "sex": "Female", "identifications": [{"agency": a, "identified_on": dt.date(2024, 3, 1)}
                                                        for a in chosen]}
        docs.append(Record(i + 1, {}, {"case_id": f"C{i}", "case_type": "TIP", "status": "Active",
                                       "reporting_org": chosen[0], "year": 2024, "persons": [person]}))
    store = Store.init()
    import_records(store, docs, source="twenty agencies", actor="test")
    res = runner.invoke(app, ["estimate", "registry", "--by", "agency"])
    assert res.exit_code == 1, res.output
    assert "the registry gives 20 lists" in res.stderr
    assert f"at most {MAX_LISTS_LOGLINEAR}" in res.stderr
    with pytest.raises(ValueError, match="at most 6"):
        estimate_registry(store, by=ListBy.AGENCY, selection=Selection.BIC, actor="test")
    store.dispose()
