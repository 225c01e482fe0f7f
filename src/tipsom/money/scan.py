"""Run the typology pipeline on an engine and turn its output into findings.

The relational part (:mod:`tipsom.money.typologies`) does the heavy lifting on
DuckDB or Spark; what comes back is small (one row per account and typology),
so ranking, suppression of overlapping findings and the plain-language
explanations are done here once, in Python, identically for both engines.

The transaction table is materialised on the engine once, and so is every
intermediate several detectors share. On DuckDB, cycles are searched in numpy
(:mod:`tipsom.money.cycles`) rather than by repeated self-joins; the tests hold
both searches to the same findings.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tipsom.core.cells import neutral_row, restore_row
from tipsom.core.engines import Engine, connect
from tipsom.money.config import ScanConfig
from tipsom.money.model import AmountRule, Finding, MoneyInputError, Typology
from tipsom.money.typologies import SPECS, Role, ScanInputs, summarise

#: Findings of these typologies describe a structure; a fan or pass-through that
#: is mostly made of their transactions is the same money seen less precisely.

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


#: The columns the detectors read; the others stay in pandas.
SCAN_COLUMNS = ("tx_id", "t", "src", "dst", "amount", "amount_base", "channel", "src_country", "dst_country")


@contextmanager
def cached_table(con: Any, frame: pd.DataFrame) -> Iterator[Any]:
    """``frame`` as an Ibis table on ``con``, converted once and released afterwards.

    The frame is bound to ``con`` as a temporary view, and Ibis's public
    ``Table.cache()`` materialises it there (a typed temporary table on DuckDB,
    a cached DataFrame on Spark; no warehouse files), so the ten detectors read
    it without converting the pandas frame again.
    """
    import ibis

    name = f"tipsom_money_{uuid.uuid4().hex}"
    view = con.create_view(name, ibis.memtable(frame), overwrite=True)
    try:
        with view.cache() as table:
            yield table
    finally:
        con.drop_view(name, force=True)


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
        Typology.CYCLE: f"on {metric} time-ordered cycle(s) of "
        f"{'similar' if cfg.cycle_amounts is AmountRule.SIMILAR else 'any'} amounts returning within "
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
    base = SPECS[typ].threshold(cfg)
    return round(min(1.0, 0.5 * metric / base), 4) if base > 1 else (0.5 if metric <= 1 else 1.0)


def scan(
    transactions: pd.DataFrame,
    cfg: ScanConfig | None = None,
    engine: Engine = Engine.DUCKDB,
    spark: Any = None,
    typologies: Iterable[Typology] = tuple(SPECS),
) -> list[Finding]:
    """Run every selected detector and return findings sorted by score, then account."""
    cfg = cfg or ScanConfig()
    base = str(transactions.attrs.get("base_currency", ""))
    import ibis

    from tipsom.money.cycles import cycle_evidence

    con = connect(engine, spark)
    wanted = list(dict.fromkeys(typologies))
    frames = []
    if engine is Engine.DUCKDB and Typology.CYCLE in wanted:
        wanted.remove(Typology.CYCLE)
        frames.append((Typology.CYCLE, con.to_pandas(summarise(ibis.memtable(cycle_evidence(transactions, cfg))))))
    if wanted:
        with ExitStack() as held:
            tx = held.enter_context(cached_table(con, transactions[list(SCAN_COLUMNS)]))
            inputs = ScanInputs(tx, cfg, keep=lambda table: held.enter_context(table.cache()))
            frames += [(typ, con.to_pandas(summarise(SPECS[typ].detector(inputs)))) for typ in wanted]
    findings: list[Finding] = []
    for typ, frame in frames:
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
    structural = {i for f in findings if SPECS[f.typology].role is Role.STRUCTURAL for i in f.tx_ids}
    return [
        f
        for f in findings
        if SPECS[f.typology].role is not Role.SUBSUMED or sum(i in structural for i in f.tx_ids) < share * len(f.tx_ids)
    ]


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_findings_csv(findings: list[Finding], out: Path) -> Path:
    """One row per (account, typology); ids and counterparties are space-separated."""
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FINDING_COLUMNS)
        for f in findings:
            writer.writerow(neutral_row(
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
            ))
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
            recs = [restore_row(r) for r in csv.DictReader(fh)]
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
