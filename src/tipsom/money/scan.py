"""Run the typology pipeline on an engine and turn its output into findings.

The relational part (:mod:`tipsom.money.typologies`) does the heavy lifting on
DuckDB or Spark; what comes back is small (one row per account and typology),
so ranking, suppression of overlapping findings and the plain-language
explanations are done here once, in Python, identically for both engines.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tipsom.money.model import Engine, Finding, MoneyInputError, Typology
from tipsom.money.typologies import DETECTORS, ScanConfig, summarise

#: Findings of these typologies describe a structure; a fan or pass-through that
#: is mostly made of their transactions is the same money seen less precisely.
STRUCTURAL = (Typology.CYCLE, Typology.SCATTER_GATHER, Typology.GATHER_SCATTER)
SUBSUMED = (Typology.FAN_IN, Typology.FAN_OUT, Typology.PASS_THROUGH)

FINDING_COLUMNS = (
    "account",
    "typology",
    "score",
    "n_transactions",
    "amount",
    "first_seen",
    "last_seen",
    "counterparties",
    "tx_ids",
    "explanation",
)


def connect(engine: Engine, spark: Any = None) -> Any:
    """An Ibis backend: in-process DuckDB, or the given (or a new local) Spark session."""
    import ibis

    if engine is Engine.DUCKDB:
        return ibis.duckdb.connect()
    if spark is None:
        from tipsom.sparkutil import local_spark

        spark = local_spark()
    return ibis.pyspark.connect(spark)


def as_table(con: Any, transactions: pd.DataFrame) -> Any:
    """The canonical frame as an Ibis table on ``con`` (no warehouse files written).

    On Spark the frame is converted once (through Arrow), cached and exposed as a
    temporary view; an Ibis memtable would be converted again by every query.
    """
    import ibis

    if con.name != "pyspark":
        return ibis.memtable(transactions)
    session = con._session
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    name = f"tipsom_money_{uuid.uuid4().hex}"
    session.createDataFrame(transactions).cache().createOrReplaceTempView(name)
    return con.table(name)


def _explain(typ: Typology, *, metric: int, n_tx: int, n_cp: int, amount: float, base: str, cfg: ScanConfig) -> str:
    money = f"{amount:,.2f} {base}"
    texts = {
        Typology.FAN_IN: f"received from {metric} one-off senders within {cfg.fan_window_hours} h "
        f"({n_tx} payments, {money})",
        Typology.FAN_OUT: f"paid {metric} one-off payees within {cfg.fan_window_hours} h ({n_tx} payments, {money})",
        Typology.GATHER_SCATTER: f"collected from at least {metric} one-off senders, then paid at least "
        f"{metric} one-off payees soon after ({n_tx} payments, {money})",
        Typology.SCATTER_GATHER: f"money split over {metric} intermediaries and gathered again within "
        f"{cfg.sg_window_hours} h ({n_tx} payments, {money})",
        Typology.CYCLE: f"on {metric} time-ordered cycle(s) of similar amounts returning within "
        f"{cfg.cycle_window_hours} h ({n_tx} payments, {money})",
        Typology.STRUCTURING: f"{metric} payments just under the {cfg.reporting_threshold:,.0f} {base} "
        f"reporting threshold within {cfg.structuring_window_hours} h ({money})",
        Typology.PASS_THROUGH: f"{metric} incoming payments forwarded within {cfg.pass_window_hours} h at "
        f"{cfg.pass_ratio[0]:.0%}-{cfg.pass_ratio[1]:.0%} of the amount ({money})",
        Typology.ROUND_AMOUNTS: f"{metric} round payments (multiples of {cfg.round_unit:,.0f}) within "
        f"{cfg.round_window_hours} h ({money})",
        Typology.HIGH_FREQUENCY: f"{metric} payments within {cfg.burst_window_hours} h ({money})",
        Typology.HIGH_RISK_CORRIDOR: f"{metric} payments through high-risk jurisdictions or corridors ({money})",
    }
    return f"{texts[typ]}; {n_cp} counterpart{'y' if n_cp == 1 else 'ies'}."


def score(typ: Typology, metric: int, cfg: ScanConfig) -> float:
    """0.5 at the detector's threshold, rising linearly to 1.0 at twice the threshold."""
    base = cfg.threshold(typ)
    return round(min(1.0, 0.5 * metric / base), 4) if base > 1 else (0.5 if metric <= 1 else 1.0)


