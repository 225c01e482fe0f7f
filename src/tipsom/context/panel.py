"""Detected victims against lagged context: a negative binomial panel with country and year effects.

The question is whether detections from a country rise after its conflict,
displacement or disasters rise. Counts of detected victims by country of
origin and year come from the registry; each context series enters lagged (the
value ``lag`` years earlier) as log2(1 + value), so its incidence-rate ratio
(IRR) reads "detections multiply by this when the series doubles". Country
effects absorb everything stable about a country (including how good its
identification system is); year effects absorb shocks common to all.

Detections are not prevalence. A rise in detections may mean more
trafficking, or more and better-trained people looking for it; the report says
so in plain words next to every estimate.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tipsom.context.sources import ContextInputError
from tipsom.core.cells import neutral_frame

CAVEAT = (
    "These figures describe victims who were detected and recorded, not how many people are trafficked. "
    "Detections rise when more people are looking, when laws or funding change, or when one agency "
    "starts recording; a link between context and detections is an association in recorded cases, "
    "not proof that the context causes trafficking."
)

#: Below this, the estimated over-dispersion is taken as none (the Poisson limit).
NO_OVERDISPERSION = 1e-4

#: Context series the model uses unless told otherwise.
DEFAULT_SERIES = ("ucdp.fatalities", "idmc.conflict_new", "idmc.disaster_new")


@dataclass(frozen=True)
class Estimate:
    """One covariate's incidence-rate ratio with its confidence interval."""

    term: str
    irr: float
    low: float
    high: float
    p_value: float


@dataclass
class PanelModel:
    """The fitted model's results and what went into it."""

    estimates: list[Estimate]
    alpha: float
    observations: int
    countries: int
    years: tuple[int, int]
    converged: bool
    notes: list[str]
    confidence: float

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([e.__dict__ for e in self.estimates])


def covariate_name(series: str, lag: int) -> str:
    return f"log2(1+{series}) lag {lag}"


def add_lagged(
    panel: pd.DataFrame, observations: pd.DataFrame, series: list[str], lag: int
) -> tuple[pd.DataFrame, list[str]]:
    """Join each series, ``lag`` years earlier and log2(1+x)-transformed, onto the (country, year) panel."""
    out = panel.copy()
    notes = []
    country_level = observations[observations["admin1"].isna()] if "admin1" in observations else observations
    for name in series:
        rows = country_level[country_level["series"] == name]
        if rows.empty:
            raise ContextInputError(f"no stored values of series {name!r}: import its source first")
        lagged = rows.groupby(["iso3", "year"], as_index=False)["value"].sum()
        lagged["year"] = lagged["year"] + lag
        column = covariate_name(name, lag)
        lagged[column] = np.log2(1.0 + lagged["value"].clip(lower=0))
        out = out.merge(lagged.rename(columns={"iso3": "country"})[["country", "year", column]],
                        on=["country", "year"], how="left")
        lacking = int(out[column].isna().sum())
        if lacking:
            notes.append(f"{lacking} country-years have no value of {name} {lag} year(s) earlier.")
    return out, notes


