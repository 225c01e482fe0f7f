"""``tipsom report build``: every output of the statistics report, written to one folder."""

from __future__ import annotations

import enum
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tipsom.report.compute import ReportData, compute_report
from tipsom.report.dashboard import report_charts
from tipsom.report.disclosure import DisclosurePolicy
from tipsom.report.glotip import glotip_sections, write_glotip
from tipsom.report.population import Population
from tipsom.report.publish import write_csv, write_xlsx
from tipsom.report.render import render_html
from tipsom.report.sdg import SdgFormat, write_sdg
from tipsom.report.sdmx import write_sdmx_files
from tipsom.report.statistics import ReportFilter

if TYPE_CHECKING:
    from tipsom.store.db import Store


class PdfOption(enum.Enum):
    """Whether to render the PDF (the slow step; benchmarks leave it out)."""

    RENDER = "render"
    SKIP = "skip"


@dataclass
class BuiltReport:
    data: ReportData
    files: dict[str, Path] = field(default_factory=dict)


def legend(data: ReportData) -> list[str]:
    return [
        f"tipsom statistics: {data.filter.title}",
        f"'{data.policy.primary_mark}': fewer than {data.policy.threshold} (0 to {data.policy.threshold - 1}), "
        "suppressed (primary suppression).",
        "'x': suppressed so that a small cell cannot be derived from the margins (secondary suppression).",
        f"Protection range: every small hidden cell stays uncertain over at least {data.policy.protection_range}.",
        "The codebook sheet gives each code's parent: a parent cell is the sum of its children.",
        f"Population denominators: {data.population_source}",
    ]


def build_report(store: Store, out: Path, flt: ReportFilter | None = None, *,
                 policy: DisclosurePolicy | None = None, population: Population | None = None,
                 pdf: PdfOption = PdfOption.RENDER) -> BuiltReport:
    """Write report.html, report.pdf, tables.xlsx, glotip.xlsx, the SDG 16.2.2 files and tables/*.csv under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = compute_report(store, flt, policy, population)
    built = BuiltReport(data)
    sheets = data.sheets()
    # The workbook (openpyxl, pure Python) is written in a second process while
    # this one draws the charts: on a two-core laptop that halves the wait.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        workbook = pool.submit(write_xlsx, sheets, out / "tables.xlsx", legend(data))
        html = render_html(data, report_charts(data))
        built.files["html"] = out / "report.html"
        built.files["html"].write_text(html, encoding="utf-8")
        built.files["xlsx"] = workbook.result()
    built.files["sdg"] = write_sdg(data.sdg, out / "sdg_16_2_2.csv", SdgFormat.CSV)
    sdmx = write_sdmx_files(data.sdg, out / "sdg_16_2_2.sdmx.csv", out / "sdg_16_2_2.sdmx.xml")
    built.files["sdmx_csv"], built.files["sdmx_xml"] = sdmx.csv, sdmx.xml
    sections = glotip_sections(store, data.cubes["victims"], data.filter, data.policy, data.cubes["justice"])
    built.files["glotip"] = write_glotip(sections, out / "glotip.xlsx", data.filter.title)
    tables = out / "tables"
    tables.mkdir(exist_ok=True)
    for sheet in sheets:
        built.files[f"csv:{sheet.name}"] = write_csv(sheet, tables / f"{sheet.name}.csv")
    if pdf is PdfOption.RENDER:
        from tipsom.core.render import html_to_pdf

        built.files["pdf"] = html_to_pdf(html, out / "report.pdf")
    return built
