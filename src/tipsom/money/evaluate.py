"""Precision and recall of findings against labelled truth.

Two truth layouts are read:

* AMLworld's patterns file (``BEGIN LAUNDERING ATTEMPT - FAN-IN: ...`` blocks of
  transaction rows, ``END LAUNDERING ATTEMPT``), which our generator also writes.
  Transactions are matched by content hash (see
  :func:`tipsom.money.readers.transaction_ids`), so a real AMLworld file works
  unchanged; attempt types we have no detector for (STACK, BIPARTITE, RANDOM)
  are listed but scored for no typology.
* AMLSim's ``nodes.csv`` (``nodeid,isFraud,...``): account labels only, so only
  account-level figures can be computed, over all typologies together.

At transaction level a typology's predictions are the transactions cited by its
findings; at account level they are every account those transactions touch
(the laundering accounts of an attempt are all its participants).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tipsom.money.model import Finding, MoneyInputError, Typology
from tipsom.money.readers import _AMLWORLD_NAMES, _amlworld_columns, normalise_currency, transaction_ids

BEGIN = re.compile(r"^BEGIN LAUNDERING ATTEMPT - ([^:]+)")
ALL = "all"


@dataclass(frozen=True)
class Truth:
    """Laundering transactions and accounts per typology (``"all"`` = any)."""

    transactions: dict[str, set[str]]
    accounts: dict[str, set[str]]
    account_level_only: bool


@dataclass(frozen=True)
class Score:
    typology: str
    level: str
    precision: float
    recall: float
    predicted: int
    actual: int


def read_truth(path: Path) -> Truth:
    """Read an AMLworld patterns file or an AMLSim nodes file."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("nodeid,"):
        nodes = pd.read_csv(io.StringIO(text), dtype=str)
        fraud = set(nodes.loc[nodes["isFraud"].str.strip() == "1", "nodeid"].str.strip())
        return Truth({}, {ALL: fraud}, account_level_only=True)
    blocks: dict[str, list[str]] = defaultdict(list)
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if m := BEGIN.match(line):
            current = m.group(1).strip()
        elif line.startswith("END LAUNDERING ATTEMPT"):
            current = None
        elif line.strip() and current is None:
            raise MoneyInputError(f"{path}: line {number}: transaction outside a laundering attempt block")
        elif line.strip() and current is not None:
            blocks[current].append(line)
    if not blocks:
        raise MoneyInputError(f"{path}: no 'BEGIN LAUNDERING ATTEMPT' blocks and not an AMLSim nodes.csv")
    transactions: dict[str, set[str]] = defaultdict(set)
    accounts: dict[str, set[str]] = defaultdict(set)
    for name, lines in blocks.items():
        raw = pd.read_csv(io.StringIO("\n".join(lines)), header=None, dtype=str, keep_default_na=False)
        raw = raw.iloc[:, :10]
        raw.columns = _AMLWORLD_NAMES
        raw.insert(0, "row", range(len(raw)))
        cols = _amlworld_columns(raw)
        frame = pd.DataFrame(
            {
                "t": cols["t"],
                "src": cols["src"],
                "dst": cols["dst"],
                "amount": pd.to_numeric(cols["amount_raw"], errors="coerce"),
                "currency": cols["currency"].map(normalise_currency),
            }
        )
        if frame["t"].isna().any() or frame["amount"].isna().any():
            raise MoneyInputError(f"{path}: unreadable timestamp or amount in a {name} attempt")
        ids = transaction_ids(frame.astype({"t": "int64"}))
        typ = Typology.from_pattern_name(name)
        key = typ.value if typ else name.lower()
        for target in (key, ALL):
            transactions[target] |= set(ids.str.replace(r"-\d+$", "", regex=True))
            accounts[target] |= set(frame["src"]) | set(frame["dst"])
    return Truth(dict(transactions), dict(accounts), account_level_only=False)


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 0.0


def evaluate(findings: list[Finding], truth: Truth) -> list[Score]:
    """Precision and recall per typology (and overall) at transaction and account level."""
    scores: list[Score] = []
    by_typ: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_typ[f.typology.value].append(f)
        by_typ[ALL].append(f)
    names = sorted(set(truth.accounts) | set(by_typ), key=lambda n: (n == ALL, n))
    for name in names:
        group = by_typ.get(name, [])
        if not truth.account_level_only and name in truth.transactions:
            predicted = {i.split("-")[0] for f in group for i in f.tx_ids}
            actual = truth.transactions[name]
            hit = len(predicted & actual)
            scores.append(
                Score(
                    name,
                    "transaction",
                    _ratio(hit, len(predicted)),
                    _ratio(hit, len(actual)),
                    len(predicted),
                    len(actual),
                )
            )
        if name in truth.accounts:
            predicted_acc = {f.account for f in group} | {c for f in group for c in f.counterparties}
            actual_acc = truth.accounts[name]
            hit = len(predicted_acc & actual_acc)
            scores.append(
                Score(
                    name,
                    "account",
                    _ratio(hit, len(predicted_acc)),
                    _ratio(hit, len(actual_acc)),
                    len(predicted_acc),
                    len(actual_acc),
                )
            )
    return scores


def format_scores(scores: list[Score]) -> str:
    """A plain table for the terminal and for docs."""
    lines = [f"{'typology':<20} {'level':<12} {'precision':>9} {'recall':>7} {'predicted':>9} {'actual':>7}"]
    lines += [
        f"{s.typology:<20} {s.level:<12} {s.precision:>9.3f} {s.recall:>7.3f} {s.predicted:>9} {s.actual:>7}"
        for s in scores
    ]
    return "\n".join(lines)
