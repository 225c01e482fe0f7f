"""``tipsom context``: context data, the vulnerability index, route danger, the panel model, case flags."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tipsom.cli.common import (
    DbOption,
    JsonOption,
    LangOption,
    OnErrorOption,
    QuietOption,
    check_output_path,
    fail,
    open_store,
)
from tipsom.core.errors import ExitCode
from tipsom.core.vocab import Language, OnError

if TYPE_CHECKING:
    from tipsom.context.boundaries import Boundaries
    from tipsom.context.db import ContextStore

context_app = typer.Typer(help="Conflict, displacement, disaster and poverty context; route danger.",
                          no_args_is_help=True)

SOURCES = "ucdp|acled|idmc|idmc-disasters|emdat|wdi|unhcr|mmp|population"
#: Issues printed to the terminal; ``--issues FILE`` writes them all.
SHOWN_ISSUES = 20
EncodingOption = Annotated[str | None, typer.Option(help="Text encoding (default: UTF-8, else cp1252).")]


def _context_store(db: str | None) -> ContextStore:
    """The store's context tables; context data is public, so no data key is needed to reach it."""
    from tipsom.context.db import ContextStore

    return ContextStore(open_store(db, verify_key=False))


def _boundaries(path: Path | None, id_field: str) -> Boundaries | None:
    if path is None:
        return None
    from tipsom.context.boundaries import Boundaries

    return Boundaries.load(path, id_field)


