"""Follow money forward or backward from an account along time-respecting paths.

"Where did the smuggling fees go?" is a forward trace; "where did this money
come from?" a backward one. A path only continues with a payment made after the
one before it and within ``window_hours`` of it. How much of a payment is
attributed onward depends on the rule the investigator chooses:

* ``FIFO``: an account spends its oldest money first (the rule many courts and
  asset-recovery practitioners use for mixed funds);
* ``PROPORTIONAL``: every payment out carries the account's current mix of
  funds in proportion.

Money the data cannot explain (spent beyond what came in since the start of the
data) is attributed to "unknown prior funds" and never to a traced payment. The
ledgers are small per account, so this runs in-process on the canonical table.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from tipsom.money.model import Attribution, Direction, MoneyInputError

EPSILON = 0.005  # half a cent: smaller attributed flows are rounding noise


class Tx(NamedTuple):
    tx_id: str
    src: str
    dst: str
    t: int
    amount: float


@dataclass(frozen=True)
class Hop:
    """One payment on a path and the traced money it carried."""

    tx: Tx
    traced: float


@dataclass(frozen=True)
class TracePath:
    """Payments in time order; ``amount`` is the traced money on the last payment."""

    hops: tuple[Hop, ...]

    @property
    def amount(self) -> float:
        return self.hops[-1].traced

    @property
    def accounts(self) -> tuple[str, ...]:
        return (self.hops[0].tx.src, *(h.tx.dst for h in self.hops))


@dataclass(frozen=True)
class TraceResult:
    account: str
    direction: Direction
    attribution: Attribution
    paths: list[TracePath]
    #: Traced money per account reached (forward) or contributing (backward).
    reached: dict[str, float]


@dataclass
class _Lot:
    tx_id: str
    left: float


def _allocate(incoming: list[Tx], outgoing: list[Tx], rule: Attribution) -> dict[tuple[str, str], float]:
    """How much of each incoming payment funded each outgoing one, by ``rule``."""
    events = sorted(
        [(tx.t, 1, tx) for tx in incoming] + [(tx.t, 0, tx) for tx in outgoing],
        key=lambda e: (e[0], e[1], e[2].tx_id),
    )  # at equal times, money out cannot use money in
    held: deque[_Lot] = deque()
    alloc: dict[tuple[str, str], float] = {}
    for _, is_in, tx in events:
        if is_in:
            held.append(_Lot(tx.tx_id, tx.amount))
            continue
        need = tx.amount
        if rule is Attribution.FIFO:
            while need > EPSILON and held:
                take = min(need, held[0].left)
                alloc[(held[0].tx_id, tx.tx_id)] = take
                held[0].left -= take
                need -= take
                if held[0].left <= EPSILON:
                    held.popleft()
        else:
            total = sum(lot.left for lot in held)
            if total > EPSILON:
                share = min(1.0, need / total)
                for lot in held:
                    alloc[(lot.tx_id, tx.tx_id)] = lot.left * share
                    lot.left -= lot.left * share
                held = deque(lot for lot in held if lot.left > EPSILON)
    return alloc


class _Ledger:
    """Per-account payments and allocations, computed once per account reached."""

    def __init__(self, transactions: pd.DataFrame, rule: Attribution) -> None:
        frame = transactions[["tx_id", "src", "dst", "t", "amount_base"]]
        rows = [Tx(str(a), str(b), str(c), int(d), float(e)) for a, b, c, d, e in frame.itertuples(index=False)]
        self.out: dict[str, list[Tx]] = {}
        self.into: dict[str, list[Tx]] = {}
        for tx in rows:
            self.out.setdefault(tx.src, []).append(tx)
            self.into.setdefault(tx.dst, []).append(tx)
        self.rule = rule
        self._alloc: dict[str, dict[tuple[str, str], float]] = {}

    def alloc(self, account: str) -> dict[tuple[str, str], float]:
        if account not in self._alloc:
            self._alloc[account] = _allocate(self.into.get(account, []), self.out.get(account, []), self.rule)
        return self._alloc[account]


def trace(
    transactions: pd.DataFrame,
    account: str,
    *,
    direction: Direction = Direction.FORWARD,
    hops: int = 3,
    window_hours: float = 72.0,
    attribution: Attribution = Attribution.FIFO,
) -> TraceResult:
    """All maximal time-respecting paths of at most ``hops`` payments from (or to) ``account``."""
    if hops < 1:
        raise MoneyInputError("hops must be at least 1")
    ledger = _Ledger(transactions, attribution)
    seeds = ledger.out.get(account, []) if direction is Direction.FORWARD else ledger.into.get(account, [])
    if not seeds:
        raise MoneyInputError(
            f"account {account!r} has no {'outgoing' if direction is Direction.FORWARD else 'incoming'}"
            " payments in the data"
        )
    window = window_hours * 3600
    paths: list[TracePath] = []
    reached: dict[str, float] = {}

    def extend(path: list[Hop], seen: set[str]) -> None:
        last = path[-1]
        if direction is Direction.FORWARD:
            node, alloc = last.tx.dst, ledger.alloc(last.tx.dst)
            candidates = [
                (tx, alloc.get((last.tx.tx_id, tx.tx_id), 0.0) / last.tx.amount)
                for tx in ledger.out.get(node, [])
                if 0 < tx.t - last.tx.t <= window
            ]
            nxt = [(tx, tx.dst) for tx, _ in candidates]
        else:
            node, alloc = last.tx.src, ledger.alloc(last.tx.src)
            candidates = [
                (tx, alloc.get((tx.tx_id, last.tx.tx_id), 0.0) / last.tx.amount)
                for tx in ledger.into.get(node, [])
                if 0 < last.tx.t - tx.t <= window
            ]
            nxt = [(tx, tx.src) for tx, _ in candidates]
        grown = False
        if len(path) < hops:
            for (tx, share), (_, other) in zip(candidates, nxt, strict=True):
                traced = last.traced * share
                if traced > EPSILON and other not in seen:
                    grown = True
                    reached[other] = reached.get(other, 0.0) + traced
                    extend([*path, Hop(tx, traced)], seen | {other})
        if not grown:
            ordered = path if direction is Direction.FORWARD else list(reversed(path))
            paths.append(TracePath(tuple(ordered)))

    for seed in sorted(seeds, key=lambda tx: (tx.t, tx.tx_id)):
        other = seed.dst if direction is Direction.FORWARD else seed.src
        reached[other] = reached.get(other, 0.0) + seed.amount
        extend([Hop(seed, seed.amount)], {account, other})
    return TraceResult(
        account,
        direction,
        attribution,
        paths,
        {k: round(v, 2) for k, v in sorted(reached.items(), key=lambda kv: -kv[1])},
    )


def paths_frame(result: TraceResult) -> pd.DataFrame:
    """One row per hop, numbered by path, for CSV output."""
    rows = [
        {
            "path": n,
            "hop": i,
            "tx_id": h.tx.tx_id,
            "from_account": h.tx.src,
            "to_account": h.tx.dst,
            "t": pd.Timestamp(h.tx.t, unit="s", tz="UTC").isoformat(),
            "amount": h.tx.amount,
            "traced": round(h.traced, 2),
        }
        for n, p in enumerate(result.paths, start=1)
        for i, h in enumerate(p.hops, start=1)
    ]
    return pd.DataFrame(rows)
