"""``tipsom estimate``: capture histories and multiple systems estimation.

Each command is a thin layer over :mod:`tipsom.estimate`; numpy, scipy,
pandas and Splink are imported inside the commands so ``tipsom --help`` stays
fast.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tipsom.cli.common import DbOption, EngineOption, JsonOption, QuietOption, fail, open_store, progress_bar
from tipsom.cli.groups import synth_app
from tipsom.core.cells import neutral_frame
from tipsom.core.errors import ExitCode
from tipsom.core.vocab import Engine, Language

if TYPE_CHECKING:
    from tipsom.estimate.lcmcr import Posterior, SamplerSettings
    from tipsom.estimate.mse import StratumEstimate

estimate_app = typer.Typer(help="Estimate the hidden number of victims (multiple systems estimation). "
                           "With no command: estimate from the registry (same as 'tipsom estimate registry').",
                           invoke_without_command=True)

MethodOption = Annotated[str, typer.Option("--method", help="Model selection: stepwise, bic or main.")]
ThresholdOption = Annotated[float, typer.Option("--threshold", help="p-value threshold of stepwise.")]
MaxOrderOption = Annotated[int, typer.Option("--max-order", help="Highest interaction order (bic).")]
IntervalOption = Annotated[str, typer.Option("--interval", help="Interval: wald, bca or profile.")]
BootstrapOption = Annotated[int, typer.Option("--bootstrap", help="Bootstrap replicates (bca).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed of the bootstrap.")]
StrataOption = Annotated[str, typer.Option("--strata", help="Strata columns, e.g. sex,age_group.")]
LinkThresholdOption = Annotated[float, typer.Option("--threshold", help="Match probability that links.")]
RECORDS_HELP = ("CSV of records: record_id, list_name, given_name, family_name, birth_date, age, sex, "
                "citizenship, pseudonym, region, year.")
PopulationOption = Annotated[
    str, typer.Option("--population", help="Population, or a CSV with strata columns and 'population'.")
]


def _split(strata: str) -> list[str]:
    return [s.strip() for s in strata.split(",") if s.strip()]


def _options(method: str, interval: str, *, threshold: float, max_order: int, bootstrap: int, seed: int,
             level: float) -> dict[str, Any]:
    from tipsom.estimate.mse import IntervalMethod, Selection

    try:
        sel = Selection(method)
    except ValueError:
        fail(f"--method must be one of {[s.value for s in Selection]}, got {method!r}", ExitCode.USAGE)
    try:
        itv = IntervalMethod(interval)
    except ValueError:
        fail(f"--interval must be one of {[i.value for i in IntervalMethod]}, got {interval!r}",
             ExitCode.USAGE)
    return {"selection": sel, "interval": itv, "threshold": threshold, "max_order": max_order,
            "replicates": bootstrap, "seed": seed, "level": level}


def _populations(population: str, strata: list[str]) -> dict[tuple[tuple[str, str], ...], float] | None:
    from tipsom.estimate.table import read_population

    if not population:
        return None
    try:
        value = float(population)
    except ValueError:
        value = None
    if value is not None:
        if strata:
            fail("--population with --strata needs a CSV with the strata columns and 'population'", ExitCode.USAGE)
        if not math.isfinite(value) or value <= 0:
            fail(f"--population must be a positive finite number, got {population!r}", ExitCode.USAGE)
        return {(): value}
    path = Path(population)
    if not path.exists():
        fail(f"--population: {population!r} is neither a number nor an existing CSV file")
    return dict(read_population(path, strata))


def _run(file: Path, strata: list[str], population: str, options: dict[str, Any]) -> list[StratumEstimate]:
    from tipsom.estimate.mse import estimate_strata
    from tipsom.estimate.table import CaptureTableError, read_csv

    try:
        tables = read_csv(file, strata)
        pops = _populations(population, strata)
        results = estimate_strata(tables, pops, **options)
    except CaptureTableError as exc:
        fail(str(exc))
    error = results[0].error
    if not strata and error:
        fail(error if error.startswith(f"{file}:") else f"{file}: {error}")
    return results


@estimate_app.callback()
def estimate_default(ctx: typer.Context) -> None:
    """With no command, estimate from the registry with the defaults of ``tipsom estimate registry``."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(registry_command)


