"""Time-respecting cycles found by a vectorised frontier search (numpy, in process).

A temporal cycle is a simple cycle of payments ``e1 .. ek`` (no account twice)
whose times strictly increase and whose last payment is at most ``window``
seconds after the first; the same definition as 2SCENT and IBM's Graph Feature
Preprocessor. Because times strictly increase, the first payment of a cycle is
its earliest, so growing paths forward from every payment finds each cycle once.

The search never enumerates the graph's static cycles. It works on arrays:

1. payments that cannot lie on any cycle are pruned first, repeatedly: a payment
   ``u -> v`` at ``t`` needs a payment out of ``v`` and one into ``u`` (the
   cycle's next and previous payments), each at most a window away in time;
2. every surviving payment large enough to open a cycle starts a path; at each
   hop all paths are extended at once with the payments out of their current account that fall in
   ``(last time, first time + window]``, found by binary search in payments
   sorted by (account, time);
3. a path whose new payment returns to its first account is a cycle; one that
   reaches an account already on it is dropped.

Start payments are processed in chunks, which keeps the frontier's memory in check on dense graphs.
:func:`tipsom.money.typologies.cycles` is the same search as an Ibis expression,
for Spark; the tests check that both return the same cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tipsom.money.config import HOUR, ScanConfig
from tipsom.money.model import AmountRule

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Start payments searched together; keeps the frontier's memory in check on dense graphs.
CHUNK = 1 << 18
#: Pruning rounds at most; each removes payments whose only neighbours were removed before.
PRUNE_ROUNDS = 12


@dataclass(frozen=True)
class CycleSet:
    """Cycles as rows of payment positions (into the input arrays), padded with -1."""

    payments: IntArray
    lengths: IntArray

    def __len__(self) -> int:
        return len(self.lengths)


def _ranges(keys: IntArray, at: IntArray, window: int) -> tuple[IntArray, IntArray]:
    """For each (sorted) query, the slice of sorted ``keys`` within ``window`` of it."""
    return np.searchsorted(keys, at - window, side="left"), np.searchsorted(keys, at + window, side="right")


def _any_kept(kept_sorted: npt.NDArray[np.bool_], lo: IntArray, hi: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each slice ``[lo, hi)`` of the sorted payments still holds a kept one."""
    running = np.concatenate([[0], np.cumsum(kept_sorted)])
    return running[hi] > running[lo]


def _prune(
    src: IntArray, dst: IntArray, t: IntArray, keep: npt.NDArray[np.bool_], window: int, span: int
) -> npt.NDArray[np.bool_]:
    """Drop payments that have no possible next payment (out of the payee) or previous one (into the payer).

    On a cycle the next payment of the last one is the first, which is earlier:
    so both neighbours are looked for on either side, within one window. The
    candidate neighbours of every payment are found once by binary search (with
    sorted queries, each search starts where the last ended); each round then
    only asks whether a candidate survived the previous rounds.
    """
    idx = np.flatnonzero(keep)
    payer_keys = src[idx] * span + t[idx]
    payee_keys = dst[idx] * span + t[idx]
    by_payer = np.argsort(payer_keys)
    by_payee = np.argsort(payee_keys)
    outgoing, incoming = payer_keys[by_payer], payee_keys[by_payee]
    next_lo, next_hi = _ranges(outgoing, incoming, window)  # payments out of each payee, by payee order
    prev_lo, prev_hi = _ranges(incoming, outgoing, window)  # payments into each payer, by payer order
    alive = np.ones(len(idx), dtype=bool)
    for _ in range(PRUNE_ROUNDS):
        ok = np.zeros(len(idx), dtype=bool)
        ok[by_payee] = _any_kept(alive[by_payer], next_lo, next_hi)
        ok[by_payer] &= _any_kept(alive[by_payee], prev_lo, prev_hi)
        ok &= alive
        if (ok == alive).all():
            break
        alive = ok
    out = np.zeros_like(keep)
    out[idx[alive]] = True
    return out


