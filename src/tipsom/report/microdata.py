"""Anonymised victim-level microdata in the CTDC style: k-anonymity by generalisation.

One row per detected victim with CTDC-like columns. The *quasi-identifiers*
(year, sex, age, citizenship, country of exploitation) are the attributes an
outsider could know about a person; each has a generalisation ladder (year ->
five-year period -> suppressed, CTDC age band -> child/adult -> suppressed,
country -> continent -> suppressed). Every combination of ladder levels is
tried (full-domain generalisation); the least generalised one that makes every
group of identical quasi-identifiers at least ``k`` strong, while dropping no
more than ``max_suppression`` of the records, wins. Only records that even
that level leaves in groups smaller than ``k`` are dropped, and the export
reports exactly what was generalised and dropped.

CTDC publishes with k = 11 ("queries cannot return fewer than 10 results").
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tipsom.core.cells import neutral_frame
from tipsom.core.errors import InputError
from tipsom.report.sdc import (
    LEVEL_NAMES,
    QUASI_IDENTIFIERS,
    QuasiIdentifier,
    generalise,
    majority,
)
from tipsom.report.statistics import VICTIM_ROLES

if TYPE_CHECKING:
    import pandas as pd

    from tipsom.store.db import Store

CTDC_K = 11
AGE_BANDS = ((0, 8, "0--8"), (9, 17, "9--17"), (18, 20, "18--20"), (21, 23, "21--23"), (24, 26, "24--26"),
             (27, 29, "27--29"), (30, 38, "30--38"), (39, 47, "39--47"), (48, 200, "48+"))
FORM_FLAGS = {"isSexualExploit": ("SexualExploitation",), "isForcedLabour": ("ForcedLabour",),
              "isForcedMarriage": ("ForcedMarriage",)}
CONTROL_FLAGS = {"meansOfControlDebtBondage": "DebtBondage", "meansOfControlTakesEarnings": "TakesEarnings",
                 "meansOfControlThreats": "PhysicalThreats", "meansOfControlPhysicalAbuse": "PhysicalAbuse",
                 "meansOfControlSexualAbuse": "SexualAbuse", "meansOfControlFalsePromises": "FalsePromises",
                 "meansOfControlWithholdsDocuments": "WithholdsDocuments",
                 "meansOfControlRestrictsMovement": "RestrictsMovement"}


class MicrodataError(InputError):
    """The export cannot meet k (too few records, or a k below 2)."""


#: CTDC age band from the recorded age; without one, child or adult when an estimate
#: or appearance tells (presumption of minority), else Unknown.
AGE_BAND_SQL = "CASE WHEN p.age IS NOT NULL THEN CASE " + " ".join(
    f"WHEN p.age <= {hi} THEN '{label}'" for _, hi, label in AGE_BANDS) + """ END
  WHEN p.age_min >= 18 THEN '18+'
  WHEN p.age_min IS NOT NULL OR p.age_max < 18 OR p.age_appearance IN ('Child', 'Adolescent') THEN '0--17'
  WHEN p.age_appearance = 'Adult' THEN '18+'
  ELSE 'Unknown' END"""


@dataclass
class MicrodataReport:
    """What the export did to reach k: the information lost, stated."""

    k: int
    quasi_identifiers: list[str]
    levels: dict[str, int]
    level_names: dict[str, str]
    records_in: int
    records_out: int
    suppressed: int
    max_suppression: float
    smallest_group: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def victim_records(store: Store) -> pd.DataFrame:
    """One CTDC-style row per detected victim, before any generalisation."""
    from tipsom.report.warehouse import open_warehouse

    con = open_warehouse(store, projection={
        "cases": ("id", "year", "jurisdiction"),
        "persons": ("key", "case_id", "role", "sex", "age", "age_min", "age_max", "age_appearance", "citizenship",
                    "origin_country", "exploitation_country", "exploitation_forms", "control_methods",
                    "recruiter_relationship")})
    try:
        frame = con.execute(f"""
            SELECT coalesce(CAST(c.year AS VARCHAR), 'Unknown') AS yearOfRegistration,
                   CASE WHEN p.sex IN ('Female', 'Male') THEN p.sex ELSE 'Unknown' END AS gender,
                   {AGE_BAND_SQL} AS ageBroad,
                   coalesce(split_part(p.citizenship, '|', 1), p.origin_country, 'Unknown') AS citizenship,
                   coalesce(p.exploitation_country, c.jurisdiction, 'Unknown') AS countryOfExploitation,
                   coalesce(p.exploitation_forms, '') AS forms, coalesce(p.control_methods, '') AS controls,
                   coalesce(p.recruiter_relationship, 'Unknown') AS recruiterRelationship
            FROM persons p JOIN cases c ON c.id = p.case_id
            WHERE p.role IN {VICTIM_ROLES}
            ORDER BY p.key""").df()
    finally:
        con.close()
    frame["citizenship"] = frame["citizenship"].replace("", "Unknown")
    forms = frame["forms"].str.split("|")
    for column, codes in FORM_FLAGS.items():
        frame[column] = [int(any(c in f for c in codes)) for f in forms]
    named = {c for codes in FORM_FLAGS.values() for c in codes}
    frame["isOtherExploit"] = [int(any(c and c not in named for c in f)) for f in forms]
    controls = frame["controls"].str.split("|")
    for column, code in CONTROL_FLAGS.items():
        frame[column] = [int(code in c) for c in controls]
    return frame.drop(columns=["forms", "controls"])


def anonymise(frame: pd.DataFrame, k: int = CTDC_K, max_suppression: float = 0.02,
              qis: Sequence[QuasiIdentifier] = QUASI_IDENTIFIERS) -> tuple[pd.DataFrame, MicrodataReport]:
    """The least generalised k-anonymous version of ``frame`` within the suppression budget."""
    if k < 2:
        raise MicrodataError(f"k must be at least 2, got {k}")
    if len(frame) < k:
        raise MicrodataError(f"only {len(frame)} victim records: no release can be {k}-anonymous")
    columns = [q.column for q in qis]
    lattice = sorted(itertools.product(*(range(q.levels) for q in qis)), key=lambda lv: (sum(lv), lv))
    for levels in lattice:
        general = generalise(frame, qis, levels)
        sizes = general.groupby(columns, dropna=False)[columns[0]].transform("size")
        small = int((sizes < k).sum())
        if small <= max_suppression * len(frame):
            kept = general[sizes >= k].reset_index(drop=True)
            ages = kept["ageBroad"].astype(str)
            kept.insert(columns.index("ageBroad") + 1, "majorityStatus", ages.map(majority))
            report = MicrodataReport(
                k=k, quasi_identifiers=columns, levels=dict(zip(columns, levels, strict=True)),
                level_names={c: LEVEL_NAMES.get(c, ())[lv] if c in LEVEL_NAMES else str(lv)
                             for c, lv in zip(columns, levels, strict=True)},
                records_in=len(frame), records_out=len(kept), suppressed=small, max_suppression=max_suppression,
                smallest_group=int(sizes[sizes >= k].min()) if len(kept) else 0,
                notes=[f"{small} records were in groups smaller than {k} at the chosen generalisation "
                       "and were left out"] if small else [])
            return kept, report
    raise MicrodataError("no generalisation reaches k within the suppression budget")  # pragma: no cover


def write_microdata(frame: pd.DataFrame, metadata: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """The CSV and, beside it, ``<name>.metadata.json`` describing how it was made."""
    neutral_frame(frame).to_csv(out, index=False)
    meta = out.with_name(out.name + ".metadata.json")
    meta.write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return out, meta


def export_microdata(store: Store, out: Path, *, k: int = CTDC_K, max_suppression: float = 0.02,
                     epsilon: float | None = None, seed: int = 0, actor: str, purpose: str) -> dict[str, Any]:
    """Write k-anonymous (or, with ``epsilon``, DP-synthetic) victim microdata and audit the export."""
    from tipsom.store import audit

    records = victim_records(store)
    metadata: dict[str, Any] = {"source": "tipsom case registry", "unit": "detected victim"}
    if epsilon is None:
        frame, report = anonymise(records, k=k, max_suppression=max_suppression)
        metadata["method"] = "k-anonymity by full-domain generalisation with minimal record suppression"
        metadata["k_anonymity"] = report.as_dict()
    else:
        from tipsom.report.dpsynth import synthesise

        frame, dp = synthesise(records, epsilon, seed)
        metadata["method"] = "differentially private synthetic records"
        metadata["differential_privacy"] = dp.as_dict()
    write_microdata(frame, metadata, out)
    with store.begin() as conn:
        audit.record(conn, actor=actor, action=audit.AuditAction.EXPORT, entity="person", purpose=purpose,
                     detail={"file": str(out), "records": len(frame), "method": metadata["method"]})
    return metadata
