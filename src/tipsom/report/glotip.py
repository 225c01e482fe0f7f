"""The UNODC GLOTIP data collection as a workbook: one sheet per questionnaire section, years as columns.

Statisticians answer UNODC's Global Report on Trafficking in Persons data
collection every two years by copying national figures into its sections. This
module writes those sections from the store, so the copy is mechanical:

1. offences recorded (trafficking cases registered, by year);
2. persons brought into formal contact with the criminal justice system,
3. persons prosecuted and 4. persons convicted, each by sex and by
   citizenship (nationals, foreign nationals);
5. detected victims by sex and age (children 0 to 17 years, adults 18 years
   or over) and 6. detected victims by form of exploitation.

Source followed: the layout and labels of UNODC's published GLOTIP data
(``data_glotip.xlsx``, summarised in ``shared/reference/standards/code_lists.json``
under ``unodc_glotip_data_glotip_xlsx``): indicators "Detected trafficking
victims", "Persons prosecuted", "Persons convicted", "Persons brought into
formal contact"; sexes Female/Male/Total; ages "0 to 17 years", "18 years or
over", "Unknown"; forms "Sexual exploitation", "Forced labour", "Other forms of
exploitation"; small counts published as ``<5``. The questionnaire itself is
not in the reference folder, so section numbers follow the order of those
indicators, not the questionnaire's own numbering.

Disclosure control is the report's: victim sections are read from the
report's protected victims cube (the same cells, the same marks), and the
justice and offence sections are their own cubes protected with the same
policy. A cell under the threshold is written as the policy's primary mark
(``<5``), a cell hidden to protect another as :data:`CONFIDENTIAL` (``..``,
the UN statistical mark for "not available"), never as a number.

The report's justice table has no year, so the justice sections here are a
separate cube; its all-years column is the sum of the report's trafficking and
mixed-case cells, so it is protected jointly with them
(:func:`linked_to_report`): an all-years figure is shown exactly when the report
shows both cells it sums; otherwise the workbook would give a hidden one back
by subtraction, or hide a sum readers can add up themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tipsom.core.cells import text_cell
from tipsom.report.cube import TOTAL, Cube, Dim, Key
from tipsom.report.disclosure import CellStatus, DisclosurePolicy, Protected, protect
from tipsom.report.statistics import SEX, UNKNOWN, YEAR_SQL, ReportFilter
from tipsom.report.statistics import _year_dim as year_dim
from tipsom.report.warehouse import Projection, open_warehouse
from tipsom.schema.enums import PersonRole

if TYPE_CHECKING:
    import duckdb

    from tipsom.store.db import Store

#: The questionnaire's mark for a figure withheld (hidden to protect another cell).
CONFIDENTIAL = ".."
#: Case types whose suspects and cases count as trafficking offences (a mixed case involves one).
TRAFFICKING_CASES = ("TIP", "Mixed")
GLOTIP_COLUMNS: Projection = {
    "cases": ("id", "case_type", "jurisdiction", "year"),
    "persons": ("key", "case_id", "role", "sex", "citizenship"),
    "charges": ("person_key", "stage", "outcome"),
}
SEX_LABELS = {"Female": "Female", "Male": "Male", "OtherUnknown": "Unknown", TOTAL: "Total"}
AGE_LABELS = {"Child": "0 to 17 years", "Adult": "18 years or over", UNKNOWN: "Unknown", TOTAL: "Total"}
FORM_LABELS = {"SexualExploitation": "Sexual exploitation", "ForcedLabour": "Forced labour",
               "OrganRemoval": "Removal of organs", "OtherPurposes": "Other forms of exploitation"}
CITIZENSHIP_LABELS = {"National": "Nationals", "Foreign": "Foreign nationals", UNKNOWN: "Unknown",
                      TOTAL: "Total"}
#: Justice stages of the questionnaire -> node of the justice cube's stage dimension.
STAGES = (("2 Formal contact", "Persons brought into formal contact", TOTAL),
          ("3 Prosecuted", "Persons prosecuted", "Prosecuted"),
          ("4 Convicted", "Persons convicted", "Convicted"))


@dataclass(frozen=True)
class Row:
    """One questionnaire row: its labels and the fixed coordinates of its cells (the year varies)."""

    labels: tuple[str, ...]
    coords: Mapping[str, str]


@dataclass(frozen=True)
class Section:
    """One sheet: a protected cube read along its year dimension."""

    sheet: str
    title: str
    headers: tuple[str, ...]
    cube: Protected
    rows: tuple[Row, ...]


def _cases_where(flt: ReportFilter) -> tuple[str, list[object]]:
    where, params = flt.where()
    kinds = ", ".join(f"'{k}'" for k in TRAFFICKING_CASES)
    return f"c.case_type IN ({kinds}){where}", params


def offences_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Trafficking cases registered per year (the nearest the store has to "offences recorded")."""
    where, params = _cases_where(flt)
    frame = con.execute(f"SELECT {YEAR_SQL} AS year, count(*) AS n FROM cases c WHERE {where} GROUP BY ALL",
                        params).df()
    return Cube.from_leaves("glotip_offences", "Trafficking offences recorded (cases)", "cases",
                            [year_dim(frame)], frame)


