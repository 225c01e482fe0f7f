"""Monitoring "in law and in practice": does non-punishment hold in the cases recorded?

Figures per jurisdiction and year, read from the registry in the same single
pass as screening (same batches, same predicates):

* identified (or presumed) victims, and those charged, prosecuted or convicted,
  in total and by offence;
* smuggled migrants charged or prosecuted for having been smuggled (offences
  listed in the rule set's ``art5_offences``);
* children recorded as adults: an adult age recorded while the same record's
  estimated range or apparent age says under 18. The registry keeps no history
  of values, so "first recorded as adult" is read from this contradiction
  within the current record.

Counts are exact; the report module applies statistical disclosure control
(``TIPSOM_SUPPRESSION_THRESHOLD``) before publishing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tipsom.screening.batch import ROW, Batch, batches_from_store
from tipsom.screening.conditions import EvalContext
from tipsom.screening.engine import default_screener

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Measures of the table, in order, with their labels.
MEASURES: dict[str, str] = {
    "victims_identified": "Identified or presumed victims",
    "victims_charged": "Victims charged with an offence",
    "victims_prosecuted": "Victims prosecuted (before a court)",
    "victims_convicted": "Victims convicted",
    "migrants_charged_for_being_smuggled": "Smuggled migrants charged for having been smuggled",
    "migrants_prosecuted_for_being_smuggled": "Smuggled migrants prosecuted for having been smuggled",
    "children_recorded_as_adults": "Children recorded as adults",
}
PROSECUTED_STAGES = ["Prosecution", "Trial", "Appeal"]
DECIDED_OUTCOMES = ["Convicted", "Acquitted"]
COLUMNS = ["role", "trafficking_status", "age", "age_min", "age_appearance", "charges.offence", "charges.stage",
           "charges.outcome"]
ALL = ""  # the offence of a total row


def _keys(batch: Batch) -> pd.DataFrame:
    f = batch.frame
    year = pd.to_numeric(f["year"], errors="coerce").astype("Int64")
    return pd.DataFrame({"jurisdiction": f["jurisdiction"].fillna("").astype(str), "year": year})


def _person_counts(keys: pd.DataFrame, mask: np.ndarray[Any, Any], measure: str) -> pd.DataFrame:
    part = keys[mask]
    out = part.groupby(["jurisdiction", "year"], dropna=False).size().reset_index(name="count")
    out["measure"], out["offence"] = measure, ALL
    return out


def _charge_counts(keys: pd.DataFrame, charges: pd.DataFrame, persons: np.ndarray[Any, Any],
                   charge_mask: np.ndarray[Any, Any], measure: str) -> list[pd.DataFrame]:
    """Persons with a matching charge: in total and by offence (a person counts once per offence)."""
    sel = charges[charge_mask & persons[charges[ROW].to_numpy()]]
    rows = sel[ROW].to_numpy()
    by_offence = pd.DataFrame({"row": rows, "offence": sel["offence"].fillna("").to_numpy()}).drop_duplicates()
    by_offence = by_offence.join(keys, on="row")
    parts = [by_offence.groupby(["jurisdiction", "year", "offence"], dropna=False).size().reset_index(name="count")]
    total = np.zeros(len(keys), dtype=bool)
    total[rows] = True
    parts.append(_person_counts(keys, total, measure).drop(columns=["measure"]))
    for p in parts:
        p["measure"] = measure
    return parts


def _batch_figures(batch: Batch, art5: list[str]) -> pd.DataFrame:
    screener = default_screener()
    base = screener.rules_for(None)
    ctx = EvalContext(batch)
    victims = base.predicate_mask(ctx, "victim_status")
    keys = _keys(batch)
    charges = batch.children["charges"]
    stage, outcome = charges["stage"], charges["outcome"]
    any_charge = np.ones(len(charges), dtype=bool)
    prosecuted = (stage.isin(PROSECUTED_STAGES) | outcome.isin(DECIDED_OUTCOMES)).to_numpy()
    convicted = outcome.eq("Convicted").to_numpy()
    migrants = batch.frame["role"].eq("SmuggledMigrant").to_numpy()
    art5_charge = charges["offence"].isin(art5).to_numpy()
    f = batch.frame
    adult_age = (f["age"] >= 18).to_numpy()
    minor_signs = ((f["age_min"] < 18) | f["age_appearance"].isin(["Child", "Adolescent"])).to_numpy()
    parts = [_person_counts(keys, victims, "victims_identified")]
    parts += _charge_counts(keys, charges, victims, any_charge, "victims_charged")
    parts += _charge_counts(keys, charges, victims, prosecuted, "victims_prosecuted")
    parts += _charge_counts(keys, charges, victims, convicted, "victims_convicted")
    parts += _charge_counts(keys, charges, migrants, art5_charge, "migrants_charged_for_being_smuggled")
    parts += _charge_counts(keys, charges, migrants, art5_charge & prosecuted,
                            "migrants_prosecuted_for_being_smuggled")
    parts.append(_person_counts(keys, adult_age & minor_signs, "children_recorded_as_adults"))
    return pd.concat(parts, ignore_index=True)


def monitoring_table(store: Store, *, chunk: int = 200_000) -> list[dict[str, Any]]:
    """Monitoring figures as rows ``{jurisdiction, year, measure, label, offence, count}``.

    ``offence`` is empty on total rows; by-offence rows count each person once
    per offence. Rows are sorted by jurisdiction, year, measure order, offence.
    """
    from tipsom.screening.rules import load_ruleset

    art5 = list(load_ruleset(None).params["art5_offences"])
    columns = set(COLUMNS) | default_screener().columns
    frames = [_batch_figures(b, art5) for b in batches_from_store(store, columns, chunk=chunk)]
    if not frames:
        return []
    table = pd.concat(frames, ignore_index=True)
    table = table.groupby(["jurisdiction", "year", "measure", "offence"], dropna=False)["count"].sum().reset_index()
    table = table[table["count"] > 0]
    order = {m: i for i, m in enumerate(MEASURES)}
    table = table.assign(_m=table["measure"].map(order)).sort_values(["jurisdiction", "year", "_m", "offence"])
    return [
        {"jurisdiction": r.jurisdiction or None, "year": None if pd.isna(r.year) else int(r.year),
         "measure": r.measure, "label": MEASURES[r.measure], "offence": r.offence or None, "count": int(r.count)}
        for r in table.itertuples(index=False)
    ]
