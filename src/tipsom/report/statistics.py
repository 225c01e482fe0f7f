"""GLOTIP-style statistics as count cubes, aggregated by DuckDB over the warehouse.

Each function runs one SQL aggregation down to leaf level (the finest
categories) and hands the leaf counts to :class:`~tipsom.report.cube.Cube`,
which rolls them up every hierarchy. The definitions (who counts as a victim,
how an age becomes a bracket...) live here, in one place, and are documented in
``docs/report.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tipsom.report.cube import TOTAL, Cube, Dim, Line
from tipsom.schema.enums import PersonRole
from tipsom.schema.model import get_model

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

UNKNOWN = "Unknown"
#: Offence cell of victims charged with more than one kind of offence (each victim counts once).
SEVERAL_OFFENCES = "SeveralOffences"
VICTIM_ROLES = "(" + ", ".join(f"'{r}'" for r in PersonRole if r.is_victim) + ")"

SEX = Dim.flat("sex", "Sex", ["Female", "Male", "OtherUnknown"],
               {TOTAL: "Both sexes", "OtherUnknown": "Other or unknown"})
CHILD_BRACKETS = ("0-5", "6-11", "12-14", "15-17", "ChildAgeUnknown")
ADULT_BRACKETS = ("18-24", "25-34", "35-49", "50+", "AdultAgeUnknown")
AGE = Dim.tree("age", "Age", {"Child": CHILD_BRACKETS, "Adult": ADULT_BRACKETS, UNKNOWN: ()},
               {TOTAL: "All ages", "Child": "Children (<18)", "Adult": "Adults (18+)",
                "ChildAgeUnknown": "Child, exact age unknown", "AdultAgeUnknown": "Adult, exact age unknown"})
#: SDG 16.2.2 forms: sexual exploitation, forced labour and organ removal stand alone;
#: every other purpose (and several forms at once) is "other purposes".
SDG_FORM_GROUPS = ("SexualExploitation", "ForcedLabour", "OrganRemoval", "OtherPurposes")
NOT_RECORDED = "NotRecorded"
MULTIPLE = "Multiple"

AGE_SQL = """CASE
  WHEN p.age IS NOT NULL THEN CASE WHEN p.age < 6 THEN '0-5' WHEN p.age < 12 THEN '6-11'
    WHEN p.age < 15 THEN '12-14' WHEN p.age < 18 THEN '15-17' WHEN p.age < 25 THEN '18-24'
    WHEN p.age < 35 THEN '25-34' WHEN p.age < 50 THEN '35-49' ELSE '50+' END
  WHEN p.age_min IS NOT NULL AND p.age_min >= 18 THEN 'AdultAgeUnknown'
  WHEN p.age_min IS NOT NULL OR p.age_max < 18 OR p.age_appearance IN ('Child', 'Adolescent')
    THEN 'ChildAgeUnknown'
  WHEN p.age_appearance = 'Adult' THEN 'AdultAgeUnknown'
  ELSE 'Unknown' END"""
SEX_SQL = "CASE WHEN p.sex IN ('Female', 'Male') THEN p.sex ELSE 'OtherUnknown' END"
FORM_SQL = f"""CASE WHEN p.exploitation_forms IS NULL OR p.exploitation_forms = '' THEN '{NOT_RECORDED}'
  WHEN contains(p.exploitation_forms, '|') THEN '{MULTIPLE}' ELSE p.exploitation_forms END"""
YEAR_SQL = f"coalesce(CAST(c.year AS VARCHAR), '{UNKNOWN}')"
LEGS = "legs"


@dataclass(frozen=True)
class ReportFilter:
    """Restrict statistics to one year of registration and/or one jurisdiction."""

    year: int | None = None
    country: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL conditions on the case alias ``c`` and their parameters."""
        sql: list[str] = []
        params: list[Any] = []
        if self.year is not None:
            sql.append("c.year = ?")
            params.append(self.year)
        if self.country is not None:
            sql.append("c.jurisdiction = ?")
            params.append(self.country)
        return (" AND " + " AND ".join(sql) if sql else ""), params

    @property
    def title(self) -> str:
        parts = [country_name(self.country) if self.country else "all jurisdictions",
                 str(self.year) if self.year is not None else "all years"]
        return ", ".join(parts)


@lru_cache(maxsize=512)
def country_name(iso3: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_3=iso3)
    return str(getattr(found, "common_name", None) or found.name) if found else iso3


