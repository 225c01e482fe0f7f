"""Importers for country-year series: IDMC displacement, World Bank WDI, UNHCR, population.

Each value is stored with the series' published name as well as its code. The
World Bank rebased SI.POV.DDAY from $2.15 to $3.00 a day without changing the
code, so a code alone cannot tell two incompatible poverty lines apart; the
name can, and the index refuses to mix them (see :mod:`tipsom.context.spec`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from tipsom.context.countries import resolve_country
from tipsom.context.records import ImportResult, Observation
from tipsom.context.sources import (
    ContextInputError,
    IssueLog,
    Row,
    Source,
    Table,
    number_field,
    read_table,
)

IDMC_ALIASES = {
    "iso3": ["iso"],
    "name": ["country / territory", "country"],
    "year": [],
    "conflict_stock": ["conflict stock displacement", "conflict total displacement"],
    "conflict_new": ["conflict new displacements", "conflict internal displacements"],
    "disaster_new": ["disaster new displacements", "disaster internal displacements"],
    "disaster_stock": ["disaster stock displacement", "disaster total displacement"],
}
IDMC_SERIES = {
    "conflict_stock": "IDPs at year end, conflict and violence (IDMC)",
    "conflict_new": "New internal displacements, conflict and violence (IDMC)",
    "disaster_new": "New internal displacements, disasters (IDMC)",
    "disaster_stock": "IDPs at year end, disasters (IDMC)",
}

UNHCR_ALIASES = {
    "year": [],
    "origin": ["country of origin"],
    "origin_iso": ["country of origin (iso)", "country of origin iso", "coo_iso"],
    "asylum": ["country of asylum"],
    "asylum_iso": ["country of asylum (iso)", "country of asylum iso", "coa_iso"],
    "refugees": ["refugees under unhcr's mandate", "refugees under unhcr s mandate", "refugees"],
    "asylum_seekers": ["asylum-seekers", "asylum seekers"],
    "idps": ["idps of concern to unhcr", "idps"],
    "other_protection": ["other people in need of international protection", "venezuelans displaced abroad"],
}
UNHCR_BY_ORIGIN = {
    "refugees": "Refugees originating from the country (UNHCR mandate)",
    "asylum_seekers": "Asylum-seekers originating from the country (UNHCR)",
    "other_protection": "Others in need of international protection, by origin (UNHCR)",
}

POPULATION_ALIASES = {
    "iso3": ["iso3 code", "iso3_code", "country code", "iso"],
    "country": ["location", "country name"],
    "admin1": ["admin 1", "adm1", "province", "region"],
    "year": ["time"],
    "population": ["total population", "value", "pop"],
    "population_thousands": ["poptotal", "total population as of 1 july thousands"],
    "population_under18": ["population 0 17", "population under 18", "pop0_17"],
    "variant": [],
}

_YEAR = re.compile(r"^(\d{4})(?: \[YR\d{4}\])?$")
_WDI_NOTES = ("Data from database", "Last Updated")


def _iso(row: Row, log: IssueLog, code_key: str, name_key: str) -> str | None:
    code, name = row.get(code_key), row.get(name_key)
    iso3 = resolve_country(code) if code else None
    iso3 = iso3 or (resolve_country(name) if name else None)
    if iso3 is None:
        log.reject(row.line, code_key if code else name_key,
                   f"{code or name!r} is not a country (a regional aggregate or an unknown name)")
    return iso3


def _year(row: Row, log: IssueLog, key: str = "year") -> int | None:
    text = row.get(key)
    if not text.isdigit():
        log.reject(row.line, key, f"year {text!r} is not a year")
        return None
    return int(text)


def import_idmc(path: Path, encoding: str | None = None) -> ImportResult:
    """IDMC GIDD displacement by country and year (stock and new, conflict and disasters)."""
    table = read_table(path, IDMC_ALIASES, ["iso3", "year"], encoding)
    measures = [m for m in IDMC_SERIES if table.has(m)]
    if not measures:
        raise ContextInputError(f"{path}: no displacement column found (expected {sorted(IDMC_SERIES)})")
    log = IssueLog(str(path))
    result = ImportResult(Source.IDMC, str(path), table.encoding, len(table.rows))
    for row in table.rows:
        iso3, year = _iso(row, log, "iso3", "name"), _year(row, log)
        if iso3 is None or year is None:
            continue
        for measure in measures:
            value = number_field(row, measure, log)
            if value is not None:
                result.observations.append(
                    Observation(Source.IDMC, iso3, year, f"idmc.{measure}", IDMC_SERIES[measure], value)
                )
    result.issues = log.issues
    return result


def import_wdi(path: Path, encoding: str | None = None) -> ImportResult:
    """World Bank WDI CSV: the bulk-download layout and the DataBank export layout.

    Both are wide (one column per year). The indicator name is kept with every
    value, and a code seen with two different names in one file is reported.
    """
    aliases = {
        "country": ["country name"],
        "code": ["country code"],
        "series_name": ["indicator name", "series name"],
        "series": ["indicator code", "series code"],
    }
    table = read_table(path, aliases, ["code", "series", "series_name"], encoding, header_hint="Country Code")
    years = _wdi_year_columns(table)
    log = IssueLog(str(path))
    result = ImportResult(Source.WDI, str(path), table.encoding, len(table.rows))
    names: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        if row.get("country").startswith(_WDI_NOTES) and not row.get("code"):
            continue  # DataBank footer lines ("Data from database: ...") are not data
        iso3 = _iso(row, log, "code", "country")
        if iso3 is None:
            continue
        series, name = row.get("series"), row.get("series_name")
        first = names.setdefault(series, (name, row.line))
        if first[0] != name:
            log.warn(row.line, "series_name",
                     f"{series} is named {name!r} here but {first[0]!r} on line {first[1]}")
        for column, year in years.items():
            value = number_field(Row(row.line, {column: row.raw.get(column, "")}, row.raw), column, log,
                                 allow_negative=True)
            if value is not None:
                result.observations.append(Observation(Source.WDI, iso3, year, series, name, value))
    result.issues = log.issues
    return result


def _wdi_year_columns(table: Table) -> dict[str, int]:
    """Map year headers ("2019" or "2019 [YR2019]") to years."""
    found = {h: int(m.group(1)) for h in table.header if (m := _YEAR.match(h.strip()))}
    if not found:
        raise ContextInputError(f"{table.path}: no year columns (e.g. '2019' or '2019 [YR2019]')")
    return found


def import_unhcr(path: Path, encoding: str | None = None) -> ImportResult:
    """UNHCR Refugee Data Finder CSV (origin-asylum pairs), summed per origin and per asylum country."""
    table = read_table(path, UNHCR_ALIASES, ["year", "origin", "asylum", "refugees"], encoding,
                       header_hint="Country of origin")
    log = IssueLog(str(path))
    by_origin: dict[tuple[str, int, str], float] = defaultdict(float)
    hosted: dict[tuple[str, int, str], float] = defaultdict(float)
    for row in table.rows:
        year = _year(row, log)
        if year is None:
            continue
        origin = resolve_country(row.get("origin_iso")) or resolve_country(row.get("origin"))
        asylum = resolve_country(row.get("asylum_iso")) or resolve_country(row.get("asylum"))
        if origin is None and asylum is None:
            log.reject(row.line, "origin",
                       f"neither {row.get('origin')!r} nor {row.get('asylum')!r} is a known country")
            continue
        if origin is None:
            log.warn(row.line, "origin", f"origin {row.get('origin')!r} unknown; counted for asylum only")
        if asylum is None:
            log.warn(row.line, "asylum", f"asylum {row.get('asylum')!r} unknown; counted for origin only")
        for measure in (m for m in UNHCR_BY_ORIGIN if table.has(m)):
            value = number_field(row, measure, log)
            if value is not None and origin is not None:
                by_origin[(origin, year, measure)] += value
        refugees = number_field(row, "refugees", log)
        if refugees is not None and asylum is not None:
            hosted[(asylum, year, "refugees_hosted")] += refugees
        idps = number_field(row, "idps", log) if table.has("idps") else None
        if idps is not None and asylum is not None:
            hosted[(asylum, year, "idps")] += idps
    result = ImportResult(Source.UNHCR, str(path), table.encoding, len(table.rows))
    names = {**UNHCR_BY_ORIGIN, "refugees_hosted": "Refugees hosted (UNHCR mandate)",
             "idps": "IDPs of concern to UNHCR"}
    for (iso3, year, measure), value in [*by_origin.items(), *hosted.items()]:
        result.observations.append(
            Observation(Source.UNHCR, iso3, year, f"unhcr.{measure}", names[measure], value)
        )
    result.issues = log.issues
    return result


def import_population(path: Path, encoding: str | None = None) -> ImportResult:
    """Population by country (or admin-1 unit) and year: a plain table or UN WPP's layout.

    WPP gives thousands (``PopTotal``) and several projection variants; only the
    ``Medium`` variant is read, and other variants are reported once each.
    """
    table = read_table(path, POPULATION_ALIASES, ["year"], encoding)
    if not (table.has("population") or table.has("population_thousands")):
        raise ContextInputError(f"{path}: no population column (e.g. 'population' or WPP 'PopTotal')")
    if not (table.has("iso3") or table.has("country")):
        raise ContextInputError(f"{path}: no country column ('iso3' or 'country')")
    log = IssueLog(str(path))
    result = ImportResult(Source.POPULATION, str(path), table.encoding, len(table.rows))
    skipped_variants: dict[str, list[int]] = defaultdict(list)
    for row in table.rows:
        variant = row.get("variant")
        if variant and variant != "Medium":
            skipped_variants[variant].append(row.line)
            continue
        iso3, year = _iso(row, log, "iso3", "country"), _year(row, log)
        if iso3 is None or year is None:
            continue
        admin1 = row.get("admin1") or None
        total = number_field(row, "population", log) if table.has("population") else None
        if total is None and table.has("population_thousands"):
            thousands = number_field(row, "population_thousands", log)
            total = thousands * 1000.0 if thousands is not None else None
        if total is None:
            log.reject(row.line, "population", "no population figure")
            continue
        result.observations.append(
            Observation(Source.POPULATION, iso3, year, "population.total", "Total population", total, admin1)
        )
        minors = number_field(row, "population_under18", log) if table.has("population_under18") else None
        if minors is not None:
            result.observations.append(Observation(
                Source.POPULATION, iso3, year, "population.under18", "Population aged 0-17", minors, admin1
            ))
    for variant, lines in skipped_variants.items():
        log.warn(lines[0], "variant", f"{len(lines)} rows of projection variant {variant!r} not imported")
    result.issues = log.issues
    return result
