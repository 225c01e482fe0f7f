"""The transaction generator plants every typology the scan knows, through the planter its spec names."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tipsom.money.model import Typology
from tipsom.money.typologies import TYPOLOGIES
from tipsom.synth.transactions import PLANTERS, _Accounts, _Planter


def test_every_typology_names_a_planter_and_each_planter_is_used() -> None:
    named = {spec.planter for spec in TYPOLOGIES}
    assert named <= set(PLANTERS), named - set(PLANTERS)
    assert set(PLANTERS) <= named, set(PLANTERS) - named


def test_one_new_spec_entry_is_planted_with_the_pattern_it_names() -> None:
    rng = np.random.default_rng(5)
    planter = _Planter(rng, _Accounts(rng, 200), 200)
    fan_in = next(spec for spec in TYPOLOGIES if spec.typology is Typology.FAN_IN)
    planter.plant(fan_in)
    planter.plant(replace(fan_in, planter="cycle"))
    (first, first_label, first_ids), (second, second_label, second_ids) = planter.attempts
    assert first is second is Typology.FAN_IN
    assert "Fan-In" in first_label
    assert second_label.endswith("hops")
    hub = {planter.rows[i][2] for i in first_ids}
    assert len(hub) == 1  # many senders, one receiving account
    ring = [planter.rows[i] for i in second_ids]
    assert [r[2] for r in ring] == [r[1] for r in ring[1:]] + [ring[0][1]]  # each payee pays the next, back round
