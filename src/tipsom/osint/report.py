"""The cluster report: one self-contained HTML page, plus JSON and FtM files.

The page opens offline (inline CSS and SVG charts, no scripts, fonts or map
tiles from the network). Ad URLs are shown as text, not links, so reading the
report never contacts a site under investigation. For each cluster it shows
the risk and its reasons, the consensus template, identifiers, movement, a
timeline and a map, and the ads with every identifier and indicator span
highlighted, next to each ad's evidence reference (SHA-256, URL, capture time).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from tipsom.core.cells import restore_row
from tipsom.core.render import drawn, render, timestamp
from tipsom.osint.ftm import write_ftm
from tipsom.osint.pipeline import ScanOptions, read_clusters_csv, scan_all, write_profiles_json
from tipsom.osint.profile import ClusterProfile, profile_cluster
from tipsom.osint.records import Ad, AdInputError
from tipsom.osint.scan import AdScan


@dataclass(frozen=True)
class ReportOptions:
    max_clusters: int = 50
    max_ads_per_cluster: int = 40
    #: Clusters (highest risk first) that get their own map; maps are the slow part.
    maps: int = 5


@dataclass(frozen=True)
class Mark:
    """A run of an ad's text: plain (``css`` empty), or a highlighted identifier or indicator."""

    text: str
    css: str = ""
    title: str = ""


def highlight(scan: AdScan) -> list[Mark]:
    """The ad's normalised text cut into runs, identifier and indicator spans marked.

    Runs, not HTML: the page template escapes every run, since ad text is
    written by whoever posted the ad.
    """
    spans: list[tuple[int, int, str, str]] = [
        (i.start, i.end, "id", f"{i.kind.value}: {i.value}" + (" (disguised)" if i.obfuscated else ""))
        for i in scan.identifiers
    ]
    spans += [(h.start, h.end, "ind" if h.method.value == "lexicon" else "xl",
               f"{h.indicator}" + ("" if h.method.value == "lexicon" else f" (cross-lingual {h.similarity:.2f})"))
              for h in scan.hits]
    out: list[Mark] = []
    pos = 0
    for start, end, css, title in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < pos:
            continue  # overlapping spans: the first (longest) wins
        out += [Mark(scan.text[pos:start]), Mark(scan.text[start:end], css, title)]
        pos = end
    out.append(Mark(scan.text[pos:]))
    return [m for m in out if m.text]


def _timeline(profile: ClusterProfile, scans: Sequence[AdScan]) -> Markup | None:
    from tipsom.core.render.charts import line_svg

    weeks: Counter[str] = Counter()
    for scan in scans:
        if scan.ad.posted_at:
            year, week, _ = scan.ad.posted_at.isocalendar()
            weeks[f"{year}-W{week:02d}"] += 1
    if len(weeks) < 2:
        return None
    points: dict[int | str, float] = {week: float(n) for week, n in weeks.items()}
    return drawn(line_svg({"ads per week": points}, f"{profile.cluster_id}: ads per week", "ads"))


def _map(profiles: Sequence[ClusterProfile], title: str) -> Markup | None:
    from tipsom.core.render.charts import choropleth_svg

    countries: Counter[str] = Counter()
    points: dict[tuple[float, float], int] = defaultdict(int)
    for profile in profiles:
        for _, iso3, lat, lon, n in profile.cities:
            countries[iso3] += n
            points[(lon, lat)] += n
    if not countries:
        return None
    largest = max(points.values())
    marks = [(lon, lat, 10 + 190 * n / largest) for (lon, lat), n in sorted(points.items())]
    return drawn(choropleth_svg({k: float(v) for k, v in countries.items()}, title, points=marks))


def _template_runs(profile: ClusterProfile) -> list[tuple[str, int | None]]:
    """The consensus template as literal runs and slot numbers (``{3}`` in the text is slot 3)."""
    if profile.template is None:
        return []
    slots = {s.number for s in profile.template.slots}
    runs: list[tuple[str, int | None]] = []
    for i, piece in enumerate(re.split(r"\{(\d+)\}", profile.template.text)):
        if i % 2 and int(piece) in slots:
            runs.append((piece, int(piece)))
        elif piece:
            runs.append((piece if i % 2 == 0 else f"{{{piece}}}", None))
    return runs


