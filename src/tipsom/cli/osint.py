"""Commands of the osint module: scan, cluster, report, evaluate, FtM export, synthetic ads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tipsom.cli.common import EngineOption, OnErrorOption, QuietOption, check_output_path, deprecated
from tipsom.cli.groups import synth_app
from tipsom.core.engines import Engine
from tipsom.core.errors import InputError
from tipsom.core.vocab import OnError
from tipsom.osint.choices import CrossLingual

if TYPE_CHECKING:
    from tipsom.osint.pipeline import ScanOptions
    from tipsom.osint.records import Ad

osint_app = typer.Typer(help="Screen online ads and posts and link them into networks.", no_args_is_help=True)

InputArg = Annotated[Path, typer.Argument(help="Ads: .jsonl, .csv, .warc[.gz], .html, or a folder of them.")]
RegionOption = Annotated[
    list[str] | None,
    typer.Option("--region", help="ISO country code to try for numbers without country code (repeatable)."),
]
WorkersOption = Annotated[int | None, typer.Option("--workers", help="Processes for scanning (default: cores).")]
CrossOption = Annotated[
    CrossLingual, typer.Option("--cross-lingual", help="When to use the multilingual sentence encoder."),
]


def _ads(file: Path, on_error: OnError) -> list[Ad]:
    from tipsom.osint.pipeline import BadRecordsError, load_ads

    try:
        ads, bad = load_ads(file, on_error)
    except BadRecordsError as exc:
        # The first bad record ends the command's one-line message; the others come before it.
        for record in exc.bad[1:]:
            print(f"bad record: {record}", file=sys.stderr)
        raise InputError(f"{exc.bad[0]} ({len(exc.bad)} bad record(s); nothing written, use --on-error skip "
                         "to continue without them)") from None
    for record in bad:
        print(f"skipped bad record: {record}", file=sys.stderr)
    if not ads:
        raise InputError("no ads to read", file=file)
    return ads


def _options(region: list[str] | None, workers: int | None, cross: CrossLingual) -> ScanOptions:
    from tipsom.osint.pipeline import ScanOptions

    return ScanOptions(tuple(region or ()), workers, cross)


@osint_app.command("scan")
def scan_command(
    file: InputArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="JSON Lines: one record per ad.")],
    region: RegionOption = None,
    workers: WorkersOption = None,
    cross_lingual: CrossOption = CrossLingual.AUTO,
    on_error: OnErrorOption = OnError.FAIL,
    quiet: QuietOption = False,
) -> None:
    """Write each ad's identifiers, indicators (with spans) and score."""
    from tipsom.osint.pipeline import scan_all, write_scans

    check_output_path(out)
    scans, _ = scan_all(_ads(file, on_error), _options(region, workers, cross_lingual))
    write_scans(out, scans)
    if not quiet:
        flagged = sum(1 for s in scans if s.score.category)
        print(f"scanned {len(scans)} ads ({flagged} with indicators) -> {out}")


@osint_app.command("cluster")
def cluster_command(
    file: InputArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="CSV: ad_id, cluster_id, cluster_size, link_reasons.")],
    engine: EngineOption = Engine.DUCKDB,
    profiles: Annotated[Path | None, typer.Option("--profiles", help="Cluster profiles, JSON (default: OUT with "
                                                  ".json).")] = None,
    profiles_old: Annotated[Path | None, typer.Option("--json", hidden=True, help="Old spelling of --profiles.")]
    = None,
    scan_out: Annotated[Path | None, typer.Option("--scan-out", help="Also write the per-ad scan here.")] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, max=1.0,
                                             help="Jaccard similarity for near-duplicate text.")] = 0.6,
    region: RegionOption = None,
    workers: WorkersOption = None,
    cross_lingual: CrossOption = CrossLingual.AUTO,
    on_error: OnErrorOption = OnError.FAIL,
    quiet: QuietOption = False,
) -> None:
    """Link ads sharing identifiers or near-duplicate text into clusters."""
    from tipsom.osint.linkage import LinkageSettings
    from tipsom.osint.pipeline import cluster_ads, write_clusters_csv, write_profiles_json, write_scans

    if profiles_old is not None:
        deprecated("--json PATH", "--profiles PATH")
        profiles = profiles or profiles_old
    for path in (out, profiles, scan_out):
        if path is not None:
            check_output_path(path)
    ads = _ads(file, on_error)
    run = cluster_ads(ads, engine, None, _options(region, workers, cross_lingual),
                      LinkageSettings(jaccard_threshold=threshold))
    write_clusters_csv(out, run.clustering)
    profiles_path = profiles or out.with_suffix(".json")
    write_profiles_json(profiles_path, run.profiles, {"source": str(file), "engine": engine.value,
                                                      "jaccard_threshold": threshold})
    if scan_out:
        write_scans(scan_out, run.scans)
    if not quiet:
        print(f"{len(ads)} ads -> {len(run.profiles)} clusters of 2+ ads -> {out}, {profiles_path}")


