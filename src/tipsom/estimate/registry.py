"""One call from the case registry to an estimate: pooled, and by strata beside it.

``tipsom estimate`` with no options runs this: victims linked by keyed
pseudonyms (nothing decrypted), one list per agency type, stepwise selection.
With strata (sex, age group, region) each stratum is estimated on its own and
the strata estimates are summed beside the pooled one: when the two differ,
capture probabilities differ between strata (heterogeneity the pooled model
ignores), and the sum is usually the better figure, provided every stratum has
an estimate; a stratum without one makes the sum partial, which is said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tipsom.estimate.linkage import DEFAULT_THRESHOLD
from tipsom.estimate.mse import (
    MAX_LISTS_FOR_BIC,
    MAX_LISTS_LOGLINEAR,
    Estimate,
    IntervalMethod,
    Selection,
    StratumEstimate,
    estimate,
    estimate_strata,
)
from tipsom.estimate.store_histories import Linkage, ListBy, histories_from_store
from tipsom.estimate.table import COUNT, CaptureTable

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Source name of tables built from the registry, in messages.
SOURCE = "registry"


def most_lists(selection: Selection) -> int:
    """The largest number of lists ``selection`` supports."""
    return MAX_LISTS_FOR_BIC if selection is Selection.BIC else MAX_LISTS_LOGLINEAR


def _tables(frame: pd.DataFrame, strata: Sequence[str]) -> dict[tuple[tuple[str, str], ...], CaptureTable]:
    lists = [c for c in frame.columns if c != COUNT and c not in strata]
    out: dict[tuple[tuple[str, str], ...], CaptureTable] = {}
    groups = frame.groupby(list(strata), sort=True) if strata else [((), frame)]
    for values, part in groups:
        key = tuple(zip(strata, (str(v) for v in np.atleast_1d(values)), strict=True)) if strata else ()
        rows = zip(part[lists].to_numpy(dtype=np.int64), part[COUNT].to_numpy(dtype=np.int64), strict=True)
        out[key] = CaptureTable.from_histories(lists, ((tuple(h), int(c)) for h, c in rows), SOURCE, key)
    return out


@dataclass(frozen=True)
class RegistryEstimate:
    """The pooled estimate and, when strata were asked for, each stratum's and their sum."""

    by: ListBy
    pooled: Estimate
    strata: tuple[StratumEstimate, ...] = ()

    @property
    def strata_sum(self) -> float | None:
        """Sum of the strata estimates; ``None`` without strata."""
        if not self.strata:
            return None
        return float(sum(s.result.total for s in self.strata if s.result is not None))

    @property
    def strata_missing(self) -> list[str]:
        """Strata without an estimate (the sum leaves their victims, seen and unseen, out)."""
        return [", ".join(f"{k}={v}" for k, v in s.stratum) for s in self.strata if s.result is None]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lists_by": self.by.value, **self.pooled.to_dict()}
        if self.strata:
            out["strata"] = [s.to_dict() for s in self.strata]
            out["strata_sum"] = round(self.strata_sum or 0.0, 6)
            out["strata_missing"] = self.strata_missing
        return out


def estimate_registry(
    store: Store,
    *,
    strata: Sequence[str] = (),
    by: ListBy = ListBy.AGENCY_TYPE,
    groups: Path | Mapping[str, str] | None = None,
    selection: Selection = Selection.STEPWISE,
    interval: IntervalMethod = IntervalMethod.WALD,
    linkage: Linkage = Linkage.EXACT,
    link_threshold: float = DEFAULT_THRESHOLD,
    actor: str,
    **options: Any,
) -> RegistryEstimate:
    """Estimate the registry's victims, seen and unseen; refuses more lists than ``selection`` supports."""
    frame = histories_from_store(store, strata, groups, by=by, most_lists=most_lists(selection), linkage=linkage,
                                 threshold=link_threshold, actor=actor)
    lists = [c for c in frame.columns if c != COUNT and c not in strata]
    pooled_frame = frame.groupby(lists, as_index=False)[COUNT].sum()
    pooled = estimate(_tables(pooled_frame, ())[()], selection, interval, **options)
    by_stratum = estimate_strata(_tables(frame, strata), None, selection=selection, interval=interval,
                                 **options) if strata else []
    return RegistryEstimate(by, pooled, tuple(by_stratum))
