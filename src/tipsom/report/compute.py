"""Compute every published statistic once: cubes, suppression, fees, revenue, SDG rows.

The HTML, PDF, XLSX, CSV and SDG outputs, and the web dashboard, are all
rendered from one :class:`ReportData`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tipsom.report import smuggling, statistics
from tipsom.report.cube import TOTAL, Cube
from tipsom.report.disclosure import DisclosurePolicy, Protected, TableCell, protect_all
from tipsom.report.population import Population, load_population
from tipsom.report.publish import Sheet, codebook_sheet, cube_sheet, notes_sheet
from tipsom.report.sdg import COLUMNS as SDG_COLUMNS
from tipsom.report.sdg import SdgRow, sdg_rows
from tipsom.report.statistics import ReportFilter
from tipsom.report.warehouse import Projection, open_warehouse

if TYPE_CHECKING:
    import duckdb

    from tipsom.store.db import Store

CubeBuilder = Callable[["duckdb.DuckDBPyConnection", ReportFilter], Cube]

#: The report's count tables, in reading order.
CUBES: dict[str, CubeBuilder] = {
    "victims": statistics.victims_cube,
    "flows": statistics.flows_cube,
    "justice": statistics.justice_cube,
    "migrants": smuggling.migrants_cube,
    "harm": smuggling.harm_cube,
    "context": statistics.context_cube,
    "non_punishment": statistics.non_punishment_cube,
}


#: The columns the report's queries read (copying only these keeps large stores fast).
REPORT_COLUMNS: Projection = {
    "cases": ("id", "case_type", "jurisdiction", "year", "deaths_on_route"),
    "persons": ("key", "case_id", "person_id", "role", "sex", "age", "age_min", "age_max", "age_appearance",
                "citizenship", "origin_country", "exploitation_country", "exploitation_forms", "unaccompanied",
                "smuggling_fee", "fee_currency", "harm_on_route", "climate_hazard", "displacement_cause",
                "displacement_status", "livelihood_loss", "conflict_area", "armed_group_recruitment",
                "conflict_sexual_violence", "recruited_online", "controlled_online", "exploited_online",
                "recruitment_methods"),
    "route_legs": ("person_key", "seq", "origin", "destination"),
    "charges": ("person_key", "offence", "stage", "outcome"),
}


#: The columns the victims table reads: all the SDG 16.2.2 series needs (a third of the report's).
VICTIM_COLUMNS: Projection = {
    "cases": ("id", "jurisdiction", "year"),
    "persons": ("case_id", "role", "sex", "age", "age_min", "age_max", "age_appearance", "exploitation_forms",
                "unaccompanied"),
}


@dataclass
class ReportData:
    """Everything a report publishes, already protected."""

    filter: ReportFilter
    policy: DisclosurePolicy
    cubes: dict[str, Protected]
    fees: list[smuggling.FeeRow] = field(default_factory=list)
    revenue: list[smuggling.Revenue] = field(default_factory=list)
    sdg: list[SdgRow] = field(default_factory=list)
    population_source: str = ""

    def sheets(self) -> list[Sheet]:
        """Every published table, as worksheets / CSV files."""
        protected = list(self.cubes.values())
        out = [cube_sheet(p) for p in protected]
        out.append(Sheet("fees", "Smuggling fees by route and year (median and interquartile range)",
                         ("route", "year", "currency", "fees_reported", "median", "q1", "q3"),
                         [(f.route, f.year, f.currency, f.reported, f.median, f.q1, f.q3) for f in self.fees]))
        out.append(Sheet("revenue", "Estimated smuggling revenue by route (migrants x mean fee, 95% interval)",
                         ("route", "currency", "migrants", "fees_reported", "estimate", "low", "high"),
                         [(r.route, r.currency, r.migrants, r.reported, round(r.estimate), round(r.low),
                           round(r.high)) for r in self.revenue]))
        out.append(Sheet("sdg_16_2_2", "SDG 16.2.2 series", SDG_COLUMNS,
                         [tuple(getattr(r, c) for c in SDG_COLUMNS) for r in self.sdg]))
        out.append(codebook_sheet(protected))
        out.append(notes_sheet(protected))
        return out


def shared_cells(cubes: dict[str, Cube]) -> list[tuple[TableCell, ...]]:
    """Cells that different tables publish for the same people (protected jointly).

    Every detected victim is counted once in ``victims`` and once in ``flows``, so
    their grand totals are one number.
    """
    groups = [tuple((name, (TOTAL,) * len(cubes[name].dims)) for name in ("victims", "flows") if name in cubes)]
    return [g for g in groups if len(g) > 1]


def compute_cubes(con: duckdb.DuckDBPyConnection, flt: ReportFilter, policy: DisclosurePolicy,
                  names: tuple[str, ...] = tuple(CUBES)) -> dict[str, Protected]:
    cubes = {name: CUBES[name](con, flt) for name in names}
    return protect_all(cubes, policy, shared_cells(cubes))


def compute_sdg(store: Store, flt: ReportFilter, policy: DisclosurePolicy, population: Population) -> list[SdgRow]:
    """The SDG 16.2.2 series alone: only the victims table is computed and protected.

    Its cells are those ``report build`` publishes: the victims table is protected
    on its own, its one cell shared with another table (the grand total, equal to
    the flows' total) is a headline, hidden in both or in neither.
    """
    con = open_warehouse(store, projection=VICTIM_COLUMNS)
    try:
        victims = compute_cubes(con, flt, policy, ("victims",))["victims"]
    finally:
        con.close()
    return list(sdg_rows(victims, population))


def compute_report(store: Store, flt: ReportFilter | None = None, policy: DisclosurePolicy | None = None,
                   population: Population | None = None) -> ReportData:
    """Aggregate, protect and derive every published statistic of the store."""
    flt = flt or ReportFilter()
    policy = policy or DisclosurePolicy(threshold=store.settings.suppression_threshold)
    population = population or load_population()
    con = open_warehouse(store, projection=REPORT_COLUMNS)
    try:
        cubes = compute_cubes(con, flt, policy)
        fees = smuggling.publishable_fees(smuggling.fee_rows(con, flt), cubes["migrants"])
    finally:
        con.close()
    return ReportData(flt, policy, cubes, fees, smuggling.revenue(fees, cubes["migrants"]),
                      list(sdg_rows(cubes["victims"], population)), population.source)
