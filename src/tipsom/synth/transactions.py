"""Seeded synthetic transactions with planted laundering patterns and a truth file.

Real labelled laundering data is scarce and never shareable, so accuracy is
measured on generated data, as IBM's AMLworld does. Background traffic mimics
retail payments: people paying a few recurring contacts (mostly at home, some
remittances abroad), shop purchases spread over many merchants, and payroll
twice a month. Every typology of :class:`tipsom.money.model.Typology` is then
planted on freshly opened accounts (as mule accounts usually are), and each
attempt is written to a truth file in AMLworld's patterns layout::

    BEGIN LAUNDERING ATTEMPT - FAN-IN:  Max 7-degree Fan-In
    2022/09/03 10:15,011,80000012A,...,1
    END LAUNDERING ATTEMPT - FAN-IN

The same rows are written as AMLworld CSV (which cannot express countries or
informal channels) and as tipsom's native CSV (which can). Names of people are
never generated: accounts are opaque identifiers. Exchange rates are
illustrative round figures, not market data.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tipsom.core.cells import neutral_frame
from tipsom.money.model import Channel, Typology
from tipsom.money.readers import CODE_TO_AMLWORLD
from tipsom.money.typologies import TYPOLOGIES, TypologySpec

START = int(pd.Timestamp("2022-09-01T00:00:00Z").timestamp())
SPAN_DAYS = 30
HOUR, MINUTE, DAY = 3600, 60, 86_400

#: country -> (currency, illustrative USD per unit, share of account holders)
COUNTRIES = {
    "GBR": ("GBP", 1.25, 0.12),
    "DEU": ("EUR", 1.1, 0.10),
    "ITA": ("EUR", 1.1, 0.08),
    "GRC": ("EUR", 1.1, 0.05),
    "USA": ("USD", 1.0, 0.15),
    "MEX": ("MXN", 0.05, 0.08),
    "NGA": ("NGN", 0.001, 0.10),
    "ETH": ("ETB", 0.02, 0.06),
    "TUR": ("TRY", 0.03, 0.08),
    "THA": ("THB", 0.03, 0.08),
    "PHL": ("PHP", 0.02, 0.10),
}
HIGH_RISK = {"MMR": ("MMK", 0.0005), "IRN": ("IRR", 0.00002)}
AMLWORLD_FORMAT = {
    Channel.BANK: "ACH",
    Channel.MOBILE_MONEY: "ACH",
    Channel.REMITTANCE: "Wire",
    Channel.HAWALA: "Cash",
    Channel.CASH: "Cash",
    Channel.CRYPTO: "Bitcoin",
}
NATIVE_HEADER = [
    "timestamp",
    "from_account",
    "to_account",
    "amount",
    "currency",
    "channel",
    "from_country",
    "to_country",
    "from_institution",
    "to_institution",
    "reference",
]
AMLWORLD_HEADER = [
    "Timestamp",
    "From Bank",
    "Account",
    "To Bank",
    "Account",
    "Amount Received",
    "Receiving Currency",
    "Amount Paid",
    "Payment Currency",
    "Payment Format",
    "Is Laundering",
]


@dataclass(frozen=True)
class SynthFiles:
    amlworld: Path
    native: Path
    truth: Path
    rates: Path
    links: Path


class _Accounts:
    """Account registry: ids, country and bank of every account, fresh ones on demand."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        names = list(COUNTRIES)
        weights = np.array([COUNTRIES[c][2] for c in names])
        self.country = list(rng.choice(names, size=n, p=weights / weights.sum()))
        self.bank = list(rng.integers(1, 60, size=n))

    def fresh(self, country: str | None = None) -> int:
        self.country.append(country or str(self.rng.choice(list(COUNTRIES))))
        self.bank.append(int(self.rng.integers(1, 60)))
        return len(self.country) - 1


def _rate(country: str) -> tuple[str, float]:
    if country in HIGH_RISK:
        return HIGH_RISK[country]
    cur, rate, _ = COUNTRIES[country]
    return cur, rate