def _codes(codelist: str) -> list[str]:
    cl = get_model().codelists[codelist]
    return [v.code for v in cl.values]


def _labels(codelist: str) -> dict[str, str]:
    return {v.code: v.label for v in get_model().codelists[codelist].values}


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> pd.DataFrame:
    return con.execute(sql, list(params)).df()


def journeys(con: duckdb.DuckDBPyConnection) -> str:
    """Each person's first origin and last destination, computed once per connection.

    Flows, routes, harm and fees all need them; the temporary table saves three
    passes over the route legs.
    """
    con.execute(f"""CREATE TEMP TABLE IF NOT EXISTS {LEGS} AS
        SELECT person_key, arg_min(origin, seq) AS first_origin, arg_max(destination, seq) AS last_destination
        FROM route_legs GROUP BY person_key""")
    return LEGS


def _with_unknown(values: Sequence[str]) -> list[str]:
    """Sorted codes, with ``Unknown`` last and only when it occurs (a phantom empty
    category would break the lines that tie the margins together)."""
    present = {str(v) for v in values}
    return sorted(present - {UNKNOWN}) + ([UNKNOWN] if UNKNOWN in present else [])


def _year_dim(frame: pd.DataFrame) -> Dim:
    return Dim.flat("year", "Year", _with_unknown(list(frame["year"])), {TOTAL: "All years"})


def _country_dim(name: str, label: str, codes: Sequence[str], total_label: str) -> Dim:
    known = _with_unknown(codes)
    return Dim.flat(name, label, known, {TOTAL: total_label, **{c: country_name(c) for c in known if c != UNKNOWN}})


def form_dim() -> Dim:
    forms = _codes("exploitation_form")
    others = [f for f in forms if f not in SDG_FORM_GROUPS] + [MULTIPLE]
    groups: dict[str, Sequence[str]] = dict.fromkeys(SDG_FORM_GROUPS[:-1], ())
    groups["OtherPurposes"] = others
    groups[NOT_RECORDED] = ()
    labels = {**_labels("exploitation_form"), TOTAL: "All forms", "OtherPurposes": "Other purposes",
              MULTIPLE: "Several forms", NOT_RECORDED: "Not recorded"}
    return Dim.tree("form", "Form of exploitation", groups, labels)


def victims_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Detected victims by jurisdiction, year, sex, age, form and unaccompanied status.

    Views: the national detail (all years, sexes, ages, forms), the SDG 16.2.2
    breakdown per country, and unaccompanied children by sex.
    """
    where, params = flt.where()
    frame = _query(con, f"""
        SELECT coalesce(c.jurisdiction, '{UNKNOWN}') AS area, {YEAR_SQL} AS year, {SEX_SQL} AS sex,
               {AGE_SQL} AS age, {FORM_SQL} AS form,
               CASE WHEN p.unaccompanied THEN 'Yes' ELSE 'No' END AS unaccompanied, count(*) AS n
        FROM persons p JOIN cases c ON c.id = p.case_id
        WHERE p.role IN {VICTIM_ROLES}{where}
        GROUP BY ALL""", params)
    area = _country_dim("area", "Jurisdiction", list(frame["area"]), "All jurisdictions")
    year = _year_dim(frame)
    unacc = Dim.flat("unaccompanied", "Unaccompanied", ["Yes", "No"],
                     {TOTAL: "All", "Yes": "Unaccompanied", "No": "Accompanied or not recorded"})
    t, groups = frozenset({TOTAL}), frozenset({TOTAL, "Child", "Adult", UNKNOWN})
    # Views are GLOTIP's tables; each keeps every category of its lines (unknowns
    # too), since leaving one out lets a reader who assumes it empty close the line.
    views = (
        {"area": t, "form": t, "unaccompanied": t},  # year x sex x age brackets
        {"area": t, "year": t, "age": groups, "unaccompanied": t},  # forms by sex and child/adult
        {"area": t, "sex": t, "age": t, "unaccompanied": t},  # forms by year
        {"age": groups, "form": t, "unaccompanied": t},  # per country: year x sex x child/adult
        {"sex": t, "age": t, "form": frozenset({TOTAL, *SDG_FORM_GROUPS, NOT_RECORDED}),
         "unaccompanied": t},  # per country: year x SDG form group
        {"area": t, "year": t, "age": frozenset({"Child"}), "form": t},  # unaccompanied children by sex
    )
    return Cube.from_leaves("victims", "Detected victims of trafficking", "persons",
                            [area, year, SEX, AGE, form_dim(), unacc], frame, views)


def flows_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Victims by country of origin and of exploitation, with domestic and cross-border totals."""
    where, params = flt.where()
    frame = _query(con, f"""
        SELECT coalesce(p.origin_country, l.first_origin, '{UNKNOWN}') AS origin,
               coalesce(p.exploitation_country, l.last_destination, c.jurisdiction, '{UNKNOWN}') AS destination,
               count(*) AS n
        FROM persons p JOIN cases c ON c.id = p.case_id LEFT JOIN {journeys(con)} l ON l.person_key = p.key
        WHERE p.role IN {VICTIM_ROLES}{where}
        GROUP BY ALL""", params)
    frame["scope"] = [
        UNKNOWN if UNKNOWN in (o, d) else ("Domestic" if o == d else "CrossBorder")
        for o, d in zip(frame["origin"], frame["destination"], strict=True)
    ]
    countries = sorted(set(frame["origin"]) | set(frame["destination"]))
    origin = _country_dim("origin", "Origin", countries, "All origins")
    destination = _country_dim("destination", "Destination", countries, "All destinations")
    scope = Dim.flat("scope", "Flow", ["Domestic", "CrossBorder", UNKNOWN],
                     {TOTAL: "All flows", "CrossBorder": "Cross-border"})
    known = [c for c in origin.leaves if c != UNKNOWN]
    extra: list[Line] = [
        ((TOTAL, TOTAL, "Domestic"), tuple((c, c, TOTAL) for c in known)),
        ((TOTAL, TOTAL, "CrossBorder"), tuple((o, d, TOTAL) for o in known for d in known if o != d)),
        ((TOTAL, TOTAL, UNKNOWN), tuple(
            (o, d, TOTAL) for o in origin.leaves for d in destination.leaves if UNKNOWN in (o, d))),
    ]
    t = frozenset({TOTAL})
    views = ({"scope": t}, {"origin": t, "destination": t})
    return Cube.from_leaves("flows", "Detected victims by origin and destination", "persons",
                            [origin, destination, scope], frame, views, extra)


