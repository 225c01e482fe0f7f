"""Flows aggregated by corridor (country pair, channel, period), SDG 16.4-style.

SDG indicator 16.4.1 asks for the total value of inward and outward illicit
financial flows. An FIU cannot measure that directly, but it can publish, per
corridor, the total value moved and the share tied to accounts its detectors
flagged or to persons on trafficking and smuggling cases: a lower and an upper
bracket an analyst can defend. The aggregation is the same Ibis expression on
DuckDB and Spark.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tipsom.core.engines import Engine, connect
from tipsom.money.model import MoneyInputError, Period, RowError
from tipsom.money.readers import MAX_AMOUNT
from tipsom.money.scan import cached_table

CORRIDOR_COLUMNS = (
    "period",
    "src_country",
    "dst_country",
    "channel",
    "n_transactions",
    "amount",
    "flagged_amount",
    "flagged_share",
    "case_amount",
    "case_share",
)


def _marked(tx: Any, accounts: frozenset[str] | set[str], name: str) -> Any:
    """Add boolean column ``name``: the payer or the payee is in ``accounts``."""
    import ibis

    if not accounts:
        return tx.mutate(**{name: ibis.literal(False)})
    acc = ibis.memtable(pd.DataFrame({"m_acct": sorted(accounts)}))
    src = acc.rename(m_src="m_acct")
    dst = acc.rename(m_dst="m_acct")
    joined = tx.left_join(src, tx.src == src.m_src).left_join(dst, tx.dst == dst.m_dst)
    return joined.mutate(**{name: joined.m_src.notnull() | joined.m_dst.notnull()}).drop("m_src", "m_dst")


def corridors(
    transactions: pd.DataFrame,
    *,
    flagged_accounts: frozenset[str] | set[str] = frozenset(),
    case_accounts: frozenset[str] | set[str] = frozenset(),
    period: Period = Period.MONTH,
    engine: Engine = Engine.DUCKDB,
    spark: Any = None,
) -> pd.DataFrame:
    """Totals per (period, from country, to country, channel), in that order.

    Amounts are summed as whole cents in 64-bit integers; a table not read by
    :func:`~tipsom.money.readers.load_transactions` (which refuses them) may
    still hold amounts beyond :data:`~tipsom.money.readers.MAX_AMOUNT`, and
    those are refused here rather than overflowing inside the engine.
    """
    amounts = transactions["amount_base"].to_numpy(dtype="float64")
    beyond = np.flatnonzero(~(np.abs(amounts) <= MAX_AMOUNT))
    if len(beyond):
        first = transactions.iloc[int(beyond[0])]
        raise MoneyInputError(str(RowError("transactions", int(first.get("row", beyond[0])), "amount_base",
                                           f"{first['amount_base']} is beyond {MAX_AMOUNT:,.0f}")))
    con = connect(engine, spark)
    columns = ["src", "dst", "amount_base", "src_country", "dst_country", "channel", "month"]
    with cached_table(con, transactions[columns]) as tx:
        out = con.to_pandas(_aggregate(tx, flagged_accounts, case_accounts, period))
    for col in ("amount", "flagged_amount", "case_amount"):
        out[col] = out[col].astype("int64") / 100
    out["flagged_share"] = (out["flagged_amount"] / out["amount"]).fillna(0.0).round(4)
    out["case_share"] = (out["case_amount"] / out["amount"]).fillna(0.0).round(4)
    out = out.sort_values(["period", "src_country", "dst_country", "channel"])
    return out[list(CORRIDOR_COLUMNS)].reset_index(drop=True)


def _aggregate(tx: Any, flagged: frozenset[str] | set[str], case: frozenset[str] | set[str], period: Period) -> Any:
    """The corridor totals as one Ibis expression, in whole cents."""
    import ibis

    tx = _marked(_marked(tx, flagged, "flagged"), case, "case")
    # Whole cents summed as integers: exact, so both engines give the same totals.
    tx = tx.mutate(
        period=tx.month if period is Period.MONTH else tx.month.substr(0, 4),
        cents=(tx.amount_base * 100).round(0).cast("int64"),
    )
    return tx.group_by(["period", "src_country", "dst_country", "channel"]).aggregate(
        n_transactions=tx.count(),
        amount=tx.cents.sum(),
        flagged_amount=ibis.ifelse(tx.flagged, tx.cents, 0).sum(),
        case_amount=ibis.ifelse(tx.case, tx.cents, 0).sum(),
    )
