"""The laundering-typology pipeline, written once in Ibis and run on DuckDB or Spark.

Every detector is a relational expression over the canonical transaction table
(see :mod:`tipsom.money.readers`) that yields *evidence rows*: the account the
finding is about, one transaction that supports it, the counterparty, and the
detector's size measure (``metric``: counterparties in the window, cycles
through the account, ...). The same expression compiles to DuckDB SQL on a
laptop and to Spark SQL on a cluster, so the two engines cannot drift apart.

Windows are fixed-width time buckets evaluated twice, the second time shifted by
half a width, so a burst that straddles a bucket edge is still seen whole; this
keeps every detector a GROUP BY or an equi-join (linear or near-linear) instead
of a quadratic sliding-window self-join.

Several detectors start from the same intermediate (fan windows, the two-hop
join); :class:`ScanInputs` builds each once per scan, and the scanner
materialises it on the engine so it is not recomputed by every detector.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
from ibis import _

from tipsom.money.config import HOUR, ScanConfig
from tipsom.money.model import AmountRule, Typology

Table = Any  # ibis.expr.types.Table; ibis ships no stubs mypy can follow


class ScanInputs:
    """The transaction table and settings, plus intermediates shared by several detectors.

    Fan windows feed fan-in, fan-out and gather-scatter; one two-hop join, made
    at the widest window and amount ratio any detector asks for, feeds
    scatter-gather and pass-through, each filtering it to its own settings.
    ``keep`` materialises an intermediate on the engine; by default it stays a
    lazy expression (each detector then recomputes it, which is correct but slower).
    """

    def __init__(self, tx: Table, cfg: ScanConfig, keep: Callable[[Table], Table] = lambda table: table) -> None:
        self.tx = tx
        self.cfg = cfg
        self._keep = keep
        self._pairs: Table | None = None
        self._fans: dict[str, tuple[Table, Table]] = {}
        self._hops: Table | None = None

    def pairs(self) -> Table:
        """Per (payer, payee): first and last payment time, amount, sum of squares and count.

        Fan-in and fan-out read the same pairs from either side.
        """
        if self._pairs is None:
            tx = self.tx
            self._pairs = self._keep(
                tx.group_by(["src", "dst"]).aggregate(
                    first=tx.t.min(),
                    last=tx.t.max(),
                    amt=tx.amount_base.sum(),
                    sq=(tx.amount_base * tx.amount_base).sum(),
                    n=tx.count(),
                )
            )
        return self._pairs

    def fan_windows(self, focal: str, cp: str) -> tuple[Table, Table]:
        """See :func:`_fan_windows`; computed once per direction."""
        if focal not in self._fans:
            win, pairs = _fan_windows(self.pairs().rename(acct=focal, cp=cp), self.cfg)
            self._fans[focal] = (self._keep(win), self._keep(pairs))
        return self._fans[focal]

    def two_hop(self, window_s: int, ratio: tuple[float, float]) -> Table:
        """Two-hop matches within ``window_s`` and ``ratio``, filtered from the shared widest join."""
        cfg = self.cfg
        if self._hops is None:
            widest = max(cfg.sg_window_hours, cfg.pass_window_hours) * HOUR
            loose = (min(cfg.hop_ratio[0], cfg.pass_ratio[0]), max(cfg.hop_ratio[1], cfg.pass_ratio[1]))
            self._hops = self._keep(_two_hop(self.tx, widest, loose))
        j = self._hops
        return j.filter(_hop_conditions(j, window_s, ratio))


def _evidence(rows: Table, account: Any, cp: Any, metric: Any) -> Table:
    return rows.select(
        account=account,
        tx_id=rows.tx_id,
        cp=cp,
        t=rows.t,
        amount_base=rows.amount_base,
        metric=metric.cast("int64"),
    )


def _bucketed(rows: Table, key: str, window_s: int, minimum: int) -> Table:
    """Rows whose (key, time bucket) group has at least ``minimum`` rows, in either bucketing."""
    parts = []
    for offset in (0, window_s // 2):
        b = rows.mutate(bucket=(rows.t + offset) // window_s)
        counts = b.group_by([key, "bucket"]).aggregate(n=_.count())
        counts = counts.filter(counts.n >= minimum).rename(k_key=key)
        joined = b.join(counts, [b[key] == counts.k_key, b.bucket == counts.bucket])
        parts.append(joined.select(*rows.columns, n=joined.n))
    return parts[0].union(parts[1])


def _fan_windows(pairs: Table, cfg: ScanConfig) -> tuple[Table, Table]:
    """Per (account, offset, bucket): one-off counterparties, and those pairs themselves.

    ``pairs`` are :meth:`ScanInputs.pairs` seen from the focal account (``acct``).
    A one-off counterparty is one whose every transaction with the account falls
    in the same window: mules and smurfs are used once, payroll and customers recur.
    """
    w = cfg.fan_window_hours * HOUR
    totals = pairs.group_by("acct").aggregate(total=_.count()).rename(t_acct="acct")
    oneoff = []
    for offset in (0, w // 2):
        p = pairs.mutate(offset=ibis.literal(offset, "int64"), bucket=(pairs.first + offset) // w)
        oneoff.append(p.filter((p.bucket == (p.last + offset) // w) & (p.n >= cfg.fan_min_pair_payments)))
    oneoff_pairs = oneoff[0].union(oneoff[1])
    win = oneoff_pairs.group_by(["acct", "offset", "bucket"]).aggregate(
        k=_.count(), amt=_.amt.sum(), sq=_.sq.sum(), n=_.n.sum()
    )
    win = win.join(totals, win.acct == totals.t_acct)
    keep = (win.k >= cfg.min_fan) & (win.k >= cfg.fan_burst_share * win.total) & (win.amt >= cfg.fan_min_amount)
    if cfg.fan_max_cv is not None:
        mean = win.amt / win.n
        variance = ibis.greatest(win.sq / win.n - mean * mean, 0.0)
        keep = keep & (variance.sqrt() <= cfg.fan_max_cv * mean)
    win = win.filter(keep)
    win = win.select("acct", "offset", "bucket", "k")
    return win, oneoff_pairs


def _pair_evidence(tx: Table, pairs: Table, focal: str, cp: str) -> Table:
    p = pairs.rename(p_acct="acct", p_cp="cp")
    j = tx.join(p, [tx[focal] == p.p_acct, tx[cp] == p.p_cp])
    return _evidence(j, j.p_acct, j.p_cp, j.k)


def fan(inputs: ScanInputs, typology: Typology) -> Table:
    """Fan-in (many one-off senders to one account) or fan-out (one account to many new payees)."""
    focal, cp = ("dst", "src") if typology is Typology.FAN_IN else ("src", "dst")
    win, pairs = inputs.fan_windows(focal, cp)
    w = win.rename(w_acct="acct", w_offset="offset", w_bucket="bucket")
    hit = pairs.join(w, [pairs.acct == w.w_acct, pairs.offset == w.w_offset, pairs.bucket == w.w_bucket])
    return _pair_evidence(inputs.tx, hit.select("acct", "cp", "k"), focal, cp)


def gather_scatter(inputs: ScanInputs) -> Table:
    """An account that fans in and then fans out in the same or the next window."""
    tx = inputs.tx
    win_in, pairs_in = inputs.fan_windows("dst", "src")
    win_out, pairs_out = inputs.fan_windows("src", "dst")
    wo = win_out.rename(o_acct="acct", o_offset="offset", o_bucket="bucket", o_k="k")
    both = win_in.join(
        wo,
        [
            win_in.acct == wo.o_acct,
            win_in.offset == wo.o_offset,
            wo.o_bucket >= win_in.bucket,
            wo.o_bucket <= win_in.bucket + 1,
        ],
    )
    both = both.mutate(gs_k=ibis.least(both.k, both.o_k))
    parts = []
    for pairs, bucket, focal, cp in (
        (pairs_in, "bucket", "dst", "src"),
        (pairs_out, "o_bucket", "src", "dst"),
    ):
        sel = both.select(w_acct="acct", w_offset="offset", w_bucket=bucket, k="gs_k")
        hit = pairs.join(sel, [pairs.acct == sel.w_acct, pairs.offset == sel.w_offset, pairs.bucket == sel.w_bucket])
        parts.append(_pair_evidence(tx, hit.select("acct", "cp", "k"), focal, cp))
    return parts[0].union(parts[1])


def _hop_conditions(j: Table, window_s: int, ratio: tuple[float, float]) -> Any:
    """The second payment follows the first within ``window_s`` and carries ``ratio`` of its amount."""
    return (j.b_t <= j.a_t + window_s) & (j.b_amt >= j.a_amt * ratio[0]) & (j.b_amt <= j.a_amt * ratio[1])


def _two_hop(tx: Table, window_s: int, ratio: tuple[float, float]) -> Table:
    """Payments a (x->m) followed by b (m->y) soon after, carrying a similar amount.

    The join is on the middle account *and* a time bucket one window wide: b
    falls in a's bucket or the next, so two equi-joins replace one join whose
    candidates are every payment in with every payment out of a busy account.
    """
    a = tx.select(a_id="tx_id", a_src="src", a_dst="dst", a_t="t", a_amt="amount_base", a_bucket=tx.t // window_s)
    b = tx.select(b_id="tx_id", b_src="src", b_dst="dst", b_t="t", b_amt="amount_base", b_bucket=tx.t // window_s)
    parts = []
    for step in (0, 1):
        j = a.join(b, [a.a_dst == b.b_src, b.b_bucket == a.a_bucket + step, b.b_t > a.a_t, b.b_dst != a.a_src])
        j = j.filter(_hop_conditions(j, window_s, ratio))
        parts.append(j.drop("a_bucket", "b_bucket"))
    return parts[0].union(parts[1])


def _hop_rows(j: Table, account: Any, metric: Any, a_cp: Any, b_cp: Any) -> Table:
    """Both payments of each two-hop match as evidence rows for ``account``."""
    first = j.select(account=account, tx_id=j.a_id, cp=a_cp, t=j.a_t, amount_base=j.a_amt, metric=metric.cast("int64"))
    second = j.select(account=account, tx_id=j.b_id, cp=b_cp, t=j.b_t, amount_base=j.b_amt, metric=metric.cast("int64"))
    return first.union(second)


def scatter_gather(inputs: ScanInputs) -> Table:
    """Money split over several intermediaries and gathered again by one beneficiary."""
    cfg = inputs.cfg
    j = inputs.two_hop(cfg.sg_window_hours * HOUR, cfg.hop_ratio)
    groups = j.group_by(["a_src", "b_dst"]).aggregate(k=j.a_dst.nunique())
    groups = groups.filter(groups.k >= cfg.min_intermediates).rename(g_src="a_src", g_dst="b_dst")
    hit = j.join(groups, [j.a_src == groups.g_src, j.b_dst == groups.g_dst])
    return _hop_rows(hit, hit.a_src, hit.k, hit.a_dst, hit.a_dst).union(
        _hop_rows(hit, hit.b_dst, hit.k, hit.a_dst, hit.a_dst)
    )


def pass_through(inputs: ScanInputs) -> Table:
    """Mule accounts: money out soon after money in, at nearly the same amount, repeatedly."""
    tx, cfg = inputs.tx, inputs.cfg
    j = inputs.two_hop(cfg.pass_window_hours * HOUR, cfg.pass_ratio)
    groups = j.group_by("a_dst").aggregate(k=j.a_id.nunique())
    incoming = tx.group_by("dst").aggregate(n_in=_.count())
    groups = groups.join(incoming, groups.a_dst == incoming.dst)
    groups = groups.filter((groups.k >= cfg.min_passes) & (groups.k >= cfg.pass_share * groups.n_in))
    groups = groups.select(g_acct="a_dst", k="k")
    hit = j.join(groups, j.a_dst == groups.g_acct)
    return _hop_rows(hit, hit.a_dst, hit.k, hit.a_src, hit.b_dst)


def cycles(inputs: ScanInputs) -> Table:
    """Time-respecting cycles up to ``cycle_max_length`` hops within ``cycle_window_hours``.

    Like 2SCENT, the search grows only paths that respect time order and stay
    inside the window from their first payment, so it never enumerates the
    graph's simple cycles; we also require each hop to carry a similar amount
    (``hop_ratio``), which is what makes a cycle a flow of the same money. The
    first payment of a time-respecting cycle is its earliest, so each cycle is
    found exactly once. On DuckDB the scanner runs the same search in numpy
    (:mod:`tipsom.money.cycles`), which is much faster on one machine.
    """
    tx, cfg = inputs.tx, inputs.cfg
    w = cfg.cycle_window_hours * HOUR
    e = tx.select("tx_id", "src", "dst", "t", "amount_base")
    paths = e.filter((e.src != e.dst) & (e.amount_base >= cfg.cycle_min_amount)).select(
        start=e.src,
        cur=e.dst,
        t0=e.t,
        tl=e.t,
        al=e.amount_base,
        nodes=ibis.array([e.src, e.dst]),
        ids=ibis.array([e.tx_id]),
    )
    found = []
    for _hop in range(2, cfg.cycle_max_length + 1):
        x = e.rename(x_id="tx_id", x_src="src", x_dst="dst", x_t="t", x_amt="amount_base")
        step = [paths.cur == x.x_src, x.x_t > paths.tl, x.x_t <= paths.t0 + w]
        if cfg.cycle_amounts is AmountRule.SIMILAR:
            step += [x.x_amt >= paths.al * cfg.hop_ratio[0], x.x_amt <= paths.al * cfg.hop_ratio[1]]
        ext = paths.join(x, step)
        found.append(
            ext.filter(ext.x_dst == ext.start).select(cycle=ext.ids.concat(ibis.array([ext.x_id])), nodes=ext.nodes)
        )
        if _hop < cfg.cycle_max_length:
            grow = ext.filter((ext.x_dst != ext.start) & ~ext.nodes.contains(ext.x_dst))
            paths = grow.select(
                start=grow.start,
                cur=grow.x_dst,
                t0=grow.t0,
                tl=grow.x_t,
                al=grow.x_amt,
                nodes=grow.nodes.concat(ibis.array([grow.x_dst])),
                ids=grow.ids.concat(ibis.array([grow.x_id])),
            )
    allc = found[0]
    for more in found[1:]:
        allc = allc.union(more)
    allc = allc.mutate(cycle_key=allc.cycle.sort().join(","))
    members = allc.select("cycle_key", "cycle", account=allc.nodes.unnest())
    per_account = members.group_by("account").aggregate(k=members.cycle_key.nunique())
    rows = members.select("account", "cycle_key", tx_id=members.cycle.unnest())
    per_account = per_account.rename(p_account="account")
    rows = rows.join(per_account, rows.account == per_account.p_account)
    t = tx.select(e_id="tx_id", e_src="src", e_dst="dst", e_t="t", e_amt="amount_base")
    rows = rows.join(t, rows.tx_id == t.e_id)
    cp = ibis.ifelse(rows.e_dst == rows.account, rows.e_src, rows.e_dst)
    return _evidence(rows.mutate(amount_base=rows.e_amt, t=rows.e_t), rows.account, cp, rows.k)


def structuring(inputs: ScanInputs) -> Table:
    """Repeated payments just under the reporting threshold from one account."""
    tx, cfg = inputs.tx, inputs.cfg
    low = cfg.reporting_threshold * (1 - cfg.structuring_margin)
    rows = tx.filter((tx.amount_base >= low) & (tx.amount_base < cfg.reporting_threshold))
    hit = _bucketed(rows, "src", cfg.structuring_window_hours * HOUR, cfg.min_structured)
    return _evidence(hit, hit.src, hit.dst, hit.n)


def round_amounts(inputs: ScanInputs) -> Table:
    """Bursts of round sums (whole thousands in the payment's own currency)."""
    tx, cfg = inputs.tx, inputs.cfg
    rows = tx.filter((tx.amount >= cfg.round_unit) & ((tx.amount % cfg.round_unit) == 0))
    hit = _bucketed(rows, "src", cfg.round_window_hours * HOUR, cfg.min_round)
    return _evidence(hit, hit.src, hit.dst, hit.n)


def high_frequency(inputs: ScanInputs) -> Table:
    """Many payments from one account within a short burst window."""
    tx, cfg = inputs.tx, inputs.cfg
    hit = _bucketed(tx, "src", cfg.burst_window_hours * HOUR, cfg.min_burst)
    return _evidence(hit, hit.src, hit.dst, hit.n)


def corridor_flag(tx: Table, cfg: ScanConfig) -> Any:
    """Boolean expression: the payment runs through a high-risk country or corridor."""
    risky = list(cfg.high_risk_countries)
    flag = tx.src_country.isin(risky) | tx.dst_country.isin(risky) if risky else ibis.literal(False)
    for rule in cfg.high_risk_corridors:
        cond = ibis.literal(True)
        for column, value in (
            ("src_country", rule.src_country),
            ("dst_country", rule.dst_country),
            ("channel", rule.channel),
        ):
            if value:
                cond = cond & (tx[column] == value)
        flag = flag | cond
    return flag


def high_risk_corridor(inputs: ScanInputs) -> Table:
    """Accounts sending money through high-risk jurisdictions or corridors."""
    tx, cfg = inputs.tx, inputs.cfg
    rows = tx.filter(corridor_flag(tx, cfg))
    counts = rows.group_by("src").aggregate(n=_.count()).rename(c_src="src")
    hit = rows.join(counts, rows.src == counts.c_src)
    return _evidence(hit, hit.src, hit.dst, hit.n)


class Role(enum.StrEnum):
    """How a typology's findings weigh against each other's when they share transactions."""

    #: A network shape (cycle, split and merge): it explains the payments it covers.
    STRUCTURAL = "structural"
    #: A local pattern (fan, pass-through) dropped when a structural finding covers most of its payments.
    SUBSUMED = "subsumed"
    #: Stands on its own.
    INDEPENDENT = "independent"


@dataclass(frozen=True)
class TypologySpec:
    """Everything tipsom knows about one typology, in one place.

    Adding a typology means adding a :class:`Typology` member and one entry to
    :data:`TYPOLOGIES`; the scan runs its detector, scores its findings against
    its threshold field of :class:`ScanConfig`, and the synthetic generator
    plants it with the pattern its ``planter`` names.
    """

    typology: Typology
    detector: Callable[[ScanInputs], Table]
    #: The :class:`ScanConfig` field holding the smallest ``metric`` a finding has; None means 1.
    threshold_field: str | None
    role: Role
    #: What the typology is, for documentation and the findings' readers.
    description: str
    #: The pattern ``tipsom.synth.transactions`` plants for it (a key of its ``PLANTERS``; typologies of one
    #: shape, as fan-in and fan-out, share one). Named, not imported: the generator sits above this module.
    planter: str

    def threshold(self, cfg: ScanConfig) -> int:
        """The minimum ``metric`` a finding of this typology has under ``cfg`` (for scoring)."""
        return int(getattr(cfg, self.threshold_field)) if self.threshold_field else 1


#: Every typology the scan detects, in the order findings are computed and planted (the order of
#: :class:`Typology`: synthetic data planted in another order would draw other random numbers).
TYPOLOGIES: tuple[TypologySpec, ...] = (
    TypologySpec(Typology.FAN_IN, lambda inputs: fan(inputs, Typology.FAN_IN), "min_fan", Role.SUBSUMED,
                 "many one-off senders pay one account within a window", planter="fan"),
    TypologySpec(Typology.FAN_OUT, lambda inputs: fan(inputs, Typology.FAN_OUT), "min_fan", Role.SUBSUMED,
                 "one account pays many one-off payees within a window", planter="fan"),
    TypologySpec(Typology.SCATTER_GATHER, scatter_gather, "min_intermediates", Role.STRUCTURAL,
                 "money split over intermediaries and gathered again", planter="scatter_gather"),
    TypologySpec(Typology.GATHER_SCATTER, gather_scatter, "min_fan", Role.STRUCTURAL,
                 "an account collects from many senders, then pays many payees", planter="gather_scatter"),
    TypologySpec(Typology.CYCLE, cycles, None, Role.STRUCTURAL,
                 "money returns to its origin through time-ordered payments", planter="cycle"),
    TypologySpec(Typology.STRUCTURING, structuring, "min_structured", Role.INDEPENDENT,
                 "repeated payments just under the reporting threshold", planter="structuring"),
    TypologySpec(Typology.PASS_THROUGH, pass_through, "min_passes", Role.SUBSUMED,
                 "incoming payments forwarded almost whole and at once", planter="pass_through"),
    TypologySpec(Typology.ROUND_AMOUNTS, round_amounts, "min_round", Role.INDEPENDENT,
                 "many round-amount payments within a window", planter="round_amounts"),
    TypologySpec(Typology.HIGH_FREQUENCY, high_frequency, "min_burst", Role.INDEPENDENT,
                 "a burst of payments within a short window", planter="high_frequency"),
    TypologySpec(Typology.HIGH_RISK_CORRIDOR, high_risk_corridor, None, Role.INDEPENDENT,
                 "payments through high-risk jurisdictions or corridors", planter="high_risk_corridor"),
)
#: The specification of each typology.
SPECS: dict[Typology, TypologySpec] = {spec.typology: spec for spec in TYPOLOGIES}


def summarise(evidence: Table) -> Table:
    """One row per account: sorted transaction ids, counterparties, amount, span and metric."""
    per = evidence.group_by("account").aggregate(metric=evidence.metric.max()).rename(m_account="account")
    dist = evidence.select("account", "tx_id", "cp", "t", "amount_base").distinct()
    agg = dist.group_by("account").aggregate(
        tx_ids=dist.tx_id.collect(distinct=True),
        cps=dist.cp.collect(distinct=True),
        n_tx=dist.tx_id.nunique(),
        # exact decimal sum: a float sum depends on the engine's order of rows, and
        # a total ending in half a cent would round differently from run to run
        amount=dist.amount_base.cast("decimal(38, 6)").sum().cast("float64"),
        first_t=dist.t.min(),
        last_t=dist.t.max(),
    )
    out = agg.join(per, agg.account == per.m_account)
    return out.select(
        "account",
        "metric",
        "n_tx",
        "amount",
        "first_t",
        "last_t",
        tx_ids=out.tx_ids.sort(),
        cps=out.cps.sort(),
    )