def justice_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Suspects by case type, sex, citizenship and how far their proceedings went."""
    where, params = flt.where()
    frame = _query(con, f"""
        WITH ch AS (SELECT person_key, bool_or(outcome = 'Convicted') AS convicted,
                           bool_or(stage IN ('Prosecution', 'Trial', 'Appeal')
                                   OR outcome IN ('Convicted', 'Acquitted')) AS prosecuted
                    FROM charges GROUP BY person_key)
        SELECT c.case_type AS crime, {SEX_SQL} AS sex,
               CASE WHEN p.citizenship IS NULL OR p.citizenship = '' THEN '{UNKNOWN}'
                    WHEN list_contains(string_split(p.citizenship, '|'), c.jurisdiction) THEN 'National'
                    ELSE split_part(p.citizenship, '|', 1) END AS citizenship,
               CASE WHEN ch.convicted THEN 'Convicted' WHEN ch.prosecuted THEN 'NotConvicted'
                    ELSE 'NotProsecuted' END AS stage,
               count(*) AS n
        FROM persons p JOIN cases c ON c.id = p.case_id LEFT JOIN ch ON ch.person_key = p.key
        WHERE p.role = '{PersonRole.SUSPECT}'{where}
        GROUP BY ALL""", params)
    foreign = sorted(set(frame["citizenship"]) - {UNKNOWN, "National"})
    citizenship = Dim.tree("citizenship", "Citizenship", {"National": (), "Foreign": foreign, UNKNOWN: ()},
                           {TOTAL: "All citizenships", "National": "Nationals",
                            "Foreign": "Foreign nationals", **{c: country_name(c) for c in foreign}})
    crime = Dim.flat("crime", "Case type", _codes("case_type"), {TOTAL: "All cases", **_labels("case_type")})
    stage = Dim.tree("stage", "Proceedings", {"NotProsecuted": (), "Prosecuted": ("Convicted", "NotConvicted")},
                     {TOTAL: "Suspects", "NotProsecuted": "Not (yet) prosecuted", "Prosecuted": "Prosecuted",
                      "Convicted": "Convicted", "NotConvicted": "Prosecuted, not convicted"})
    t = frozenset({TOTAL})
    views = ({"citizenship": frozenset({TOTAL, "National", "Foreign", UNKNOWN})},
             {"crime": t, "sex": t})
    return Cube.from_leaves("justice", "Suspects, prosecutions and convictions", "persons",
                            [crime, SEX, citizenship, stage], frame, views)


def context_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Cases by year with climate, conflict, displacement and online-recruitment indicators."""
    where, params = flt.where()
    frame = _query(con, f"""
        WITH pf AS (
          SELECT case_id,
            bool_or(climate_hazard IS NOT NULL OR displacement_cause = 'Disaster'
                    OR coalesce(livelihood_loss, false)) AS climate,
            bool_or(coalesce(conflict_area, false) OR coalesce(armed_group_recruitment, false)
                    OR coalesce(conflict_sexual_violence, false) OR displacement_cause = 'Conflict') AS conflict,
            bool_or(displacement_status IS NOT NULL AND displacement_status <> 'NotDisplaced') AS displacement,
            bool_or(coalesce(recruited_online, false) OR coalesce(controlled_online, false)
                    OR coalesce(exploited_online, false)
                    OR list_has_any(string_split(coalesce(recruitment_methods, ''), '|'),
                                    ['ThroughOnlineSocialNetworks', 'ThroughAnOnlineAdvertisement'])) AS online
          FROM persons GROUP BY case_id)
        SELECT {YEAR_SQL} AS year,
          CASE WHEN pf.climate THEN 'Yes' ELSE 'No' END AS climate,
          CASE WHEN pf.conflict THEN 'Yes' ELSE 'No' END AS conflict,
          CASE WHEN pf.displacement THEN 'Yes' ELSE 'No' END AS displacement,
          CASE WHEN pf.online THEN 'Yes' ELSE 'No' END AS online, count(*) AS n
        FROM cases c LEFT JOIN pf ON pf.case_id = c.id
        WHERE true{where}
        GROUP BY ALL""", params)
    indicators = {"climate": "Climate-related", "conflict": "Conflict-related",
                  "displacement": "Displacement", "online": "Online recruitment or control"}
    dims = [_year_dim(frame)] + [
        Dim.flat(name, label, ["Yes", "No"], {TOTAL: "All cases"}) for name, label in indicators.items()
    ]
    t = frozenset({TOTAL})
    views = tuple({other: t for other in indicators if other != name} for name in indicators)
    return Cube.from_leaves("context", "Cases with context indicators", "cases", dims, frame, views)