def _background(rng: np.random.Generator, n: int, acc: _Accounts, n_people: int) -> pd.DataFrame:
    """Retail traffic: p2p to recurring contacts, shop purchases, payroll on the 14th and 28th."""
    span = SPAN_DAYS * DAY
    n_merchants = max(5, n_people // 50)
    merchants = rng.choice(n_people, size=n_merchants, replace=False)
    employers = rng.choice(n_people, size=max(2, n_people // 200), replace=False)
    staff = [rng.choice(n_people, size=int(rng.integers(5, 30)), replace=False) for _ in employers]
    payroll = [
        (e, s, day) for e, team in zip(employers, staff, strict=True) for s in team for day in (13, 27)
    ]
    n_rest = max(0, n - len(payroll))
    n_shop = int(n_rest * 0.4)
    n_p2p = n_rest - n_shop
    contacts = rng.integers(0, n_people, size=(n_people, 5))
    senders = rng.integers(0, n_people, size=n_p2p)
    p2p_dst = contacts[senders, rng.integers(0, 5, size=n_p2p)]
    zipf = 1.0 / (np.arange(n_merchants) + 10.0)
    shop_src = rng.integers(0, n_people, size=n_shop)
    shop_dst = merchants[rng.choice(n_merchants, size=n_shop, p=zipf / zipf.sum())]
    src = np.concatenate([senders, shop_src, [p[0] for p in payroll]]).astype(np.int64)
    dst = np.concatenate([p2p_dst, shop_dst, [p[1] for p in payroll]]).astype(np.int64)
    base = np.concatenate(
        [
            rng.lognormal(4.4, 0.9, n_p2p),
            rng.lognormal(3.7, 0.8, n_shop),
            rng.uniform(1500, 4000, len(payroll)),
        ]
    )
    minutes = rng.integers(0, span // MINUTE, size=n_p2p + n_shop) * MINUTE
    pay_t = np.array(
        [p[2] * DAY + 9 * HOUR + int(rng.integers(0, 120)) * MINUTE for p in payroll], dtype=np.int64
    )
    t = START + np.concatenate([minutes, pay_t]).astype(np.int64)
    kind = np.concatenate([np.zeros(n_p2p, int), np.ones(n_shop, int), np.full(len(payroll), 2)])
    return pd.DataFrame({"t": t, "src": src, "dst": dst, "base": base, "kind": kind})


#: A planted attempt: its label in the truth file and the indices of its rows.
Planted = tuple[str, list[int]]


class _Planter:
    """Plants one attempt of each typology on fresh accounts and records the truth."""

    def __init__(self, rng: np.random.Generator, acc: _Accounts, n_people: int) -> None:
        self.rng, self.acc, self.n_people = rng, acc, n_people
        self.rows: list[tuple[int, int, int, float, str]] = []  # t, src, dst, base amount, channel
        self.attempts: list[tuple[Typology, str, list[int]]] = []

    def _start(self, span_h: float) -> int:
        latest = SPAN_DAYS * DAY - int(span_h * HOUR) - DAY
        return START + DAY + int(self.rng.integers(0, latest // MINUTE)) * MINUTE

    def _pay(self, t: int, src: int, dst: int, base: float, channel: Channel = Channel.BANK) -> int:
        self.rows.append((t, src, dst, round(float(base), 2), channel.value))
        return len(self.rows) - 1

    def _fresh(self, k: int, country: str) -> list[int]:
        return [self.acc.fresh(country) for _ in range(k)]

    def _minutes(self, t0: int, k: int, span_h: float) -> list[int]:
        offsets = sorted(self.rng.choice(int(span_h * 60), size=k, replace=False))
        return [t0 + int(o) * MINUTE for o in offsets]

    def plant(self, spec: TypologySpec) -> None:
        """Plant one attempt of ``spec``'s typology with the pattern its ``planter`` names, recording the truth."""
        country = str(self.rng.choice(list(COUNTRIES)))
        label, ids = PLANTERS[spec.planter](self, spec.typology, country)
        self.attempts.append((spec.typology, label, ids))

    def fan(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        k = int(rng.integers(6, 13))
        hub, others = self.acc.fresh(country), self._fresh(k, country)
        ids = []
        for t, o in zip(self._minutes(self._start(36), k, 34), others, strict=True):
            pair = (o, hub) if typ is Typology.FAN_IN else (hub, o)
            ids.append(self._pay(t, *pair, rng.uniform(500, 3000)))
        return f"Max {k}-degree {'Fan-In' if typ is Typology.FAN_IN else 'Fan-Out'}", ids

    def gather_scatter(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        k_in, k_out = int(rng.integers(5, 9)), int(rng.integers(5, 9))
        hub, sources, sinks = (
            self.acc.fresh(country),
            self._fresh(k_in, country),
            self._fresh(k_out, country),
        )
        t0 = self._start(34)
        amounts = rng.uniform(800, 3000, k_in)
        ids = [self._pay(t, s, hub, a) for t, s, a in zip(self._minutes(t0, k_in, 16), sources, amounts, strict=True)]
        share = rng.dirichlet(np.full(k_out, 8.0)) * amounts.sum() * 0.95
        for t, s, a in zip(self._minutes(t0 + 17 * HOUR, k_out, 16), sinks, share, strict=True):
            ids.append(self._pay(t, hub, s, a))
        return f"Max {max(k_in, k_out)}-degree Gather-Scatter", ids

    def scatter_gather(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        k = int(rng.integers(3, 7))
        src, dst, mids = self.acc.fresh(country), self.acc.fresh(country), self._fresh(k, country)
        ids = []
        for t, m in zip(self._minutes(self._start(36), k, 12), mids, strict=True):
            a = rng.uniform(1000, 5000)
            ids.append(self._pay(t, src, m, a))
            ids.append(self._pay(t + int(rng.integers(2, 24)) * HOUR, m, dst, a * rng.uniform(0.9, 0.98)))
        return f"Max {k}-degree Scatter-Gather", ids

    def cycle(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        k = int(rng.integers(2, 7))
        nodes = self._fresh(k, country)
        t, a = self._start(150), rng.uniform(2000, 20000)
        ids = []
        for i in range(k):
            ids.append(self._pay(t, nodes[i], nodes[(i + 1) % k], a))
            t, a = t + int(rng.integers(60, 1200)) * MINUTE, a * rng.uniform(0.9, 0.99)
        return f"Max {k} hops", ids

    def structuring(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        src, dsts = self.acc.fresh(country), self._fresh(int(rng.integers(1, 3)), country)
        k = int(rng.integers(3, 7))
        ids = [self._pay(t, src, int(rng.choice(dsts)), rng.uniform(9100, 9950))
               for t in self._minutes(self._start(80), k, 78)]
        return f"{k} payments under threshold", ids

    def pass_through(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        mule, k = self.acc.fresh(country), int(rng.integers(3, 6))
        ids = []
        for t in self._minutes(self._start(200), k, 190):
            a = rng.uniform(300, 4000)
            ids.append(self._pay(t, self.acc.fresh(country), mule, a))
            ids.append(self._pay(t + int(rng.integers(120, 1200)) * MINUTE, mule, self.acc.fresh(country),
                                 a * rng.uniform(0.9, 0.98)))
        return f"{k} pass-throughs", ids

    def round_amounts(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        src, dsts = self.acc.fresh(country), self._fresh(int(rng.integers(1, 4)), country)
        _, rate = _rate(country)
        k = int(rng.integers(4, 7))
        ids = [self._pay(t, src, int(rng.choice(dsts)), 1000 * int(rng.integers(1, 10)) * rate)
               for t in self._minutes(self._start(12), k, 11)]
        return f"{k} round payments", ids

    def high_frequency(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        src, dsts = self.acc.fresh(country), self._fresh(int(rng.integers(1, 3)), country)
        k = int(rng.integers(16, 26))
        ids = [self._pay(t, src, int(rng.choice(dsts)), rng.uniform(20, 200))
               for t in self._minutes(self._start(1), k, 0.45)]
        return f"{k} payments in under an hour", ids

    def high_risk_corridor(self, typ: Typology, country: str) -> Planted:
        rng = self.rng
        src, k = self.acc.fresh(country), int(rng.integers(2, 5))
        dst = self.acc.fresh(str(rng.choice(list(HIGH_RISK))))
        ids = [self._pay(t, src, dst, rng.uniform(200, 3000),
                         Channel(str(rng.choice([Channel.HAWALA, Channel.REMITTANCE]))))
               for t in self._minutes(self._start(100), k, 96)]
        return f"{k} payments to a high-risk jurisdiction", ids


#: Each pattern a :class:`~tipsom.money.typologies.TypologySpec` can name as its ``planter``. A new typology of a
#: new shape adds its method above and one entry here; ``tests/synth`` checks every spec names one.
PLANTERS: dict[str, Callable[[_Planter, Typology, str], Planted]] = {
    "fan": _Planter.fan,
    "gather_scatter": _Planter.gather_scatter,
    "scatter_gather": _Planter.scatter_gather,
    "cycle": _Planter.cycle,
    "structuring": _Planter.structuring,
    "pass_through": _Planter.pass_through,
    "round_amounts": _Planter.round_amounts,
    "high_frequency": _Planter.high_frequency,
    "high_risk_corridor": _Planter.high_risk_corridor,
}


def _account_id(i: int) -> str:
    return f"{0x800000000 + i * 7919:09X}"


def _channel_for(kind: np.ndarray, cross: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    home = rng.choice([Channel.BANK.value, Channel.MOBILE_MONEY.value], size=len(kind), p=[0.6, 0.4])
    abroad = rng.choice(
        [Channel.REMITTANCE.value, Channel.MOBILE_MONEY.value, Channel.HAWALA.value, Channel.BANK.value],
        size=len(kind),
        p=[0.6, 0.2, 0.1, 0.1],
    )
    return np.where(kind == 0, np.where(cross, abroad, home), Channel.BANK.value)


def generate_transactions(
    n: int, seed: int, out_dir: Path, patterns_per_typology: int | None = None
) -> SynthFiles:
    """Write ``n`` transactions (background plus planted attempts) and their truth to ``out_dir``."""
    if n < 1000:
        raise ValueError("n must be at least 1000 so background traffic can hide the planted patterns")
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_people = max(200, n // 12)
    acc = _Accounts(rng, n_people)
    planter = _Planter(rng, acc, n_people)
    per = patterns_per_typology or max(4, n // 2500)
    for spec in TYPOLOGIES:
        for _ in range(per):
            planter.plant(spec)
    bg = _background(rng, n - len(planter.rows), acc, n_people)
    bg_channel = _channel_for(
        bg["kind"].to_numpy(), np.array(acc.country)[bg["src"]] != np.array(acc.country)[bg["dst"]], rng
    )
    planted = pd.DataFrame(planter.rows, columns=["t", "src", "dst", "base", "channel"])
    planted["laundering"] = 1
    frame = pd.concat(
        [planted, bg.drop(columns="kind").assign(channel=bg_channel, laundering=0)], ignore_index=True
    )
    frame["order"] = np.arange(len(frame))
    frame = frame.sort_values(["t", "order"], kind="stable").reset_index(drop=True)
    position = np.empty(len(frame), dtype=np.int64)
    position[frame["order"].to_numpy()] = np.arange(len(frame))
    truth_rows = position[: len(planted)]
    countries = pd.Series(acc.country)
    src_c = countries.iloc[frame["src"]].to_numpy()
    dst_c = countries.iloc[frame["dst"]].to_numpy()
    cur_rate = {c: _rate(c) for c in {*COUNTRIES, *HIGH_RISK}}
    currency_of = pd.Series({c: cr[0] for c, cr in cur_rate.items()})
    rate_of = pd.Series({c: cr[1] for c, cr in cur_rate.items()})
    pay_cur = currency_of[src_c].to_numpy()
    recv_cur = currency_of[dst_c].to_numpy()
    paid = np.round(frame["base"].to_numpy() / rate_of[src_c].to_numpy(), 2)
    received = np.round(frame["base"].to_numpy() / rate_of[dst_c].to_numpy(), 2)
    stamps = pd.to_datetime(frame["t"], unit="s", utc=True)
    ids = pd.Series([_account_id(i) for i in range(len(acc.country))])
    banks = pd.Series([f"{b:03d}" for b in acc.bank])
    from_acc, to_acc = ids.iloc[frame["src"]].to_numpy(), ids.iloc[frame["dst"]].to_numpy()
    from_bank, to_bank = banks.iloc[frame["src"]].to_numpy(), banks.iloc[frame["dst"]].to_numpy()
    native = pd.DataFrame(
        {
            "timestamp": stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "from_account": from_acc,
            "to_account": to_acc,
            "amount": paid,
            "currency": pay_cur,
            "channel": frame["channel"],
            "from_country": src_c,
            "to_country": dst_c,
            "from_institution": from_bank,
            "to_institution": to_bank,
            "reference": "SYN" + pd.Series(np.arange(len(frame))).astype(str).str.zfill(9),
        }
    )
    amlworld = pd.DataFrame(
        {
            "Timestamp": stamps.dt.strftime("%Y/%m/%d %H:%M"),
            "From Bank": from_bank,
            "Account": from_acc,
            "To Bank": to_bank,
            "Account.1": to_acc,
            "Amount Received": received,
            "Receiving Currency": pd.Series(recv_cur).map(lambda c: CODE_TO_AMLWORLD.get(c, c)).to_numpy(),
            "Amount Paid": paid,
            "Payment Currency": pd.Series(pay_cur).map(lambda c: CODE_TO_AMLWORLD.get(c, c)).to_numpy(),
            "Payment Format": frame["channel"].map({c.value: f for c, f in AMLWORLD_FORMAT.items()}),
            "Is Laundering": frame["laundering"],
        }
    )
    files = SynthFiles(
        out_dir / "transactions_amlworld.csv",
        out_dir / "transactions.csv",
        out_dir / "patterns.txt",
        out_dir / "rates.csv",
        out_dir / "links.csv",
    )
    neutral_frame(native).to_csv(files.native, index=False, float_format="%.2f")
    neutral_frame(amlworld).to_csv(files.amlworld, index=False, header=AMLWORLD_HEADER, float_format="%.2f")
    truth = amlworld.iloc[truth_rows].copy()
    for col in ("Amount Received", "Amount Paid"):
        truth[col] = truth[col].map("{:.2f}".format)
    lines = truth.astype(str).agg(",".join, axis=1).to_numpy()
    with files.truth.open("w", encoding="utf-8") as fh:
        for typ, label, rows in planter.attempts:
            fh.write(f"BEGIN LAUNDERING ATTEMPT - {typ.pattern_name}:  {label}\n")
            fh.writelines(lines[r] + "\n" for r in rows)
            fh.write(f"END LAUNDERING ATTEMPT - {typ.pattern_name}\n\n")
    with files.rates.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["currency", "rate"])
        writer.writerows(sorted({cur_rate[c] for c in cur_rate}))
    _write_links(files.links, planter.attempts, planter.rows, ids, rng)
    return files


def _write_links(
    path: Path,
    attempts: list[tuple[Typology, str, list[int]]],
    rows: list[tuple[int, int, int, float, str]],
    ids: pd.Series,
    rng: np.random.Generator,
) -> None:
    """Link a third of the attempts' first account to a synthetic case and person."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "identifier", "case_id", "person_id"])
        for number, (_, _, tx_rows) in enumerate(attempts, start=1):
            if rng.random() < 1 / 3:
                writer.writerow(
                    [
                        "account",
                        ids[rows[tx_rows[0]][1]],
                        f"SYN-CASE-{number:05d}",
                        f"SYN-PERSON-{number:05d}",
                    ]
                )