def _cluster_section(profile: ClusterProfile, scans: dict[str, AdScan], reasons: dict[str, str],
                     options: ReportOptions, with_map: bool) -> dict[str, object]:
    members = [scans[a] for a in profile.ad_ids]
    shown = sorted(members, key=lambda s: (s.ad.posted_at is None, s.ad.posted_at or 0, s.ad.ad_id))[
        : options.max_ads_per_cluster]
    return {
        "profile": profile,
        "reasons": [(r.signal, f"{r.contribution:.2f}", r.detail) for r in profile.reasons],
        "template": _template_runs(profile),
        "fillers": [(s.number, "; ".join(f"{t} ×{c}" for t, c in s.fillers))
                    for s in (profile.template.slots if profile.template else ())],
        "identifiers": [(k, v, n) for k, vals in profile.identifiers.items() for v, n in vals],
        "movement": [(s.city, s.country, s.first.date() if s.first else "", s.last.date() if s.last else "", s.ads)
                     for s in profile.movement],
        "prices": [(c, lo, hi) for c, (lo, hi) in profile.prices.items()],
        "timeline": _timeline(profile, members),
        "mapped": with_map,
        "map": _map([profile], f"{profile.cluster_id}: places named or posted from") if with_map else None,
        "ads": [{"meta": f"{scan.ad.ad_id} · posted {scan.ad.posted_at or 'unknown'} · {scan.language} · "
                         f"score {scan.score.score:.2f} · url {scan.ad.url} · sha256 {scan.ad.raw_sha256} · "
                         f"captured {scan.ad.captured_at or 'n/a'} · links: {reasons.get(scan.ad.ad_id, '')}",
                 "marks": highlight(scan)} for scan in shown],
        "more": len(members) - len(shown),
    }


def render_report(profiles: Sequence[ClusterProfile], scans: dict[str, AdScan], reasons: dict[str, str],
                  options: ReportOptions | None = None, title: str = "OSINT cluster report") -> str:
    """The report page for ``profiles`` (already sorted, highest risk first)."""
    options = options or ReportOptions()
    shown = list(profiles[: options.max_clusters])
    versions = next(iter(scans.values())).lexicon_versions if scans else {}
    return render(
        "tipsom.osint", "cluster_report.html", title=title, stamp=timestamp(), clusters=len(profiles),
        lexicons=", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        overall_map=_map(shown, "Places named or posted from, all shown clusters"),
        overview=[(p.cluster_id, len(p.ad_ids), f"{p.risk:.2f}", p.level.value, ", ".join(c[0] for c in p.cities[:5]),
                   p.first_seen.date() if p.first_seen else "", p.last_seen.date() if p.last_seen else "")
                  for p in shown],
        sections=[_cluster_section(p, scans, reasons, options, i < options.maps) for i, p in enumerate(shown)],
    )


@dataclass
class LoadedClusters:
    profiles: list[ClusterProfile]
    scans: dict[str, AdScan]
    reasons: dict[str, str]


def load_clusters(clusters_csv: Path, ads: Sequence[Ad], scan_options: ScanOptions | None = None) -> LoadedClusters:
    """Profiles of the clusters (two or more ads) of a clusters CSV, re-scanning their ads."""
    import csv

    mapping = read_clusters_csv(clusters_csv)
    by_id = {ad.ad_id: ad for ad in ads}
    missing = [a for a in mapping if a not in by_id]
    if missing:
        raise AdInputError(f"{clusters_csv}: {len(missing)} ad id(s) not in the ads file, e.g. {missing[0]!r}")
    groups: dict[str, list[str]] = defaultdict(list)
    for ad_id, cluster in mapping.items():
        groups[cluster].append(ad_id)
    wanted = [by_id[a] for members in groups.values() if len(members) > 1 for a in members]
    scans_list, _ = scan_all(wanted, scan_options)
    scans = {s.ad.ad_id: s for s in scans_list}
    profiles = sorted((profile_cluster(cid, [scans[a] for a in members])
                       for cid, members in groups.items() if len(members) > 1),
                      key=lambda p: (-p.risk, -len(p.ad_ids), p.cluster_id))
    with clusters_csv.open(encoding="utf-8", newline="") as fh:
        reasons = {r["ad_id"]: r.get("link_reasons", "") or "" for r in map(restore_row, csv.DictReader(fh))}
    return LoadedClusters(profiles, scans, reasons)


def build_report(clusters_csv: Path, ads: Sequence[Ad], out_dir: Path, options: ReportOptions | None = None,
                 scan_options: ScanOptions | None = None) -> Path:
    """Write ``index.html``, ``clusters.json`` and ``entities.ftm.jsonl`` into ``out_dir``."""
    loaded = load_clusters(clusters_csv, ads, scan_options)
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "index.html"
    page.write_text(render_report(loaded.profiles, loaded.scans, loaded.reasons, options), encoding="utf-8")
    write_profiles_json(out_dir / "clusters.json", loaded.profiles, {"source": str(clusters_csv)})
    write_ftm(out_dir / "entities.ftm.jsonl", loaded.profiles, loaded.scans)
    return page