@osint_app.command("report")
def report_command(
    clusters: Annotated[Path, typer.Argument(help="Clusters CSV from `tipsom osint cluster`.")],
    ads: Annotated[Path, typer.Option("--ads", help="The ads file the clusters were made from.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for index.html, clusters.json, FtM.")],
    max_clusters: Annotated[int, typer.Option("--max-clusters", min=1, help="Clusters shown in the page.")] = 50,
    region: RegionOption = None,
    on_error: OnErrorOption = OnError.FAIL,
    quiet: QuietOption = False,
) -> None:
    """Write the HTML cluster report (timeline, map, highlighted ads) and its JSON and FtM files."""
    from tipsom.osint.report import ReportOptions, build_report

    page = build_report(clusters, _ads(ads, on_error), out, ReportOptions(max_clusters=max_clusters),
                        _options(region, None, CrossLingual.AUTO))
    if not quiet:
        print(f"report -> {page}")


@osint_app.command("evaluate")
def evaluate_command(
    clusters: Annotated[Path, typer.Argument(help="Clusters CSV (ad_id, cluster_id).")],
    truth: Annotated[Path, typer.Argument(help="Truth CSV (ad_id, operation_id[, kind]).")],
) -> None:
    """Print pairwise precision, recall and F1 of clusters against a truth file."""
    from tipsom.osint.evaluate import evaluate_files

    scores = evaluate_files(clusters, truth)
    print(scores.summary())


@osint_app.command("ftm")
def ftm_command(
    clusters: Annotated[Path, typer.Argument(help="Clusters CSV from `tipsom osint cluster`.")],
    ads: Annotated[Path, typer.Option("--ads", help="The ads file the clusters were made from.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="FollowTheMoney entities, JSON Lines.")],
    on_error: OnErrorOption = OnError.FAIL,
) -> None:
    """Export the ads, identifiers and accounts of clusters as FollowTheMoney entities."""
    from tipsom.osint.ftm import write_ftm
    from tipsom.osint.report import load_clusters

    loaded = load_clusters(clusters, _ads(ads, on_error))
    count = write_ftm(out, loaded.profiles, loaded.scans)
    print(f"{count} entities -> {out}")


@synth_app.command("ads")
def synth_ads_command(
    out: Annotated[Path, typer.Option("-o", "--out", help="Ads file (.jsonl, or .csv).")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of ads.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same ads).")] = 0,
    truth: Annotated[Path | None, typer.Option("--truth", help="Truth CSV (default: NAME.truth.csv).")] = None,
) -> None:
    """Generate ads of organised operations and independent posters, with the truth."""
    from tipsom.synth.ads import write_synthetic_ads

    ads_path, truth_path = write_synthetic_ads(out, n, seed, truth)
    print(f"{n} ads -> {ads_path}; truth -> {truth_path}")


def register(root: typer.Typer) -> None:
    """Add ``tipsom osint`` and ``tipsom synth ads``."""
    root.add_typer(osint_app, name="osint")
