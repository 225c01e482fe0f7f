"""Differentially private synthetic victim records (a noisy-histogram synthesiser).

The joint histogram of a few generalised attributes (period, sex, child/adult,
continent of citizenship, main form of exploitation) is computed once; Laplace
noise of scale ``2/epsilon`` is added to every cell of the full domain (empty
cells too, or their emptiness would leak), and to the number of records. One
person changes one cell and the count by one, so each release is
``epsilon/2``-DP and together ``epsilon``-DP; clipping negatives and drawing
the noisy number of records from the noisy histogram are post-processing and
cost no privacy. The epsilon spent is written to the output's metadata. On
small registries the noise flattens the distribution: that is the price.

Limits: noise is drawn with numpy's floating-point Laplace sampler, which is
adequate for research releases but is not hardened against the known
floating-point attacks; use OpenDP's samplers for high-stakes releases.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from tipsom.report.microdata import QUASI_IDENTIFIERS, _generalise

if TYPE_CHECKING:
    import pandas as pd

#: Attributes synthesised (after generalisation to the listed levels).
SYNTH_LEVELS = {"yearOfRegistration": 1, "gender": 0, "ageBroad": 1, "citizenship": 1}
#: First year of the synthetic domain (the data standard's minimum year of registration).
FIRST_YEAR = 1990
FORMS = ("isSexualExploit", "isForcedLabour", "isForcedMarriage", "isOtherExploit")


@dataclass(frozen=True)
class DpReport:
    mechanism: str
    epsilon: float
    delta: float
    attributes: list[str]
    domain_cells: int
    records_out: int
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _main_form(row: Any) -> str:
    flags = [f for f in FORMS if getattr(row, f)]
    if len(flags) > 1:
        return "Multiple"
    return flags[0].removeprefix("is") if flags else "NotRecorded"


def synthesise(records: pd.DataFrame, epsilon: float, seed: int = 0) -> tuple[pd.DataFrame, DpReport]:
    """Synthetic records drawn from an ``epsilon``-DP histogram of ``records``."""
    import numpy as np
    import pandas as pd

    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    qis = [q for q in QUASI_IDENTIFIERS if q.column in SYNTH_LEVELS]
    general = _generalise(records, qis, [SYNTH_LEVELS[q.column] for q in qis])
    general["mainForm"] = [_main_form(r) for r in records.itertuples(index=False)]
    columns = [*SYNTH_LEVELS, "mainForm"]
    # The domain is fixed by public code lists, not by the data, so it reveals nothing.
    domains = {
        "yearOfRegistration": [f"{y}-{y + 4}" for y in range(FIRST_YEAR, _this_year() + 1, 5)] + ["Unknown"],
        "gender": ["Female", "Male", "Unknown"],
        "ageBroad": ["0--17", "18+", "Unknown"],
        "citizenship": _continent_names(),
        "mainForm": ["SexualExploit", "ForcedLabour", "ForcedMarriage", "OtherExploit", "Multiple", "NotRecorded"],
    }
    cells = list(itertools.product(*(domains[c] for c in columns)))
    counts = general.groupby(columns).size().to_dict()
    domain = set(cells)
    outside = sum(n for cell, n in counts.items() if cell not in domain)
    if outside:
        raise ValueError(f"{outside} records fall outside the synthetic domain (year before {FIRST_YEAR}?)")
    true = np.array([counts.get(cell, 0) for cell in cells], dtype=float)
    rng = np.random.default_rng(seed)
    # Half the budget for the number of records, half for the histogram (sequential composition).
    scale = 2.0 / epsilon
    n_out = max(0, round(len(records) + rng.laplace(0.0, scale)))
    noisy = np.clip(true + rng.laplace(0.0, scale, size=len(cells)), 0.0, None)
    weights = noisy / noisy.sum() if noisy.sum() > 0 else np.full(len(cells), 1.0 / len(cells))
    drawn = rng.choice(len(cells), size=n_out, p=weights)
    synthetic = pd.DataFrame([cells[i] for i in drawn], columns=columns)
    report = DpReport("Laplace histogram and count, epsilon split in halves (pure epsilon-DP)", epsilon, 0.0,
                      columns, len(cells), len(synthetic), seed)
    return synthetic, report


def _this_year() -> int:
    import datetime as dt

    return dt.date.today().year


def _continent_names() -> list[str]:
    from tipsom.report.microdata import continents

    return [*sorted(set(continents().values())), "Unknown"]