def temporal_cycles(
    src: IntArray,
    dst: IntArray,
    t: IntArray,
    amount: FloatArray,
    *,
    max_length: int,
    window: int,
    min_amount: float = 0.0,
    hop_ratio: tuple[float, float] | None = None,
) -> CycleSet:
    """Every temporal cycle of 2..``max_length`` payments spanning at most ``window`` seconds.

    ``src`` and ``dst`` are integer account codes. With ``hop_ratio`` each payment
    must carry that fraction of the one before it (the same money moving on); a
    cycle's first payment must be at least ``min_amount``.
    """
    n = len(src)
    if n == 0 or max_length < 2:
        return CycleSet(np.empty((0, max_length), np.int64), np.empty(0, np.int64))
    t0 = int(t.min())
    rel = t.astype(np.int64) - t0
    # keys (account, time) must not collide: leave a window's room on both sides of every account
    span = int(rel.max()) + 2 * window + 2
    rel = rel + window + 1
    keep = _prune(src, dst, rel, src != dst, window, span)
    cand = np.flatnonzero(keep)
    order = cand[np.lexsort((rel[cand], src[cand]))]
    keys = src[order] * span + rel[order]
    first = order[amount[order] >= min_amount]
    found_rows: list[IntArray] = []
    found_len: list[IntArray] = []
    for begin in range(0, len(first), CHUNK):
        starts = first[begin : begin + CHUNK]
        rows, lengths = _grow(starts, order, keys, src, dst, rel, amount, span, window, max_length, hop_ratio)
        found_rows.append(rows)
        found_len.append(lengths)
    if not found_rows:
        return CycleSet(np.empty((0, max_length), np.int64), np.empty(0, np.int64))
    return CycleSet(np.concatenate(found_rows), np.concatenate(found_len))


def _grow(
    starts: IntArray,
    order: IntArray,
    keys: IntArray,
    src: IntArray,
    dst: IntArray,
    rel: IntArray,
    amount: FloatArray,
    span: int,
    window: int,
    max_length: int,
    hop_ratio: tuple[float, float] | None,
) -> tuple[IntArray, IntArray]:
    """Extend paths from ``starts`` hop by hop; return the closed ones."""
    path = np.full((len(starts), max_length), -1, np.int64)
    path[:, 0] = starts
    nodes = np.full((len(starts), max_length), -1, np.int64)
    nodes[:, 0] = dst[starts]
    first = src[starts]
    t_first = rel[starts]
    last = starts
    closed_rows: list[IntArray] = []
    closed_len: list[IntArray] = []
    for hop in range(1, max_length):
        if len(last) == 0:
            break
        cur = dst[last]
        lo = np.searchsorted(keys, cur * span + rel[last], side="right")
        hi = np.searchsorted(keys, cur * span + t_first + window, side="right")
        counts = hi - lo
        parent = np.repeat(np.arange(len(last)), counts)
        offset = np.arange(len(parent)) - np.repeat(np.cumsum(counts) - counts, counts)
        nxt = order[lo[parent] + offset]
        if hop_ratio is not None:
            before = amount[last[parent]]  # compared as the relational version does, product by product
            ok = (amount[nxt] >= before * hop_ratio[0]) & (amount[nxt] <= before * hop_ratio[1])
            parent, nxt = parent[ok], nxt[ok]
        payee = dst[nxt]
        closes = payee == first[parent]
        if closes.any():
            rows = path[parent[closes]].copy()
            rows[:, hop] = nxt[closes]
            closed_rows.append(rows)
            closed_len.append(np.full(len(rows), hop + 1, np.int64))
        if hop == max_length - 1:
            break
        revisits = (nodes[parent, :hop] == payee[:, None]).any(axis=1)
        go = ~closes & ~revisits
        parent, nxt = parent[go], nxt[go]
        path = path[parent]
        path[:, hop] = nxt
        nodes = nodes[parent]
        nodes[:, hop] = dst[nxt]
        first, t_first, last = first[parent], t_first[parent], nxt
    if not closed_rows:
        return np.empty((0, max_length), np.int64), np.empty(0, np.int64)
    return np.concatenate(closed_rows), np.concatenate(closed_len)


