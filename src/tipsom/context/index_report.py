"""Write the index's outputs: ranked tables with intervals, Sobol indices, map and charts.

CSV files are for further analysis; ``index.html`` (and optionally a PDF) is
the self-contained report with an offline choropleth from the Natural Earth
boundaries shipped with tipsom, or from the user's admin-1 boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from tipsom.context.countries import country_name
from tipsom.context.index import IndexResult
from tipsom.context.spec import IndexSpec, UnitLevel
from tipsom.context.uncertainty import UncertaintyResult
from tipsom.core.cells import neutral_frame
from tipsom.core.render import drawn, html_to_pdf, render
from tipsom.core.render.charts import ATTRIBUTION, bar_svg, choropleth_svg, figure_svg

#: Units shown in the interval chart (the table lists all).
CHART_UNITS = 30


@dataclass(frozen=True)
class IndexOutputs:
    table: Path
    indicators: Path
    sobol: Path
    html: Path
    pdf: Path | None


def _fmt(value: float, digits: int = 2) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def combined_table(result: IndexResult, uncertainty: UncertaintyResult, spec: IndexSpec) -> pd.DataFrame:
    """The nominal index joined with the rank intervals, most vulnerable first."""
    table = result.table.merge(uncertainty.ranks.drop(columns=["rank"]), on="unit", how="left")
    if spec.unit is UnitLevel.COUNTRY:
        table.insert(1, "name", [country_name(u) for u in table["unit"]])
    else:
        table.insert(1, "name", table["unit"])
    return table.sort_values(["rank", "unit"], na_position="last").reset_index(drop=True)


def interval_svg(table: pd.DataFrame) -> str:
    """Nominal rank (dot) with the 90% interval (bar) and full range (thin line) for the top units."""
    top = table.dropna(subset=["rank"]).head(CHART_UNITS)
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.25 * len(top) + 1)))
    y = np.arange(len(top))
    ax.hlines(y, top["rank_min"], top["rank_max"], color="#bbbbbb", linewidth=1)
    ax.hlines(y, top["rank_p05"], top["rank_p95"], color="#1f5f8b", linewidth=4)
    ax.plot(top["rank"], y, "o", color="#b30000", markersize=4)
    ax.set_yticks(y, list(top["name"]))
    ax.invert_yaxis()
    ax.set_xlabel("rank (1 = most vulnerable): dot nominal, bar 90% interval, line full range")
    ax.set_title("Rank intervals")
    return figure_svg(fig)


def write_index_outputs(
    result: IndexResult,
    uncertainty: UncertaintyResult,
    spec: IndexSpec,
    out_dir: Path,
    *,
    year: int,
    boundaries_shp: Path | None = None,
    pdf: bool = False,
) -> IndexOutputs:
    """Write CSVs and the HTML (and PDF) report into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = combined_table(result, uncertainty, spec)
    table_path = out_dir / "index.csv"
    neutral_frame(table).to_csv(table_path, index=False)
    by_code = {i.code: i for i in spec.indicators}
    audits = pd.DataFrame([a.__dict__ | {"treatment": a.treatment.value} for a in result.prepared.audits])
    audit_path = out_dir / "indicators.csv"
    neutral_frame(audits).to_csv(audit_path, index=False)
    sobol_path = out_dir / "sobol.csv"
    neutral_frame(uncertainty.sobol).to_csv(sobol_path, index=False)

    scored = table.dropna(subset=["index"])
    values = {str(u): float(v) for u, v in zip(scored["unit"], scored["index"], strict=True)}
    map_svg = choropleth_svg(values, f"{spec.name}, {year}", boundaries=boundaries_shp)
    dims = list(result.prepared.structure.dimensions)
    rows = [{
        "rank": "" if math.isnan(r["rank"]) else int(r["rank"]),
        "name": r["name"], "index": _fmt(r["index"]),
        "interval": "" if math.isnan(r["rank"]) else f"{int(r['rank_p05'])}-{int(r['rank_p95'])}",
        "range": "" if math.isnan(r["rank"]) else f"{int(r['rank_min'])}-{int(r['rank_max'])}",
        "dims": [_fmt(r[d]) for d in dims], "coverage": f"{r['coverage']:.0%}",
        "reliability": r["reliability"], "missing": r["missing_indicators"],
    } for r in table.to_dict("records")]
    sobol_rows = [{k: (_fmt(v, 3) if isinstance(v, float) else v) for k, v in s.items()}
                  for s in uncertainty.sobol.to_dict("records")]
    audit_rows = []
    for a in result.prepared.audits:
        ind = by_code[a.code]
        shape = f"{a.skew:.2f} / {a.kurtosis:.2f}" if a.skew is not None and a.kurtosis is not None else ""
        treatment = a.treatment.value + (f" ({a.winsorised_points} points)" if a.winsorised_points else "")
        audit_rows.append({
            "code": a.code, "name": ind.name, "dimension": ind.dimension, "direction": ind.direction.value,
            "weight": f"{ind.weight:g}", "values": a.values, "shape": shape,
            "treatment": treatment if a.included else f"left out: {a.note}", "source": ind.source,
        })
    html = render(
        "tipsom.context", "index_report.html",
        spec=spec, year=year, units=len(table), scored=len(scored), runs=uncertainty.runs,
        seed=uncertainty.seed, map_svg=drawn(map_svg), interval_svg=drawn(interval_svg(table)),
        sobol_svg=drawn(bar_svg(list(uncertainty.sobol["choice"]),
                          [round(float(v), 3) for v in uncertainty.sobol["ST"]],
                          "Total Sobol index of the mean rank shift", "share of variance")),
        dimensions=dims, rows=rows, sobol=sobol_rows, audits=audit_rows, notes=result.notes,
        spread=round(spec.uncertainty.weight_spread * 100), attribution=ATTRIBUTION,
    )
    html_path = out_dir / "index.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = html_to_pdf(html, out_dir / "index.pdf")
    return IndexOutputs(table_path, audit_path, sobol_path, html_path, pdf_path)
