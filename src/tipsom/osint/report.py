"""The cluster report: one self-contained HTML page, plus JSON and FtM files.

The page opens offline (inline CSS and SVG charts, no scripts, fonts or map
tiles from the network). Ad URLs are shown as text, not links, so reading the
report never contacts a site under investigation. For each cluster it shows
the risk and its reasons, the consensus template, identifiers, movement, a
timeline and a map, and the ads with every identifier and indicator span
highlighted, next to each ad's evidence reference (SHA-256, URL, capture time).
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tipsom.core.cells import restore_row
from tipsom.osint.ftm import write_ftm
from tipsom.osint.pipeline import ScanOptions, read_clusters_csv, scan_all, write_profiles_json
from tipsom.osint.profile import ClusterProfile, profile_cluster
from tipsom.osint.records import Ad, AdInputError
from tipsom.osint.scan import AdScan

_CSS = """
body{font-family:DejaVu Sans,Arial,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.6em}h2{border-bottom:2px solid #1f5f8b;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#eef3f7}.high{color:#b30000;font-weight:bold}
.medium{color:#b36b00;font-weight:bold}.low{color:#2b6e2b}mark.id{background:#cfe3ff}
mark.ind{background:#ffe08a}mark.xl{background:#ffd0e0}.ad{border:1px solid #ddd;padding:.5em;margin:.5em 0;
font-size:.9em;white-space:pre-wrap}.meta{color:#666;font-size:.8em;font-family:monospace;word-break:break-all}
.template{font-family:monospace;background:#f6f6f6;padding:.5em}.slot{color:#1f5f8b;font-weight:bold}
.note{color:#555;font-size:.85em}svg{max-width:100%;height:auto}
"""


@dataclass(frozen=True)
class ReportOptions:
    max_clusters: int = 50
    max_ads_per_cluster: int = 40
    #: Clusters (highest risk first) that get their own map; maps are the slow part.
    maps: int = 5


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def highlight(scan: AdScan) -> str:
    """The ad's normalised text as HTML, with identifier and indicator spans marked."""
    spans: list[tuple[int, int, str, str]] = [
        (i.start, i.end, "id", f"{i.kind.value}: {i.value}" + (" (disguised)" if i.obfuscated else ""))
        for i in scan.identifiers
    ]
    spans += [(h.start, h.end, "ind" if h.method.value == "lexicon" else "xl",
               f"{h.indicator}" + ("" if h.method.value == "lexicon" else f" (cross-lingual {h.similarity:.2f})"))
              for h in scan.hits]
    out: list[str] = []
    pos = 0
    for start, end, css, title in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < pos:
            continue  # overlapping spans: the first (longest) wins
        out.append(_esc(scan.text[pos:start]))
        out.append(f'<mark class="{css}" title="{_esc(title)}">{_esc(scan.text[start:end])}</mark>')
        pos = end
    out.append(_esc(scan.text[pos:]))
    return "".join(out)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _timeline(profile: ClusterProfile, scans: Sequence[AdScan]) -> str:
    from tipsom.core.render.charts import line_svg

    weeks: Counter[str] = Counter()
    for scan in scans:
        if scan.ad.posted_at:
            year, week, _ = scan.ad.posted_at.isocalendar()
            weeks[f"{year}-W{week:02d}"] += 1
    if len(weeks) < 2:
        return '<p class="note">Too few dated ads for a timeline.</p>'
    points: dict[int | str, float] = {week: float(n) for week, n in weeks.items()}
    return line_svg({"ads per week": points}, f"{profile.cluster_id}: ads per week", "ads")


def _map(profiles: Sequence[ClusterProfile], title: str) -> str:
    from tipsom.core.render.charts import choropleth_svg

    countries: Counter[str] = Counter()
    points: dict[tuple[float, float], int] = defaultdict(int)
    for profile in profiles:
        for _, iso3, lat, lon, n in profile.cities:
            countries[iso3] += n
            points[(lon, lat)] += n
    if not countries:
        return '<p class="note">No known places in these ads.</p>'
    largest = max(points.values())
    marks = [(lon, lat, 10 + 190 * n / largest) for (lon, lat), n in sorted(points.items())]
    return choropleth_svg({k: float(v) for k, v in countries.items()}, title, points=marks)


def _template_html(profile: ClusterProfile) -> str:
    template = profile.template
    if template is None:
        return ""
    text = _esc(template.text)
    for slot in template.slots:
        text = text.replace(f"{{{slot.number}}}", f'<span class="slot">[{slot.number}]</span>')
    rows = [(s.number, "; ".join(f"{t} ×{c}" for t, c in s.fillers)) for s in template.slots]
    return (f"<h3>Template (covers {template.coverage:.0%} of the words of {template.ads_aligned} ads)</h3>"
            f'<div class="template">{text}</div>' + (_table(["slot", "what the ads put there"], rows) if rows else ""))


def _cluster_section(profile: ClusterProfile, scans: dict[str, AdScan], reasons: dict[str, str],
                     options: ReportOptions, with_map: bool) -> str:
    members = [scans[a] for a in profile.ad_ids]
    parts = [
        f'<h2 id="{_esc(profile.cluster_id)}">{_esc(profile.cluster_id)}: {len(members)} ads, '
        f'risk <span class="{profile.level.value}">{profile.risk:.2f} ({profile.level.value})</span></h2>',
        _table(["signal", "contribution", "why"], [(r.signal, f"{r.contribution:.2f}", r.detail)
                                                   for r in profile.reasons]),
        _template_html(profile),
        "<h3>Identifiers</h3>",
        _table(["kind", "value", "ads"], [(k, v, n) for k, vals in profile.identifiers.items() for v, n in vals]),
        "<h3>Movement</h3>",
        _table(["city", "country", "from", "to", "ads"],
               [(s.city, s.country, s.first.date() if s.first else "", s.last.date() if s.last else "", s.ads)
                for s in profile.movement]),
        _table(["currency", "lowest", "highest"], [(c, lo, hi) for c, (lo, hi) in profile.prices.items()]),
        _timeline(profile, members),
    ]
    if with_map:
        parts.append(_map([profile], f"{profile.cluster_id}: places named or posted from"))
    parts.append("<h3>Ads</h3>")
    for scan in sorted(members, key=lambda s: (s.ad.posted_at is None, s.ad.posted_at or 0, s.ad.ad_id))[
            : options.max_ads_per_cluster]:
        ad = scan.ad
        meta = (f"{_esc(ad.ad_id)} · posted {_esc(ad.posted_at or 'unknown')} · {_esc(scan.language)} · "
                f"score {scan.score.score:.2f} · url {_esc(ad.url)} · sha256 {_esc(ad.raw_sha256)} · "
                f"captured {_esc(ad.captured_at or 'n/a')} · links: {_esc(reasons.get(ad.ad_id, ''))}")
        parts.append(f'<div class="ad"><div class="meta">{meta}</div>{highlight(scan)}</div>')
    if len(members) > options.max_ads_per_cluster:
        parts.append(f'<p class="note">{len(members) - options.max_ads_per_cluster} more ads in clusters.json.</p>')
    return "\n".join(parts)


def render_report(profiles: Sequence[ClusterProfile], scans: dict[str, AdScan], reasons: dict[str, str],
                  options: ReportOptions | None = None, title: str = "OSINT cluster report") -> str:
    """The report page for ``profiles`` (already sorted, highest risk first)."""
    options = options or ReportOptions()
    shown = list(profiles[: options.max_clusters])
    versions = next(iter(scans.values())).lexicon_versions if scans else {}
    overview = _table(
        ["cluster", "ads", "risk", "level", "cities", "first seen", "last seen"],
        [(p.cluster_id, len(p.ad_ids), f"{p.risk:.2f}", p.level.value, ", ".join(c[0] for c in p.cities[:5]),
          p.first_seen.date() if p.first_seen else "", p.last_seen.date() if p.last_seen else "")
         for p in shown],
    )
    sections = [_cluster_section(p, scans, reasons, options, i < options.maps) for i, p in enumerate(shown)]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{_esc(title)}</h1>
<p class="note">Generated {stamp} by tipsom. {len(profiles)} clusters of two or more ads; the {len(shown)}
highest-risk are shown. Lexicons: {_esc(", ".join(f"{k} {v}" for k, v in sorted(versions.items())))}.
Indicators and risk scores point analysts to ads worth reading; they are not evidence of an offence.
Highlights: <mark class="id">identifier</mark> <mark class="ind">indicator</mark>
<mark class="xl">cross-lingual indicator</mark>. URLs are not links, so reading this page contacts no site.</p>
{_map(shown, "Places named or posted from, all shown clusters")}
<h2>Clusters</h2>
{overview}
{"".join(sections)}
</body></html>
"""


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