def justice_cube(con: duckdb.DuckDBPyConnection, flt: ReportFilter) -> Cube:
    """Suspects of trafficking per year by sex and by citizenship, and how far proceedings went.

    A suspect is in formal contact; prosecuted when a charge reached
    prosecution, trial or appeal or has a verdict; convicted on any charge.
    Sex and citizenship are separate views, as in the questionnaire, so no
    sex-by-citizenship cell is published.
    """
    where, params = _cases_where(flt)
    frame = con.execute(f"""
        WITH ch AS (SELECT person_key, bool_or(outcome = 'Convicted') AS convicted,
                           bool_or(stage IN ('Prosecution', 'Trial', 'Appeal')
                                   OR outcome IN ('Convicted', 'Acquitted')) AS prosecuted
                    FROM charges GROUP BY person_key)
        SELECT {YEAR_SQL} AS year,
               CASE WHEN p.sex IN ('Female', 'Male') THEN p.sex ELSE 'OtherUnknown' END AS sex,
               CASE WHEN p.citizenship IS NULL OR p.citizenship = '' THEN '{UNKNOWN}'
                    WHEN list_contains(string_split(p.citizenship, '|'), c.jurisdiction) THEN 'National'
                    ELSE 'Foreign' END AS citizenship,
               CASE WHEN ch.convicted THEN 'Convicted' WHEN ch.prosecuted THEN 'NotConvicted'
                    ELSE 'NotProsecuted' END AS stage,
               count(*) AS n
        FROM persons p JOIN cases c ON c.id = p.case_id LEFT JOIN ch ON ch.person_key = p.key
        WHERE p.role = '{PersonRole.SUSPECT}' AND {where}
        GROUP BY ALL""", params).df()
    citizenship = Dim.flat("citizenship", "Citizenship", ["National", "Foreign", UNKNOWN], CITIZENSHIP_LABELS)
    stage = Dim.tree("stage", "Proceedings", {"NotProsecuted": (), "Prosecuted": ("Convicted", "NotConvicted")},
                     {TOTAL: "Formal contact"})
    t = frozenset({TOTAL})
    return Cube.from_leaves("glotip_justice", "Persons suspected, prosecuted and convicted of trafficking",
                            "persons", [year_dim(frame), SEX, citizenship, stage], frame,
                            ({"citizenship": t}, {"sex": t}))


def _justice_rows(stage: str) -> tuple[Row, ...]:
    by_sex = [Row(("by sex", SEX_LABELS[s]), {"sex": s, "stage": stage})
              for s in ("Female", "Male", "OtherUnknown", TOTAL)]
    by_citizenship = [Row(("by citizenship", CITIZENSHIP_LABELS[c]), {"citizenship": c, "stage": stage})
                      for c in ("National", "Foreign", UNKNOWN)]
    return (*by_sex, *by_citizenship)


def _victim_sections(victims: Protected) -> list[Section]:
    """Sections 5 and 6, read from the report's victims cube (its GLOTIP views)."""
    sex_age = tuple(Row((SEX_LABELS[s], AGE_LABELS[a]), {"sex": s, "age": a})
                    for s in ("Female", "Male", "OtherUnknown", TOTAL) for a in ("Child", "Adult", UNKNOWN, TOTAL))
    form_dim = next(d for d in victims.cube.dims if d.name == "form")

    def form_label(node: str) -> str:
        return FORM_LABELS.get(node, form_dim.label_of(node)) if node not in (TOTAL, "") else ""

    forms = (*(Row((form_label(f), form_label(form_dim.parents.get(f, ""))), {"form": f})
               for f in form_dim.order if f != TOTAL), Row(("Total", ""), {"form": TOTAL}))
    return [
        Section("5 Victims sex-age", "Detected trafficking victims by sex and age", ("Sex", "Age"), victims,
                sex_age),
        Section("6 Victims forms", "Detected trafficking victims by form of exploitation",
                ("Form of exploitation", "Part of"), victims, forms),
    ]