@context_app.command("import")
def import_command(
    *,
    file: Annotated[Path, typer.Argument(help="The file to import.")],
    source: Annotated[str, typer.Option(help=SOURCES)],
    boundaries: Annotated[Path | None, typer.Option(help="Admin-1 boundaries (GeoJSON or .shp).")] = None,
    id_field: Annotated[str, typer.Option(help="Boundary property holding the unit id.")] = "id",
    encoding: EncodingOption = None,
    issues: Annotated[Path | None, typer.Option(help="Write every issue to this CSV.")] = None,
    on_error: OnErrorOption = OnError.SKIP,
    strict: Annotated[bool, typer.Option("--strict", hidden=True, help="Old spelling of --on-error fail.")] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Import a context file into the store; every rejected or doubtful row is reported."""
    from tipsom.context.importing import import_file
    from tipsom.context.sources import Severity, Source

    try:
        kind = Source(source)
    except ValueError:
        fail(f"--source must be one of {SOURCES}, not {source!r}", ExitCode.USAGE)
    if issues is not None:
        check_output_path(issues)
    result = import_file(file, kind, _boundaries(boundaries, id_field), encoding)
    rejected = sum(1 for i in result.issues if i.severity is Severity.REJECTED)
    if issues is not None:
        import csv

        from tipsom.core.cells import neutral_row

        with issues.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["file", "line", "field", "severity", "reason"])
            writer.writerows(neutral_row([i.file, i.line, i.field, i.severity.value, i.reason]) for i in result.issues)
    for issue in result.issues[:SHOWN_ISSUES]:
        print(issue, file=sys.stderr)
    if len(result.issues) > SHOWN_ISSUES:
        print(f"... {len(result.issues) - SHOWN_ISSUES} more issues"
              + (f" in {issues}" if issues else " (use --issues FILE to see all)"), file=sys.stderr)
    if (strict or on_error is OnError.FAIL) and rejected:
        fail(f"{rejected} rows rejected; nothing imported (--on-error fail)")
    import_id, replaced = _context_store(db).save(result, file)
    if not quiet:
        print(f"{file.name} ({kind}, {result.encoding}): {result.rows_read} rows read; "
              f"{len(result.observations)} values, {len(result.events)} events, "
              f"{len(result.incidents)} incidents "
              f"stored as import {import_id}{' (replacing the earlier copy)' if replaced else ''}; "
              f"{rejected} rows rejected, {len(result.issues) - rejected} warnings")


@context_app.command("index")
def index_command(
    *,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")],
    config: Annotated[Path | None, typer.Option(help="Index configuration (default: shipped).")] = None,
    runs: Annotated[int | None, typer.Option(help="Monte Carlo runs (at least; rounded up).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed of the uncertainty analysis.")] = None,
    boundaries: Annotated[Path | None, typer.Option(help="Admin-1 boundaries for the map.")] = None,
    id_field: Annotated[str, typer.Option(help="Boundary property holding the unit id.")] = "id",
    pdf: Annotated[bool, typer.Option(help="Also write index.pdf.")] = False,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Compute the vulnerability index with rank intervals and Sobol indices; write tables, map and report."""
    import tempfile

    from tipsom.context.assemble import read_values_csv, values_from_observations
    from tipsom.context.index import compute_index
    from tipsom.context.index_report import write_index_outputs
    from tipsom.context.sources import ContextInputError
    from tipsom.context.spec import load_spec
    from tipsom.context.uncertainty import analyse

    try:
        spec = load_spec(config)
        if spec.data is not None:
            values, notes = read_values_csv(spec.data, spec), [f"Data read from {spec.data}."]
        else:
            values, notes = values_from_observations(spec, _context_store(db).observations())
        result = compute_index(spec, values)
        result.prepared.notes.extend(notes)
        uncertainty = analyse(result, runs or spec.uncertainty.runs,
                              spec.uncertainty.seed if seed is None else seed, spec.uncertainty.weight_spread)
        with tempfile.TemporaryDirectory() as tmp:
            shp = None
            if boundaries is not None:
                from tipsom.context.boundaries import Boundaries

                shp = Boundaries.load(boundaries, id_field).write_shapefile(Path(tmp) / "units")
            year = spec.year if spec.year is not None else 0
            outputs = write_index_outputs(result, uncertainty, spec, out, year=year, boundaries_shp=shp,
                                          pdf=pdf)
    except ContextInputError as exc:
        fail(str(exc))
    if not quiet:
        scored = int(result.table["index"].notna().sum())
        print(f"{scored} of {len(result.table)} units scored, {uncertainty.runs} runs; wrote {outputs.html}")


@context_app.command("routes")
def routes_command(
    *,
    file: Annotated[Path, typer.Argument(help="Missing Migrants Project incidents (CSV).")],
    arrivals: Annotated[Path | None, typer.Option(help="CSV of route, year, arrivals.")] = None,
    as_json: JsonOption = False,
    report: Annotated[Path | None, typer.Option(help="Also write an HTML report with hot-spot map.")] = None,
    encoding: EncodingOption = None,
) -> None:
    """Dead, missing and total per route and year; the rate per 1,000 crossings where arrivals are known."""
    from tipsom.context.mmp import import_mmp
    from tipsom.context.routes import load_arrivals, route_years, write_routes_report
    from tipsom.context.sources import ContextInputError

    try:
        result = import_mmp(file, encoding)
        rows = route_years(result.incidents, load_arrivals(arrivals) if arrivals else None)
    except ContextInputError as exc:
        fail(str(exc))
    for issue in result.issues:
        print(issue, file=sys.stderr)
    if report is not None:
        write_routes_report(result.incidents, rows, report)
    if as_json:
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1))
        return
    print(f"{'route':<55} {'year':>4} {'dead':>7} {'missing':>7} {'total':>7} {'per 1,000':>9}")
    for r in rows:
        rate = "" if r.rate_per_1000 is None else f"{r.rate_per_1000:.1f}"
        print(f"{(r.route or '(no route recorded)')[:55]:<55} {r.year:>4} {r.dead:>7,.0f} {r.missing:>7,.0f} "
              f"{r.total:>7,.0f} {rate:>9}")


@context_app.command("card")
def card_command(
    *,
    file: Annotated[Path, typer.Argument(help="Missing Migrants Project incidents (CSV).")],
    route: Annotated[str, typer.Option(help="Route as recorded, e.g. 'Central Mediterranean'.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output .html or .pdf.")],
    lang: LangOption = Language.EN,
    arrivals: Annotated[Path | None, typer.Option(help="CSV of route, year, arrivals (adds a rate).")] = None,
    contact: Annotated[str | None, typer.Option(help="Help line or address printed on the card.")] = None,
    encoding: EncodingOption = None,
) -> None:
    """A printable route risk card for outreach and agencies (HTML, or PDF by extension)."""
    from tipsom.context.card import render_card, write_card
    from tipsom.context.mmp import import_mmp
    from tipsom.context.routes import load_arrivals, route_summary, route_years
    from tipsom.context.sources import ContextInputError

    try:
        incidents = import_mmp(file, encoding).incidents
        summary = route_summary(incidents, route)
        rate = None
        if arrivals is not None:
            on_route = [i for i in incidents if i.route == route]
            known = [(r.year, r.rate_per_1000) for r in route_years(on_route, load_arrivals(arrivals))
                     if r.rate_per_1000 is not None]
            rate = known[-1] if known else None
    except ContextInputError as exc:
        fail(str(exc))
    written = write_card(render_card(summary, lang, contact, rate), out)
    print(f"wrote {written}")