def non_punishment_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Identified or presumed victims who were charged, by offence, jurisdiction and outcome.

    The non-punishment principle says victims should not be punished for
    offences their trafficking made them commit. The unit is the victim, not
    the charge: disclosure control counts people, and a cell of five charges
    against one woman would otherwise be published as if five people stood
    behind it. A victim charged with different offences is counted once, under
    "several offences"; "convicted" means convicted on at least one charge.
    """
    where, params = flt.where()
    frame = _query(con, f"""
        WITH charged AS (
            SELECT CASE WHEN count(DISTINCT ch.offence) = 1 THEN min(ch.offence)
                        ELSE '{SEVERAL_OFFENCES}' END AS offence,
                   coalesce(c.jurisdiction, '{UNKNOWN}') AS jurisdiction,
                   CASE WHEN coalesce(bool_or(ch.outcome = 'Convicted'), false) THEN 'Convicted'
                        ELSE 'NotConvicted' END AS result
            FROM charges ch JOIN persons p ON p.key = ch.person_key JOIN cases c ON c.id = p.case_id
            WHERE p.role IN {VICTIM_ROLES}{where}
            GROUP BY p.key, c.jurisdiction)
        SELECT offence, jurisdiction, result, count(*) AS n FROM charged GROUP BY ALL""", params)
    offence = Dim.flat("offence", "Offence", [*_codes("offence"), SEVERAL_OFFENCES],
                       {TOTAL: "All offences", **_labels("offence"), SEVERAL_OFFENCES: "Several offences"})
    jurisdiction = _country_dim("jurisdiction", "Jurisdiction", list(frame["jurisdiction"]), "All jurisdictions")
    result = Dim.flat("result", "Outcome", ["Convicted", "NotConvicted"],
                      {TOTAL: "Charged", "NotConvicted": "Not (yet) convicted"})
    t = frozenset({TOTAL})
    views = ({"jurisdiction": t}, {"offence": t})
    return Cube.from_leaves("non_punishment", "Victims charged with an offence (non-punishment monitoring)",
                            "victims", [offence, jurisdiction, result], frame, views)