def linked_to_report(justice: Cube, report_justice: Protected) -> tuple[set[Key], set[Key]]:
    """The all-years cells of the GLOTIP justice cube to hide and to keep shown, from the report.

    Each sums the report's trafficking and mixed-case cells: when the report hides
    one of them the workbook must hide the sum (else subtraction gives it back);
    when the report shows both, readers know the sum anyway, so the workbook must
    not count on hiding it to protect a year.
    """
    hide: set[Key] = set()
    keep: set[Key] = set()
    report = report_justice.cube
    for key in justice.cells():
        coords = dict(zip((d.name for d in justice.dims), key, strict=True))
        if coords["year"] != TOTAL:
            continue
        parts = [(crime, coords["sex"], coords["citizenship"], coords["stage"]) for crime in TRAFFICKING_CASES]
        if not all(report.is_published(k) for k in parts):
            continue
        (keep if all(report_justice.status(k) is CellStatus.SHOWN for k in parts) else hide).add(key)
    return hide, keep


def glotip_sections(store: Store, victims: Protected, flt: ReportFilter | None = None,
                    policy: DisclosurePolicy | None = None,
                    report_justice: Protected | None = None) -> list[Section]:
    """Every questionnaire section, protected; ``victims`` is the report's protected victims cube,
    ``report_justice`` its justice table (when given, protected jointly with the justice sections)."""
    flt = flt or ReportFilter()
    policy = policy or victims.policy
    con = open_warehouse(store, projection=GLOTIP_COLUMNS)
    try:
        offences = protect(offences_cube(con, flt), policy)
        cube = justice_cube(con, flt)
        hide, keep = linked_to_report(cube, report_justice) if report_justice else (set(), set())
        justice = protect(cube, policy, hide, keep)
    finally:
        con.close()
    sections = [Section("1 Offences", "Trafficking offences recorded (cases registered)", ("Indicator",),
                        offences, (Row(("Offences recorded",), {}),))]
    sections += [Section(sheet, title, ("Breakdown", "Category"), justice, _justice_rows(stage))
                 for sheet, title, stage in STAGES]
    return sections + _victim_sections(victims)


def shown(p: Protected, coords: Mapping[str, str]) -> int | str:
    """A cell as the questionnaire receives it: the count, ``<5``, or :data:`CONFIDENTIAL`."""
    key = tuple(coords.get(d.name, TOTAL) for d in p.cube.dims)
    status = p.status(key)
    if status is CellStatus.SHOWN:
        return int(p.cube.value(key))
    return p.policy.primary_mark if status is CellStatus.PRIMARY else CONFIDENTIAL


def years(p: Protected) -> tuple[str, ...]:
    """The year columns, in time order, with the all-years total last."""
    dim = next(d for d in p.cube.dims if d.name == "year")
    return (*(y for y in dim.order if y != TOTAL), TOTAL)


def write_glotip(sections: Sequence[Section], path: Path, title: str) -> Path:
    """The workbook: an about sheet, then one sheet per section (write-only openpyxl, text never a formula)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    about = wb.create_sheet("About")
    for line in (f"GLOTIP data collection: {title}",
                 "Layout: UNODC GLOTIP data (data_glotip.xlsx) indicators and categories, one sheet per section.",
                 f"'{sections[0].cube.policy.primary_mark}': fewer than {sections[0].cube.policy.threshold}; "
                 f"'{CONFIDENTIAL}': withheld so that a small figure cannot be derived (confidential).",
                 "Victims may be detected in one year and registered in another: years are years of registration."):
        about.append([text_cell(about, line)])
    for section in sections:
        ws = wb.create_sheet(section.sheet[:31])
        columns = years(section.cube)
        ws.append([text_cell(ws, section.title)])
        ws.append([text_cell(ws, h) for h in (*section.headers, *("Total" if y == TOTAL else y for y in columns))])
        for row in section.rows:
            values = [shown(section.cube, {**row.coords, "year": y}) for y in columns]
            ws.append([text_cell(ws, v) for v in (*row.labels, *values)])
    wb.save(str(path))
    return path