ByOption = Annotated[str, typer.Option("--by", help="One list per agency-type (default) or per agency.")]
GroupsOption = Annotated[Path | None, typer.Option("--groups", help="CSV organisation,list mapping "
                                                                    "organisations to lists.")]
LinkageOption = Annotated[str, typer.Option("--linkage", help="exact (keyed pseudonyms, nothing decrypted) or "
                                                              "probabilistic (Splink; decrypts names, audited).")]


def _list_by(by: str) -> Any:
    from tipsom.estimate.store_histories import ListBy

    try:
        return ListBy(by)
    except ValueError:
        fail(f"--by must be one of {[b.value for b in ListBy]}, got {by!r}", ExitCode.USAGE)


def _linkage(linkage: str) -> Any:
    from tipsom.estimate.store_histories import Linkage

    try:
        return Linkage(linkage)
    except ValueError:
        fail(f"--linkage must be exact or probabilistic, got {linkage!r}", ExitCode.USAGE)


@estimate_app.command("registry")
def registry_command(
    *,
    method: MethodOption = "stepwise",
    threshold: ThresholdOption = 0.02,
    interval: IntervalOption = "wald",
    bootstrap: BootstrapOption = 1000,
    seed: SeedOption = 1234,
    strata: Annotated[str, typer.Option("--strata", help="Strata: any of sex,age_group,region.")] = "",
    by: ByOption = "agency-type",
    groups: GroupsOption = None,
    linkage: LinkageOption = "exact",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Estimate the registry's victims, seen and unseen: lists by agency type, stratified on request."""
    from tipsom.estimate.registry import estimate_registry
    from tipsom.settings import get_settings

    options = _options(method, interval, threshold=threshold, max_order=2, bootstrap=bootstrap, seed=seed,
                       level=0.95)
    names = _split(strata)
    store = open_store(db, verify_key=False)  # exact linkage reads pseudonyms only and needs no data key
    try:
        result = estimate_registry(store, strata=names, by=_list_by(by), groups=groups, linkage=_linkage(linkage),
                                   actor=get_settings().actor, **options)
    finally:
        store.dispose()
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    e = result.pooled
    print(f"lists ({result.by.value}): {', '.join(e.table.lists)}")
    print(f"observed {e.observed:,}; estimate {e.total:,.0f}; {e.interval_method.value} {e.interval.level:.0%} "
          f"interval {e.interval.low:,.0f} to {e.interval.high:,.0f}")
    print(f"model: {', '.join(e.model_names()) or 'main effects only'}")
    for w in e.warnings:
        print(f"warning: {w}")
    for s in result.strata:
        head = ", ".join(f"{k}={v}" for k, v in s.stratum)
        if s.result is None:
            print(f"[{head}] no estimate: {s.error}")
        else:
            print(f"[{head}] observed {s.result.observed:,}; estimate {s.result.total:,.0f} "
                  f"({s.result.interval.low:,.0f} to {s.result.interval.high:,.0f})")
    if result.strata:
        missing = f" (without {'; '.join(result.strata_missing)}: no estimate there)" if result.strata_missing \
            else ""
        print(f"sum of the strata estimates: {result.strata_sum:,.0f}{missing}; pooled estimate {e.total:,.0f}")


@estimate_app.command("mse")
def mse_command(
    file: Annotated[Path, typer.Argument(help="Capture-history CSV: one 0/1 column per list plus 'count'.")],
    *,
    method: MethodOption = "stepwise",
    threshold: ThresholdOption = 0.02,
    max_order: MaxOrderOption = 2,
    interval: IntervalOption = "wald",
    bootstrap: BootstrapOption = 1000,
    seed: SeedOption = 1234,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    strata: StrataOption = "",
    population: PopulationOption = "",
    as_json: JsonOption = False,
) -> None:
    """Estimate the total number of victims, seen and unseen, from a capture-history table."""
    names = _split(strata)
    options = _options(method, interval, threshold=threshold, max_order=max_order, bootstrap=bootstrap,
                       seed=seed, level=level)
    results = _run(file, names, population, options)
    if as_json:
        payload: Any = [r.to_dict() for r in results] if names else results[0].to_dict()
        print(json.dumps(payload, indent=2))
        return
    for r in results:
        head = f"[{', '.join(f'{k}={v}' for k, v in r.stratum)}] " if names else ""
        if r.result is None:
            print(f"{head}no estimate: {r.error}")
            continue
        e = r.result
        print(f"{head}observed {e.observed:,}; estimate {e.total:,.2f}; {e.interval_method.value} "
              f"{e.interval.level:.0%} interval {e.interval.low:,.0f} to {e.interval.high:,.0f}")
        print(f"{head}model: {', '.join(e.model_names()) or 'main effects only'}")
        rate = r.per_100k()
        if rate:
            print(f"{head}per 100,000 population: {rate[0]:.2f} ({rate[1]:.2f} to {rate[2]:.2f})")
        for w in e.warnings:
            print(f"{head}warning: {w}")


def _sampler(classes: int, burn_in: int, samples: int, thinning: int, chains: int, seed: int) -> SamplerSettings:
    from tipsom.estimate.lcmcr import LcmcrError, SamplerSettings

    try:
        return SamplerSettings(classes=classes, burn_in=burn_in, samples=samples, thinning=thinning, chains=chains,
                               seed=seed)
    except LcmcrError as exc:
        fail(str(exc), ExitCode.USAGE)


def _print_posterior(head: str, post: Posterior) -> None:
    ci = post.interval
    print(f"{head}observed {post.observed:,}; estimate {post.total:,.0f} (posterior median; mean {post.mean:,.0f}); "
          f"{ci.level:.0%} credible interval {ci.low:,.0f} to {ci.high:,.0f}")
    print(f"{head}convergence {post.convergence.value}: split R-hat {post.rhat:.3f}, effective sample size "
          f"{post.ess:,.0f} of {post.draws.size:,} draws; median of each chain "
          f"{', '.join(f'{m:,.0f}' for m in post.chain_medians)}")
    for w in post.warnings:
        print(f"{head}warning: {w}")


@estimate_app.command("lcmcr")
def lcmcr_command(
    file: Annotated[Path, typer.Argument(help="Capture-history CSV: one 0/1 column per list plus 'count'.")],
    *,
    classes: Annotated[int, typer.Option("--classes", "-K", help="Most latent classes (truncation).")] = 10,
    burn_in: Annotated[int, typer.Option("--burn-in", help="Sweeps discarded at the start of each chain.")] = 10_000,
    samples: Annotated[int, typer.Option("--samples", help="Posterior draws kept per chain.")] = 1_000,
    thinning: Annotated[int, typer.Option("--thinning", help="Sweeps per kept draw.")] = 10,
    chains: Annotated[int, typer.Option("--chains", help="Independent chains (for R-hat).")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1234,
    level: Annotated[float, typer.Option("--level", help="Credible level.")] = 0.95,
    strata: StrataOption = "",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Bayesian latent-class estimate (LCMCR) for victims with different chances of being identified."""
    from tipsom.estimate.lcmcr import LcmcrError, lcmcr
    from tipsom.estimate.table import CaptureTableError, read_csv, stratum_label

    settings = _sampler(classes, burn_in, samples, thinning, chains, seed)
    if not 0 < level < 1:
        fail(f"--level must be between 0 and 1, got {level}", ExitCode.USAGE)
    names = _split(strata)
    try:
        tables = read_csv(file, names)
    except CaptureTableError as exc:
        fail(str(exc))
    results: list[tuple[tuple[tuple[str, str], ...], Posterior | str]] = []
    for key in sorted(tables):
        label = f"sampling {stratum_label(key)}" if names else "sampling"
        try:
            with progress_bar(quiet, label) as tick:
                results.append((key, lcmcr(tables[key], settings, level=level, progress=tick)))
        except LcmcrError as exc:
            if not names:
                fail(str(exc))
            results.append((key, str(exc)))
    if as_json:
        payload = [post.to_dict() if not isinstance(post, str) else {"stratum": dict(key), "error": post}
                   for key, post in results]
        print(json.dumps(payload if names else payload[0], indent=2))
        return
    for key, post in results:
        head = f"[{stratum_label(key)}] " if names else ""
        if isinstance(post, str):
            print(f"{head}no estimate: {post}")
        else:
            _print_posterior(head, post)


@estimate_app.command("dga")
def dga_command(
    file: Annotated[Path, typer.Argument(help="Capture-history CSV with 3 to 5 lists.")],
    *,
    prior_delta: Annotated[float | None, typer.Option("--prior-delta", help="Hyper-Dirichlet weight of each "
                                                                             "cell (default 2^-lists).")] = None,
    prior_n: Annotated[str, typer.Option("--prior-n", help="Prior on N: lambda (1/N) or uniform.")] = "lambda",
    level: Annotated[float, typer.Option("--level", help="Credible level.")] = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Bayesian model averaging over decomposable graphical models (Madigan and York; R package dga)."""
    from tipsom.estimate.dga import PriorN, dga
    from tipsom.estimate.table import read_table

    try:
        prior = PriorN(prior_n)
    except ValueError:
        fail(f"--prior-n must be one of {[p.value for p in PriorN]}, got {prior_n!r}", ExitCode.USAGE)
    if prior_delta is not None and not (math.isfinite(prior_delta) and prior_delta > 0):
        fail(f"--prior-delta must be a positive finite number, got {prior_delta}", ExitCode.USAGE)
    if not 0 < level < 1:
        fail(f"--level must be between 0 and 1, got {level}", ExitCode.USAGE)
    post = dga(read_table(file), delta=prior_delta, prior_n=prior, level=level)
    if as_json:
        print(json.dumps(post.to_dict(), indent=2))
        return
    ci = post.interval
    print(f"observed {post.observed:,}; estimate {post.total:,.0f} (posterior median, averaged over "
          f"{post.n_models} decomposable graphs); {ci.level:.0%} credible interval {ci.low:,.0f} to {ci.high:,.0f}")
    for m in post.models:
        print(f"  {m.probability:6.1%}  median {m.median:,.0f}  {', '.join(m.edges) or 'independent lists'}")


@estimate_app.command("report")
def report_command(
    file: Annotated[Path, typer.Argument(help="Capture-history CSV.")],
    *,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")],
    method: MethodOption = "stepwise",
    threshold: ThresholdOption = 0.02,
    interval: IntervalOption = "bca",
    bootstrap: BootstrapOption = 1000,
    seed: SeedOption = 1234,
    strata: StrataOption = "",
    population: PopulationOption = "",
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf.")] = False,
    with_lcmcr: Annotated[bool, typer.Option("--lcmcr", help="Add the Bayesian latent-class estimate "
                                                             "(LCMCR, default sampler settings).")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Languages of the four-method comparison page, comma-"
                                                     f"separated: any of {','.join(Language)}.")] = ",".join(Language),
) -> None:
    """Write a plain-language HTML report (index.html, estimate.json) comparing methods, and one page per
    language (comparison.<lang>.html) with stepwise, BIC, LCMCR and dga side by side."""
    from tipsom.estimate.comparison import comparison_rows, write_comparison
    from tipsom.estimate.lcmcr import SamplerSettings
    from tipsom.estimate.mse import Selection, compare_methods, estimate
    from tipsom.estimate.report import write_report
    from tipsom.estimate.table import CaptureTableError, read_table

    options = _options(method, interval, threshold=threshold, max_order=2, bootstrap=bootstrap, seed=seed,
                       level=0.95)
    try:
        languages = [Language(code) for code in _split(lang)]
    except ValueError:
        fail(f"--lang must be a comma-separated list of {[x.value for x in Language]}, got {lang!r}", ExitCode.USAGE)
    try:
        table = read_table(file)
        overall = estimate(table, **options)
        replicates = bootstrap if options["interval"].value == "bca" else 0
        sampler = SamplerSettings(seed=seed) if with_lcmcr else None
        methods = compare_methods(table, threshold, replicates=replicates, seed=seed, bootstrapped=overall,
                                  lcmcr_settings=sampler)
    except (CaptureTableError, ValueError) as exc:
        fail(str(exc))
    names = _split(strata)
    by_stratum = _run(file, names, population, options) if names else []
    reuse = overall.interval if overall.selection is Selection.STEPWISE else None
    rows = comparison_rows(table, threshold=threshold, seed=seed, stepwise_interval=reuse)
    for path in [*write_report(out, overall, methods, by_stratum, pdf), *write_comparison(out, table, rows,
                                                                                         languages, pdf)]:
        print(path)


@estimate_app.command("link")
def link_command(
    records: Annotated[Path, typer.Argument(help=RECORDS_HELP)],
    *,
    out: Annotated[Path, typer.Option("-o", "--out", help="Capture-history CSV to write.")],
    strata: StrataOption = "",
    threshold: LinkThresholdOption = 0.8,
    review_floor: Annotated[float, typer.Option("--review-floor", help="Pairs from here up to --threshold "
                                                                       "go to review.")] = 0.5,
    review: Annotated[Path | None, typer.Option("--review", help="Write the review queue here.")] = None,
    engine: EngineOption = Engine.DUCKDB,
    quiet: QuietOption = False,
) -> None:
    """Link agency records of the same person and write the capture-history table."""
    import pandas as pd

    from tipsom.estimate.histories import capture_histories
    from tipsom.estimate.linkage import LinkageInputError, link

    try:
        frame = pd.read_csv(records, dtype={"record_id": str, "pseudonym": str})
        result = link(frame, threshold=threshold, review_floor=review_floor, engine=engine,
                      source=str(records))
        table = capture_histories(frame, result.persons, _split(strata))
    except (LinkageInputError, ValueError, OSError) as exc:
        fail(str(exc))
    neutral_frame(table).to_csv(out, index=False)
    if review is not None:
        neutral_frame(result.review_queue()).to_csv(review, index=False)
    if not quiet:
        print(f"{len(frame):,} records, {result.persons.nunique():,} people, "
              f"{len(result.review_queue()):,} pairs for review; wrote {out}")


@estimate_app.command("histories")
def histories_command(
    *,
    out: Annotated[Path, typer.Option("-o", "--out", help="Capture-history CSV to write.")],
    strata: StrataOption = "",
    by: ByOption = "agency-type",
    groups: GroupsOption = None,
    linkage: LinkageOption = "exact",
    threshold: LinkThresholdOption = 0.8,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> None:
    """Build the capture-history table from the registry's identification records."""
    from tipsom.estimate.store_histories import histories_from_store
    from tipsom.settings import get_settings

    store = open_store(db, verify_key=False)  # exact linkage reads pseudonyms only and needs no data key
    try:
        table = histories_from_store(store, _split(strata), groups, by=_list_by(by), linkage=_linkage(linkage),
                                     threshold=threshold, actor=get_settings().actor)
    finally:
        store.dispose()
    neutral_frame(table).to_csv(out, index=False)
    if not quiet:
        print(f"{int(table['count'].sum()):,} people in {len(table):,} capture histories; wrote {out}")


@synth_app.command("linkage")
def synth_linkage_command(
    *,
    out: Annotated[Path, typer.Option("-o", "--out", help="CSV of synthetic agency records.")],
    persons: Annotated[int, typer.Option("--persons", help="Synthetic people (seen and unseen).")] = 2000,
    lists: Annotated[int, typer.Option("--lists", help="Number of agency lists (2-6).")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    truth: Annotated[bool, typer.Option("--truth/--no-truth", help="Include the true person_id.")] = True,
) -> None:
    """Generate agency lists of synthetic people with typos, transliterations and a known linkage truth."""
    import dataclasses

    import pandas as pd

    from tipsom.synth.linkage import generate

    try:
        rows = generate(persons, lists, seed)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows])
    if not truth:
        frame = frame.drop(columns=["person_id"])
    neutral_frame(frame).to_csv(out, index=False)
    print(f"{len(frame):,} records of {frame['list_name'].nunique()} lists; wrote {out}")


def register(root: typer.Typer) -> None:
    """Add ``tipsom estimate`` and ``tipsom synth linkage``."""
    root.add_typer(estimate_app, name="estimate")
