"""A plain-language HTML report of a multiple systems estimate.

Written for a ministry reader, not a statistician: the first paragraph says
how many victims there probably are and how sure we are; the comparison
table shows how much the answer depends on the method; the overlap matrix and
warnings show why. Self-contained HTML (inline SVG, inline CSS), so it opens
offline and prints to PDF.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from tipsom.core.render import drawn, html_to_pdf, render
from tipsom.core.render.charts import bar_svg
from tipsom.estimate.diagnostics import MethodRow
from tipsom.estimate.mse import LCMCR_METHOD, Estimate, IntervalMethod, StratumEstimate
from tipsom.estimate.table import stratum_label

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
INTERVAL_NAMES = {IntervalMethod.WALD: "Wald", IntervalMethod.BCA: "bootstrap (BCa)",
                  IntervalMethod.PROFILE: "profile likelihood"}


def _term(result: Estimate, term: Sequence[int]) -> str:
    return ":".join(result.table.lists[i] for i in term)


def build_html(
    result: Estimate,
    methods: Sequence[MethodRow],
    strata: Sequence[StratumEstimate] = (),
    title: str = "Estimated number of victims",
) -> str:
    """The report as one self-contained HTML page (template ``estimate_report.html``)."""
    has_lcmcr = any(m.method == LCMCR_METHOD for m in methods)
    chart = bar_svg([f"{m.method} ({m.interval})" for m in methods], [round(m.estimate) for m in methods],
                    "Estimate by method", "people")
    return render(
        "tipsom.estimate", "estimate_report.html", title=title, result=result, methods=methods,
        interval_name=INTERVAL_NAMES[result.interval_method],
        share_unseen=result.dark / result.total if result.total > 0 else 0.0,
        chart=drawn(chart),
        overlaps=[[int(v) for v in row] for row in result.table.overlap_matrix()],
        infinite=[_term(result, t) for t in result.fit.infinite],
        steps=[{"names": _term(result, s.added), "p_value": s.p_value,
                "skipped": [(_term(result, t), c.describe()) for t, c in s.skipped]} for s in result.steps],
        strata=[{"label": stratum_label(s.stratum), "result": s.result, "error": s.error or "", "rate": s.per_100k()}
                for s in strata],
        has_lcmcr=has_lcmcr, sources=(*SOURCES, LCMCR_SOURCE) if has_lcmcr else SOURCES,
    )


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
        written.append(html_to_pdf(page, out_dir / "report.pdf"))
    return written
