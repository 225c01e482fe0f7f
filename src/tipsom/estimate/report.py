"""A plain-language HTML report of a multiple systems estimate.

Written for a ministry reader, not a statistician: the first paragraph says
how many victims there probably are and how sure we are; the comparison
table shows how much the answer depends on the method; the overlap matrix and
warnings show why. Self-contained HTML (inline SVG, inline CSS), so it opens
offline and prints to PDF.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path

from tipsom.core.render.charts import bar_svg
from tipsom.estimate.diagnostics import MethodRow
from tipsom.estimate.mse import LCMCR_METHOD, Estimate, IntervalMethod, StratumEstimate
from tipsom.estimate.table import CaptureTable, stratum_label

CSS = """
body{font-family:DejaVu Sans,Arial,sans-serif;max-width:60rem;margin:2rem auto;color:#222;line-height:1.45}
h1{color:#1f5f8b}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#eef3f7}td.num{text-align:right}
.warn{background:#fff4e5;border-left:4px solid #e69500;padding:.5rem}
.lead{font-size:1.2rem}.small{font-size:.85rem;color:#555}
"""

SOURCES = (
    "Chan, L., Silverman, B. W. and Vincent, K. (2021). Multiple systems estimation for sparse capture "
    "data: inferential challenges when there are nonoverlapping lists. JASA 116, 1297-1306.",
    "Silverman, B. W., Chan, L. and Vincent, K. (2024). Bootstrapping multiple systems estimates to "
    "account for model selection. Statistics and Computing 34.",
    "SparseMSE and MultipleSystemsEstimation R packages (B. W. Silverman and co-authors); Rcapture "
    "(Baillargeon and Rivest) for profile-likelihood intervals and BIC over hierarchical models.",
    "Fienberg, S. E. and Rinaldo, A. (2012). Maximum likelihood estimation in log-linear models. "
    "Annals of Statistics 40, 996-1023.",
)
LCMCR_SOURCE = ("Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process "
                "mixtures. Biometrics 72, 1246-1254 (R package LCMCR).")
LCMCR_LIMIT = ("<li>The latent-class (LCMCR) row is a Bayesian posterior median with a credible interval. It "
               "allows groups of victims who are harder or easier for every agency to find, but not referrals "
               "between agencies; when its convergence is 'doubtful', treat it as indicative only.</li>")


def _fmt(v: float) -> str:
    return "unbounded" if not math.isfinite(v) else f"{v:,.0f}"


def _e(text: object) -> str:
    return html.escape(str(text))


def _overlap_table(table: CaptureTable) -> str:
    m = table.overlap_matrix()
    head = "".join(f"<th>{_e(n)}</th>" for n in table.lists)
    rows = []
    for i, name in enumerate(table.lists):
        cells = []
        for j in range(table.n_lists):
            v = int(m[i, j])
            style = ' style="background:#fde2e2"' if v == 0 and i != j else ""
            cells.append(f'<td class="num"{style}>{v:,}</td>')
        rows.append(f"<tr><th>{_e(name)}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _methods_table(rows: Sequence[MethodRow]) -> str:
    body = "".join(
        f"<tr><td>{_e(r.method)}</td><td>{_e(', '.join(r.model) or 'none')}</td>"
        f'<td class="num">{_fmt(r.estimate)}</td><td class="num">{_fmt(r.low)} to {_fmt(r.high)}</td>'
        f"<td>{_e(r.interval)}</td><td>{_e(r.note)}</td></tr>"
        for r in rows
    )
    return ("<table><tr><th>method</th><th>interactions in the model</th><th>estimate</th>"
            f"<th>95% interval</th><th>interval type</th><th>note</th></tr>{body}</table>")


def _steps(result: Estimate) -> str:
    if not result.steps:
        return "<p>No interaction between lists was strong enough to enter the model.</p>"
    items = []
    for s in result.steps:
        names = ":".join(result.table.lists[i] for i in s.added)
        skipped = "".join(
            f" (skipped {_e(':'.join(result.table.lists[i] for i in t))}: {_e(c.describe())})"
            for t, c in s.skipped
        )
        items.append(f"<li>{_e(names)}, p = {s.p_value:.2g}{skipped}</li>")
    return f"<ol>{''.join(items)}</ol>"


def _strata_table(strata: Sequence[StratumEstimate]) -> str:
    rows = []
    for s in strata:
        rate = s.per_100k()
        rate_txt = f"{rate[0]:.1f} ({rate[1]:.1f} to {rate[2]:.1f})" if rate else ""
        if s.result is None:
            rows.append(f"<tr><td>{_e(stratum_label(s.stratum))}</td><td colspan=4>{_e(s.error)}</td></tr>")
            continue
        r = s.result
        rows.append(
            f"<tr><td>{_e(stratum_label(s.stratum))}</td><td class='num'>{r.observed:,}</td>"
            f"<td class='num'>{_fmt(r.total)}</td><td class='num'>{_fmt(r.interval.low)} to "
            f"{_fmt(r.interval.high)}</td><td class='num'>{rate_txt}</td></tr>"
        )
    return ("<table><tr><th>stratum</th><th>observed</th><th>estimate</th><th>interval</th>"
            f"<th>per 100,000 population</th></tr>{''.join(rows)}</table>")


def build_html(
    result: Estimate,
    methods: Sequence[MethodRow],
    strata: Sequence[StratumEstimate] = (),
    title: str = "Estimated number of victims",
) -> str:
    """The report as one self-contained HTML string."""
    r = result
    share_unseen = r.dark / r.total if r.total > 0 else 0.0
    interval_name = {IntervalMethod.WALD: "Wald", IntervalMethod.BCA: "bootstrap (BCa)",
                     IntervalMethod.PROFILE: "profile likelihood"}[r.interval_method]
    lead = (
        f"<p class='lead'>The best estimate is <b>{_fmt(r.total)}</b> victims in total, of whom "
        f"<b>{r.observed:,}</b> were known to at least one of the {r.table.n_lists} lists. "
        f"The {r.interval.level:.0%} {interval_name} interval runs from <b>{_fmt(r.interval.low)}</b> "
        f"to <b>{_fmt(r.interval.high)}</b>. About {share_unseen:.0%} of victims were probably not "
        "identified by any agency.</p>"
    )
    how = (
        "<p>Each person known to several agencies was counted once. The pattern of overlaps between "
        "lists (who appears on which combination of lists) was fitted with a Poisson log-linear model, "
        "the standard multiple systems estimation method used by the UK Home Office, UNODC and Walk Free. "
        "The model allows chosen pairs of lists to be dependent (for example when one agency refers "
        "victims to another); those pairs were selected "
        + ("step by step by the SparseMSE rule (a pair enters when its overlap is surprising at "
           f"p &lt; {r.threshold:g})." if r.selection.value == "stepwise" else
           "by the Bayesian information criterion over all hierarchical models." if r.selection.value == "bic"
           else "— here none: all lists are assumed independent.")
        + "</p>"
    )
    chart = bar_svg([f"{m.method} ({m.interval})" for m in methods], [round(m.estimate) for m in methods],
                    "Estimate by method", "people")
    warnings = "".join(f"<p class='warn'>{_e(w)}</p>" for w in r.warnings)
    infinite = (f"<p>Pairs fitted at minus infinity (they share no one): "
                f"{_e(', '.join(':'.join(r.table.lists[i] for i in t) for t in r.fit.infinite))}.</p>"
                if r.fit.infinite else "")
    strata_html = f"<h2>By stratum</h2>{_strata_table(strata)}" if strata else ""
    has_lcmcr = any(m.method == LCMCR_METHOD for m in methods)
    limits = (
        "<ul><li>The population is assumed closed during the period: no one enters or leaves.</li>"
        "<li>Linkage errors bias the estimate: missed links inflate it, false links deflate it.</li>"
        "<li>Victims whom no agency could ever identify (for example, never in contact with any "
        "service) are not represented by any model.</li>"
        "<li>Wald and profile intervals ignore the uncertainty of choosing the model; the BCa "
        "bootstrap interval includes it.</li>"
        + (LCMCR_LIMIT if has_lcmcr else "")
        + "</ul>"
    )
    cited = (*SOURCES, LCMCR_SOURCE) if has_lcmcr else SOURCES
    sources = "".join(f"<li>{_e(s)}</li>" for s in cited)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{CSS}</style></head><body>
<h1>{_e(title)}</h1>{lead}
<h2>How this was computed</h2>{how}
<h2>How much the method matters</h2>{_methods_table(methods)}{chart}
<h2>Overlaps between lists</h2><p>Number of people on both lists (diagonal: list sizes). Red cells are
pairs of lists that share no one.</p>{_overlap_table(r.table)}{infinite}{warnings}
<h2>Model selection</h2>{_steps(r)}
{strata_html}
<h2>Limits</h2>{limits}
<h2>Sources</h2><ul class="small">{sources}</ul>
<p class="small">Source table: {_e(r.table.source)}. Generated by tipsom.</p>
</body></html>"""


def write_report(
    out_dir: Path,
    result: Estimate,
    methods: Sequence[MethodRow],
    strata: Sequence[StratumEstimate] = (),
    pdf: bool = False,
) -> list[Path]:
    """Write ``index.html`` and ``estimate.json`` (and ``report.pdf``) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = build_html(result, methods, strata)
    written = [out_dir / "index.html", out_dir / "estimate.json"]
    written[0].write_text(page, encoding="utf-8")
    payload = {
        **result.to_dict(),
        "methods": [
            {"method": m.method, "model": list(m.model), "estimate": round(m.estimate, 3),
             "low": m.low if math.isfinite(m.low) else None,
             "high": m.high if math.isfinite(m.high) else None,
             "interval": m.interval}
            for m in methods
        ],
        "strata": [s.to_dict() for s in strata],
    }
    written[1].write_text(json.dumps(payload, indent=2), encoding="utf-8")
    if pdf:
        from tipsom.core.render.pdf import html_to_pdf

        written.append(html_to_pdf(page, out_dir / "report.pdf"))
    return written