@context_app.command("model")
def model_command(
    *,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")],
    series: Annotated[list[str] | None, typer.Option(help="Context series (repeatable).")] = None,
    lag: Annotated[int, typer.Option(help="Years between context and detections.")] = 1,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Negative binomial panel of detected victims by origin and year against lagged context."""
    from tipsom.context.db import ContextStore
    from tipsom.context.panel import (
        DEFAULT_SERIES,
        add_lagged,
        covariate_name,
        detections_panel,
        fit_panel,
        write_model_outputs,
    )
    from tipsom.context.registry import detections_by_origin
    from tipsom.context.sources import ContextInputError
    from tipsom.settings import get_settings

    chosen = list(series or DEFAULT_SERIES)
    try:
        store = open_store(db, verify_key=False)
        counts, unusable = detections_by_origin(store.engine)
        panel = detections_panel(counts)
        observations = ContextStore(store).observations(chosen)
        panel, notes = add_lagged(panel, observations, chosen, lag)
        model = fit_panel(panel, [covariate_name(s, lag) for s in chosen])
    except ContextInputError as exc:
        fail(str(exc))
    if unusable:
        notes.append(f"{unusable} victims lack a country of origin or a year and are not counted.")
    model.notes[:0] = notes
    paths = write_model_outputs(model, panel, out, lag=lag,
                                suppression_threshold=get_settings().suppression_threshold)
    if not quiet:
        for e in model.estimates:
            print(f"{e.term}: IRR {e.irr:.3f} ({e.low:.3f}-{e.high:.3f})")
        print(f"wrote {', '.join(str(p) for p in paths)}")


@context_app.command("flag-cases")
def flag_cases_command(
    *,
    window_days: Annotated[int, typer.Option(help="Days before recruitment to look at.")] = 365,
    min_displaced: Annotated[float, typer.Option(help="Major disaster: people displaced.")] = 10_000,
    min_affected: Annotated[float, typer.Option(help="Major disaster: people affected.")] = 100_000,
    min_disaster_deaths: Annotated[float, typer.Option(help="Major disaster: deaths.")] = 100,
    min_conflict_deaths: Annotated[float, typer.Option(help="Conflict surge: deaths in the window.")] = 25,
    surge_ratio: Annotated[float, typer.Option(help="Conflict surge: times the previous window.")] = 2.0,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Flag victims whose country of origin had a major disaster or conflict surge before recruitment."""
    from tipsom.context.db import ContextStore
    from tipsom.context.flags import FlagRule, flag_victims
    from tipsom.context.registry import victim_origins
    from tipsom.settings import get_settings

    store = open_store(db, verify_key=False)
    context = ContextStore(store)
    events = context.events()
    if not events:
        fail("no conflict or disaster events in the store: import ucdp, acled, idmc-disasters or emdat first")
    rule = FlagRule(window_days, min_displaced, min_affected, min_disaster_deaths, min_conflict_deaths,
                    surge_ratio)
    run = flag_victims(victim_origins(store.engine), events, rule)
    filled = context.save_flags(run, get_settings().actor)
    if not quiet:
        kinds: dict[str, int] = {}
        for f in run.flags:
            kinds[f.kind.value] = kinds.get(f.kind.value, 0) + 1
        print(f"{run.victims} victims; {run.without_origin_or_date} lack an origin or recruitment date; "
              f"flags: {kinds or 'none'}; fields filled: {filled or 'none'}")


def register(root: typer.Typer) -> None:
    """Add ``tipsom context`` and its commands."""
    root.add_typer(context_app, name="context")