def fit_panel(panel: pd.DataFrame, covariates: list[str], confidence: float = 0.95) -> PanelModel:
    """Fit NB2 counts ``victims`` ~ covariates + country + year effects on a (country, year) panel.

    Country-years lacking a covariate are left out, and so are countries with no
    detection in any remaining year (their country effect would be minus
    infinity); both are counted in the notes.
    """
    from statsmodels.discrete.discrete_model import NegativeBinomial
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    notes: list[str] = []
    data = panel.dropna(subset=covariates)
    if len(data) < len(panel):
        notes.append(f"{len(panel) - len(data)} of {len(panel)} country-years lack a covariate: left out.")
    totals = data.groupby("country")["victims"].transform("sum")
    never = data.loc[totals == 0, "country"].nunique()
    data = data[totals > 0]
    if never:
        notes.append(f"{never} countries with no detection in the modelled years left out.")
    n_countries, n_years = data["country"].nunique(), data["year"].nunique()
    n_params = 1 + len(covariates) + (n_countries - 1) + (n_years - 1) + 1
    if n_countries < 2 or n_years < 2 or len(data) <= n_params:
        raise ContextInputError(
            f"too little data for the model: {len(data)} country-years, {n_countries} countries, "
            f"{n_years} years for {n_params} parameters"
        )
    design = pd.concat([
        pd.Series(1.0, index=data.index, name="const"),
        data[covariates].astype(float),
        pd.get_dummies(data["country"], prefix="country", drop_first=True, dtype=float),
        pd.get_dummies(data["year"].astype(str), prefix="year", drop_first=True, dtype=float),
    ], axis=1)
    counts = data["victims"].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        poisson = GLM(counts, design, family=Poisson()).fit()
        start = np.append(poisson.params.to_numpy(), 0.1)
        fitted = NegativeBinomial(counts, design).fit(start_params=start, disp=0, maxiter=500,
                                                      method="newton")
    params = fitted.params
    usable = bool(np.isfinite(params).all() and np.isfinite(fitted.bse[covariates]).all())
    if usable and params["alpha"] > NO_OVERDISPERSION:
        converged = bool(fitted.mle_retvals.get("converged", False))
        alpha = float(params["alpha"])
    else:
        # The counts are not over-dispersed: the negative binomial's alpha sits on its
        # boundary (0), where NB2 is the Poisson model, so the Poisson fit is reported.
        notes.append("No over-dispersion in the counts (alpha = 0): estimates are from the Poisson model, "
                     "the negative binomial's limit.")
        fitted, converged, alpha = poisson, bool(poisson.converged), 0.0
    bounds = fitted.conf_int(alpha=1.0 - confidence)
    estimates = [
        Estimate(term, math.exp(fitted.params[term]), math.exp(bounds.loc[term, 0]),
                 math.exp(bounds.loc[term, 1]), float(fitted.pvalues[term]))
        for term in covariates
    ]
    return PanelModel(estimates, alpha, len(data), n_countries,
                      (int(data["year"].min()), int(data["year"].max())), converged, notes, confidence)


def detections_panel(counts: pd.DataFrame) -> pd.DataFrame:
    """Complete a (country, year, victims) count table: missing combinations are zero detections.

    The registry records every detection its users made, so a country-year
    with none recorded is a zero, within the years the registry covers.
    """
    if counts.empty:
        raise ContextInputError("no victims with a country of origin and a year in the registry")
    countries = sorted(counts["country"].unique())
    years = range(int(counts["year"].min()), int(counts["year"].max()) + 1)
    grid = pd.MultiIndex.from_product([countries, years], names=["country", "year"]).to_frame(index=False)
    out = grid.merge(counts, on=["country", "year"], how="left")
    out["victims"] = out["victims"].fillna(0).astype(int)
    return out


def write_model_outputs(
    model: PanelModel, panel: pd.DataFrame, out_dir: Path, *, lag: int, suppression_threshold: int
) -> list[Path]:
    """``model.csv`` (IRRs), ``panel.csv`` (counts below the threshold suppressed) and ``model.html``."""
    from tipsom.core.render import drawn, render
    from tipsom.core.render.charts import line_svg

    out_dir.mkdir(parents=True, exist_ok=True)
    table_path = out_dir / "model.csv"
    neutral_frame(model.table()).to_csv(table_path, index=False)
    published = panel.copy()
    published["victims"] = [
        f"<{suppression_threshold}" if 0 < v < suppression_threshold else str(v) for v in panel["victims"]
    ]
    panel_path = out_dir / "panel.csv"
    neutral_frame(published).to_csv(panel_path, index=False)
    yearly = panel.groupby("year")["victims"].sum()
    chart = line_svg({"detected victims": {int(y): float(v) for y, v in yearly.items()}},
                     "Detected victims per year (all countries of origin)")
    html = render(
        "tipsom.context", "model_report.html", caveat=CAVEAT, model=model, lag=lag, alpha=f"{model.alpha:.3f}",
        level=round(100 * model.confidence), chart=drawn(chart), notes=model.notes,
        estimates=[{"term": e.term, "irr": f"{e.irr:.3f}", "low": f"{e.low:.3f}", "high": f"{e.high:.3f}",
                    "p": f"{e.p_value:.3g}"} for e in model.estimates],
    )
    html_path = out_dir / "model.html"
    html_path.write_text(html, encoding="utf-8")
    return [table_path, panel_path, html_path]