def smallest_hop(cfg: ScanConfig) -> float:
    """No payment below this amount can be on a cycle under ``cfg``.

    A cycle starts with at least ``cycle_min_amount`` and, with similar amounts,
    each hop keeps at least ``hop_ratio[0]`` of the one before; the bound is
    loosened by a millionth so float rounding can never exclude a payment.
    """
    if cfg.cycle_amounts is AmountRule.ANY:
        return 0.0
    shrink = min(cfg.hop_ratio[0], 1.0) ** max(cfg.cycle_max_length - 1, 0)
    return cfg.cycle_min_amount * shrink * (1 - 1e-6)


def find_cycles(tx: pd.DataFrame, cfg: ScanConfig) -> CycleSet:
    """The temporal cycles of the canonical table ``tx`` under ``cfg``'s cycle settings.

    Payments too small to be on any cycle are dropped before the accounts are
    coded, which on retail data leaves a small share of the table to search.
    Payment positions in the result refer to rows of ``tx``.
    """
    amount = tx["amount_base"].to_numpy(dtype=np.float64)
    rows = np.flatnonzero(amount >= smallest_hop(cfg))
    codes, _ = pd.factorize(pd.concat([tx["src"].iloc[rows], tx["dst"].iloc[rows]], ignore_index=True))
    found = temporal_cycles(
        codes[: len(rows)].astype(np.int64),
        codes[len(rows) :].astype(np.int64),
        tx["t"].to_numpy(dtype=np.int64)[rows],
        amount[rows],
        max_length=cfg.cycle_max_length,
        window=cfg.cycle_window_hours * HOUR,
        min_amount=cfg.cycle_min_amount,
        hop_ratio=cfg.hop_ratio if cfg.cycle_amounts is AmountRule.SIMILAR else None,
    )
    payments = np.where(found.payments >= 0, rows[np.maximum(found.payments, 0)], -1)
    return CycleSet(payments, found.lengths)


def cycle_evidence(tx: pd.DataFrame, cfg: ScanConfig) -> pd.DataFrame:
    """Evidence rows (see :mod:`tipsom.money.typologies`) for the accounts on cycles in ``tx``.

    Each account on a cycle cites every payment of it; its metric is the number
    of cycles through the account. A set of payments with strictly increasing
    times has one order, so no cycle is found twice and counting rows is exact.
    """
    cycles = find_cycles(tx, cfg)
    width = cycles.payments.shape[1]
    cycle_no = np.repeat(np.arange(len(cycles)), width)
    flat = cycles.payments.ravel()
    cycle_no, flat = cycle_no[flat >= 0], flat[flat >= 0]
    used, pay = np.unique(flat, return_inverse=True)
    sub = tx.iloc[used]
    codes, accounts = pd.factorize(pd.concat([sub["src"], sub["dst"]], ignore_index=True))
    payer, payee = codes[: len(used)], codes[len(used) :]
    # every account of a cycle is the payer of one of its payments; it meets each of the cycle's payments
    members = pd.DataFrame({"cycle": cycle_no, "account": payer[pay]})
    rows = members.merge(pd.DataFrame({"cycle": cycle_no, "pay": pay}), on="cycle")
    account = rows["account"].to_numpy()
    at = rows["pay"].to_numpy()
    through = np.bincount(members["account"].to_numpy(), minlength=len(accounts))
    names = np.asarray(accounts, dtype=object)
    return pd.DataFrame(
        {
            "account": pd.Series(names[account], dtype="str"),
            "tx_id": pd.Series(sub["tx_id"].to_numpy()[at], dtype="str"),
            "cp": pd.Series(names[np.where(payee[at] == account, payer[at], payee[at])], dtype="str"),
            "t": sub["t"].to_numpy(dtype=np.int64)[at],
            "amount_base": sub["amount_base"].to_numpy(dtype=np.float64)[at],
            "metric": through[account].astype(np.int64),
        }
    )
