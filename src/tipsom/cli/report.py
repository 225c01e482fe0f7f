"""Commands of the report module: ``tipsom report build|sdg`` and ``tipsom export microdata``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tipsom.cli.common import DbOption, QuietOption, fail, open_store
from tipsom.cli.groups import export_app
from tipsom.core.errors import ExitCode

if TYPE_CHECKING:
    from tipsom.report.disclosure import DisclosurePolicy
    from tipsom.report.population import Population
    from tipsom.report.statistics import ReportFilter
    from tipsom.store.db import Store

report_app = typer.Typer(help="Published statistics: GLOTIP-style report, SDG 16.2.2, disclosure control.",
                         no_args_is_help=True)

YearOption = Annotated[int | None, typer.Option("--year", help="Only cases registered in this year.")]
CountryOption = Annotated[str | None, typer.Option("--country", help="Only cases of this jurisdiction (ISO3).")]
ThresholdOption = Annotated[int | None, typer.Option(
    "--threshold", help="Cells below this are published as '<N' (default TIPSOM_SUPPRESSION_THRESHOLD).")]
ProtectionOption = Annotated[int | None, typer.Option(
    "--protection", help="Minimum width of a hidden cell's interval for an attacker (default threshold - 2).")]
PopulationOption = Annotated[Path | None, typer.Option(
    "--population", help="Denominators CSV: country,year,sex,age_group,population (default: Natural Earth).")]


def _prepare(db: str | None, year: int | None, country: str | None, threshold: int | None,
             protection: int | None, population: Path | None) -> tuple[Store, ReportFilter, DisclosurePolicy,
                                                                      Population]:
    """Store, filter, policy and denominators, or a clear error (lazy imports keep --help fast)."""
    from tipsom.report.disclosure import DisclosurePolicy
    from tipsom.report.population import PopulationFileError, load_population
    from tipsom.report.statistics import ReportFilter
    from tipsom.settings import get_settings

    if country is not None and (len(country) != 3 or not country.isalpha()):
        fail(f"--country {country!r}: use an ISO 3166-1 alpha-3 code such as NPL", ExitCode.USAGE)
    try:
        policy = DisclosurePolicy(threshold or get_settings().suppression_threshold, protection)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    try:
        denominators = load_population(population)
    except (OSError, PopulationFileError) as exc:
        fail(str(exc))
    flt = ReportFilter(year=year, country=country.upper() if country else None)
    return open_store(db, verify_key=False), flt, policy, denominators


@report_app.command("build")
def build(
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for report.html, report.pdf, tables.xlsx, "
                                                    "glotip.xlsx, sdg_16_2_2.csv, sdg_16_2_2.sdmx.csv, "
                                                    "sdg_16_2_2.sdmx.xml and tables/*.csv.")],
    year: YearOption = None,
    country: CountryOption = None,
    threshold: ThresholdOption = None,
    protection: ProtectionOption = None,
    population: PopulationOption = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Skip the PDF (the slowest step).")] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Build the statistics report (HTML, PDF, XLSX, CSV, the GLOTIP workbook and the SDG 16.2.2 files)."""
    from tipsom.report.build import PdfOption, build_report

    store, flt, policy, denominators = _prepare(db, year, country, threshold, protection, population)
    built = build_report(store, out, flt, policy=policy, population=denominators,
                         pdf=PdfOption.SKIP if no_pdf else PdfOption.RENDER)
    if not quiet:
        for name, path in built.files.items():
            if not name.startswith("csv:"):
                print(f"{name}: {path}")


@report_app.command("sdg")
def sdg(
    out: Annotated[Path, typer.Option("-o", "--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    year: YearOption = None,
    country: CountryOption = None,
    threshold: ThresholdOption = None,
    protection: ProtectionOption = None,
    population: PopulationOption = None,
    db: DbOption = None,
) -> None:
    """Write the SDG 16.2.2 series (counts and rates per 100,000) as SDMX-style CSV or JSON."""
    from tipsom.report.compute import compute_sdg
    from tipsom.report.sdg import SdgFormat, write_sdg

    if fmt not in {f.value for f in SdgFormat}:
        fail(f"--format {fmt!r}: use csv or json", ExitCode.USAGE)
    store, flt, policy, denominators = _prepare(db, year, country, threshold, protection, population)
    write_sdg(compute_sdg(store, flt, policy, denominators), out, SdgFormat(fmt))


def microdata(
    out: Annotated[Path, typer.Option("-o", "--out", help="CSV file to write (metadata beside it).")],
    k: Annotated[int, typer.Option("--k", help="k for k-anonymity (CTDC uses 11).")] = 11,
    max_suppression: Annotated[float, typer.Option(
        "--max-suppression", help="Largest share of records that may be dropped rather than generalised.")] = 0.02,
    synthetic: Annotated[bool, typer.Option("--synthetic", help="Differentially private synthetic records "
                                                                "instead of k-anonymous real ones.")] = False,
    epsilon: Annotated[float, typer.Option("--epsilon", help="Privacy budget for --synthetic.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for --synthetic sampling.")] = 0,
    purpose: Annotated[str, typer.Option("--purpose", help="Why, for the audit log.")] = "anonymised microdata",
    db: DbOption = None,
) -> None:
    """Export anonymised victim microdata (CTDC style, k-anonymous) with a metadata file."""
    from tipsom.report.microdata import MicrodataError, export_microdata
    from tipsom.settings import get_settings

    if not 0.0 <= max_suppression < 1.0:
        fail("--max-suppression must be a share between 0 and 1", ExitCode.USAGE)
    try:
        meta = export_microdata(open_store(db, verify_key=False), out, k=k, max_suppression=max_suppression,
                                epsilon=epsilon if synthetic else None, seed=seed,
                                actor=get_settings().actor, purpose=purpose)
    except (MicrodataError, ValueError) as exc:
        fail(str(exc))
    print(json.dumps(meta.get("k_anonymity") or meta.get("differential_privacy"), indent=1))


def register(root: typer.Typer) -> None:
    """Add ``tipsom report`` and ``tipsom export microdata``."""
    root.add_typer(report_app, name="report")
    export_app.command("microdata")(microdata)
