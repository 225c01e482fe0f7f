"""Differentially private synthetic victim records (a noisy-histogram synthesiser on OpenDP).

The joint histogram of a few generalised attributes (period, sex, child/adult,
continent of citizenship, main form of exploitation) is computed once; OpenDP's
discrete Laplace mechanism (``make_laplace`` on integer counts, scale
``2/epsilon``) adds noise to every cell of the domain (empty cells too, or their
emptiness would leak) and to the number of records. One person changes one
cell and the count by one, so each release is ``epsilon/2``-DP and together
``epsilon``-DP (OpenDP's privacy map checks each half). As in the CTDC
synthetic data set (Microsoft's Synthetic Data Showcase), noisy counts below a
threshold are dropped, so noise alone does not fabricate records; what is left
is post-processing and costs no privacy.

The domain comes from the standard's code lists restricted to what the store
holds: the periods of its years of registration and the continents of its
citizenships, so no record lands in a period or continent the registry never
had ("Antarctica", 1990-94). That restriction publishes the store's range of
years and continents, which the report already publishes. The utility (mean
absolute error of the shares of 1-, 2- and 3-way marginals against the real
records) is reported beside epsilon; it is computed from the real data and is
meant for the publishing office, not for release with the file.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from tipsom.report.sdc import QUASI_IDENTIFIERS, generalise

if TYPE_CHECKING:
    import pandas as pd

#: Attributes synthesised (after generalisation to the listed levels).
SYNTH_LEVELS = {"yearOfRegistration": 1, "gender": 0, "ageBroad": 1, "citizenship": 1}
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
    #: Noisy counts under this are dropped.
    threshold: int
    #: Mean absolute error of marginal shares, by order.
    marginal_errors: dict[str, float]

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
    general = generalise(records, qis, [SYNTH_LEVELS[q.column] for q in qis])
    general["mainForm"] = [_main_form(r) for r in records.itertuples(index=False)]
    columns = [*SYNTH_LEVELS, "mainForm"]
    observed_continents = set(general["citizenship"])
    domains = {
        "yearOfRegistration": sorted(set(general["yearOfRegistration"])),
        "gender": ["Female", "Male", "Unknown"],
        "ageBroad": ["0--17", "18+", "Unknown"],
        "citizenship": [c for c in _continent_names() if c in observed_continents],
        "mainForm": ["SexualExploit", "ForcedLabour", "ForcedMarriage", "OtherExploit", "Multiple", "NotRecorded"],
    }
    cells = list(itertools.product(*(domains[c] for c in columns)))
    counts = general.groupby(columns).size().to_dict()
    domain = set(cells)
    outside = sum(n for cell, n in counts.items() if cell not in domain)
    if outside:
        raise ValueError(f"{outside} records fall outside the synthetic domain (a value not in the code lists)")
    # Half the budget for the number of records, half for the histogram (sequential composition).
    scale = 2.0 / epsilon
    noise = _discrete_laplace(scale, epsilon / 2.0)
    true = [int(counts.get(cell, 0)) for cell in cells]
    n_out = max(0, noise([len(records)])[0])
    # Noise alone lifts an empty cell past this in about sqrt(cells)/2 cells of the whole domain (instead of
    # half of them); a higher bar would empty small registries at small epsilon.
    threshold = math.ceil(scale * math.log(max(len(cells), 2)) / 2)
    noisy = np.array([v if v >= threshold else 0 for v in noise(true)], dtype=float)
    rng = np.random.default_rng(seed)
    if noisy.sum() > 0 and n_out > 0:
        drawn = rng.choice(len(cells), size=n_out, p=noisy / noisy.sum())
    else:
        drawn = np.array([], dtype=int)
    synthetic = pd.DataFrame([cells[i] for i in drawn], columns=columns)
    report = DpReport("OpenDP discrete Laplace on the histogram and the count, epsilon split in halves "
                      "(pure epsilon-DP), noisy counts under a threshold dropped", epsilon, 0.0, columns,
                      len(cells), len(synthetic), seed, threshold,
                      marginal_errors(general[columns], synthetic, columns))
    return synthetic, report


def _discrete_laplace(scale: float, budget: float) -> Any:
    """OpenDP's discrete Laplace mechanism on integer count vectors, checked to spend ``budget`` per release."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    mechanism: Any = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale)
    if mechanism.map(1) > budget + 1e-12:
        raise ValueError(f"OpenDP maps one person to epsilon {mechanism.map(1)}, above the budget {budget}")
    return mechanism


def marginal_errors(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str]) -> dict[str, float]:
    """Mean absolute error of the shares of every 1-, 2- and 3-way marginal (0 = identical, 2 = disjoint)."""
    out: dict[str, float] = {}
    for order in (1, 2, 3):
        errors = []
        for combo in itertools.combinations(columns, order):
            a = real.groupby(list(combo)).size() / max(len(real), 1)
            b = synthetic.groupby(list(combo)).size() / max(len(synthetic), 1)
            both = a.index.union(b.index)
            errors.append(float((a.reindex(both, fill_value=0) - b.reindex(both, fill_value=0)).abs().sum()))
        out[f"{order}-way"] = round(sum(errors) / len(errors), 4) if errors else 0.0
    return out


def _continent_names() -> list[str]:
    from tipsom.report.sdc import continents

    return [*sorted(set(continents().values())), "Unknown"]