def scan(
    transactions: pd.DataFrame,
    cfg: ScanConfig | None = None,
    engine: Engine = Engine.DUCKDB,
    spark: Any = None,
    typologies: Iterable[Typology] = tuple(Typology),
) -> list[Finding]:
    """Run every selected detector and return findings sorted by score, then account."""
    cfg = cfg or ScanConfig()
    base = str(transactions.attrs.get("base_currency", ""))
    con = connect(engine, spark)
    tx = as_table(con, transactions)
    findings: list[Finding] = []
    for typ in typologies:
        frame = con.to_pandas(summarise(DETECTORS[typ](tx, cfg)))
        for rec in frame.itertuples(index=False):
            metric = int(rec.metric)
            findings.append(
                Finding(
                    account=str(rec.account),
                    typology=typ,
                    score=score(typ, metric, cfg),
                    tx_ids=tuple(sorted(str(i) for i in rec.tx_ids)),
                    amount=round(float(rec.amount), 2),
                    first_t=int(rec.first_t),
                    last_t=int(rec.last_t),
                    explanation=_explain(
                        typ,
                        metric=metric,
                        n_tx=int(rec.n_tx),
                        n_cp=len(rec.cps),
                        amount=float(rec.amount),
                        base=base,
                        cfg=cfg,
                    ),
                    counterparties=tuple(sorted(str(c) for c in rec.cps)),
                )
            )
    return sorted(suppress_subsumed(findings), key=lambda f: (-f.score, f.account, f.typology.value))


def suppress_subsumed(findings: list[Finding], share: float = 0.5) -> list[Finding]:
    """Drop fan and pass-through findings whose transactions mostly belong to a structural finding."""
    structural = {i for f in findings if f.typology in STRUCTURAL for i in f.tx_ids}
    return [
        f
        for f in findings
        if f.typology not in SUBSUMED or sum(i in structural for i in f.tx_ids) < share * len(f.tx_ids)
    ]


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_findings_csv(findings: list[Finding], out: Path) -> Path:
    """One row per (account, typology); ids and counterparties are space-separated."""
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FINDING_COLUMNS)
        for f in findings:
            writer.writerow(
                [
                    f.account,
                    f.typology.value,
                    f"{f.score:.4f}",
                    len(f.tx_ids),
                    f"{f.amount:.2f}",
                    _iso(f.first_t),
                    _iso(f.last_t),
                    " ".join(f.counterparties),
                    " ".join(f.tx_ids),
                    f.explanation,
                ]
            )
    return out


def write_findings_json(findings: list[Finding], out: Path) -> Path:
    rows = [
        {
            "account": f.account,
            "typology": f.typology.value,
            "score": f.score,
            "amount": f.amount,
            "first_seen": _iso(f.first_t),
            "last_seen": _iso(f.last_t),
            "counterparties": list(f.counterparties),
            "tx_ids": list(f.tx_ids),
            "explanation": f.explanation,
        }
        for f in findings
    ]
    out.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return out


def read_findings(path: Path) -> list[Finding]:
    """Read findings written as CSV or JSON (by ``scan``) back, e.g. for evaluation."""
    if path.suffix.lower() == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        recs = [{**r, "tx_ids": " ".join(r["tx_ids"]), "counterparties": " ".join(r["counterparties"])} for r in rows]
    else:
        with path.open(newline="", encoding="utf-8") as fh:
            recs = list(csv.DictReader(fh))
    out = []
    for number, r in enumerate(recs, start=2):
        try:
            typ = Typology(r["typology"])
            first = int(datetime.fromisoformat(str(r["first_seen"]).replace("Z", "+00:00")).timestamp())
            last = int(datetime.fromisoformat(str(r["last_seen"]).replace("Z", "+00:00")).timestamp())
            out.append(
                Finding(
                    str(r["account"]),
                    typ,
                    float(r["score"]),
                    tuple(str(r["tx_ids"]).split()),
                    float(r["amount"]),
                    first,
                    last,
                    str(r["explanation"]),
                    tuple(str(r["counterparties"]).split()),
                )
            )
        except (KeyError, ValueError) as exc:
            raise MoneyInputError(f"{path}: row {number}: not a findings row ({exc})") from exc
    return out
