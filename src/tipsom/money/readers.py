"""Read transaction files into one canonical table, reporting every bad row.

Each source (our native CSV, IBM AMLworld and AMLSim, goAML XML, crypto
transfer lists) is mapped onto the columns in :data:`TX_COLUMNS`, then checked
by the same validator, so a malformed row is reported the same way whatever the
format: file, row, field and reason. Rows are never dropped silently: with
:attr:`ErrorPolicy.FAIL` a bad row rejects the file; with ``SKIP`` the good rows
are analysed and the bad ones are returned for the user to fix.

Amounts are converted to one base currency with a rates table the user
supplies (money moved across currencies cannot be summed otherwise); transaction
ids are content hashes, so findings can be matched to truth files that only
repeat the transaction's fields.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipsom.core.cells import neutral_row, restore_frame
from tipsom.core.textinput import decode_utf8, read_utf8
from tipsom.money.model import TX_COLUMNS, Channel, ErrorPolicy, InputFormat, MoneyInputError, RowError

#: AMLworld writes currency names, not codes.
AMLWORLD_CURRENCIES = {
    "US DOLLAR": "USD",
    "EURO": "EUR",
    "YUAN": "CNY",
    "YEN": "JPY",
    "UK POUND": "GBP",
    "RUPEE": "INR",
    "RUBLE": "RUB",
    "CANADIAN DOLLAR": "CAD",
    "AUSTRALIAN DOLLAR": "AUD",
    "SWISS FRANC": "CHF",
    "MEXICAN PESO": "MXN",
    "BRAZIL REAL": "BRL",
    "SHEKEL": "ILS",
    "SAUDI RIYAL": "SAR",
    "BITCOIN": "BTC",
}
CODE_TO_AMLWORLD = {
    code: name.title().replace("Uk ", "UK ").replace("Us ", "US ") for name, code in AMLWORLD_CURRENCIES.items()
}
#: Crypto assets accepted without a rates table (ISO 4217 has none of them).
CRYPTO_ASSETS = frozenset({"BTC", "ETH", "USDT", "USDC", "TRX", "XMR", "LTC", "BNB", "DAI", "BCH", "SOL", "XRP"})

#: AMLworld "Payment Format" values and the channel each one travels through.
AMLWORLD_CHANNELS = {
    "CHEQUE": Channel.BANK,
    "ACH": Channel.BANK,
    "CREDIT CARD": Channel.BANK,
    "WIRE": Channel.BANK,
    "REINVESTMENT": Channel.BANK,
    "CASH": Channel.CASH,
    "BITCOIN": Channel.CRYPTO,
}
CHANNEL_ALIASES = {
    "bank": Channel.BANK,
    "bank transfer": Channel.BANK,
    "wire": Channel.BANK,
    "mobile money": Channel.MOBILE_MONEY,
    "mobile_money": Channel.MOBILE_MONEY,
    "momo": Channel.MOBILE_MONEY,
    "hawala": Channel.HAWALA,
    "hundi": Channel.HAWALA,
    "remittance": Channel.REMITTANCE,
    "remittance company": Channel.REMITTANCE,
    "money transfer operator": Channel.REMITTANCE,
    "mto": Channel.REMITTANCE,
    "crypto": Channel.CRYPTO,
    "cash": Channel.CASH,
}

#: AMLSim time is a step number; we place step 0 at this instant, one step per day.
AMLSIM_ORIGIN = pd.Timestamp("2020-01-01T00:00:00Z")
AMLSIM_STEP_SECONDS = 86_400

#: Largest amount accepted in one transaction, in its own currency and in the
#: base currency: a trillion. Real payments stay far below it, and corridor totals
#: are summed as whole cents in 64-bit integers, which a few values near 1e308 (a
#: typo or an attack) would overflow far from the row that caused it.
MAX_AMOUNT = 1e12

NATIVE_COLUMNS = ("timestamp", "from_account", "to_account", "amount", "currency")
CRYPTO_COLUMNS = ("timestamp", "chain", "tx_hash", "from_address", "to_address", "amount", "asset")
AMLSIM_COLUMNS = ("sourceNodeId", "targetNodeId", "value", "time")


@dataclass(frozen=True)
class Rates:
    """Units of the base currency per one unit of each currency."""

    base: str
    per_unit: dict[str, float]

    @classmethod
    def load(cls, path: Path) -> Rates:
        """Read ``currency,rate`` rows; the base currency is the one whose rate is 1."""
        per_unit: dict[str, float] = {}
        errors: list[RowError] = []
        reader = csv.DictReader(io.StringIO(read_utf8(path), newline=""))
        if not reader.fieldnames or not {"currency", "rate"} <= set(reader.fieldnames):
            raise MoneyInputError(f"{path}: rates table needs the columns currency,rate")
        for number, rec in enumerate(reader, start=2):
            code = normalise_currency(rec["currency"] or "")
            try:
                rate = float(rec["rate"] or "")
            except ValueError:
                errors.append(RowError(str(path), number, "rate", f"not a number: {rec['rate']!r}"))
                continue
            if not code or not 0 < rate < math.inf:
                errors.append(RowError(str(path), number, "rate", "needs a currency and a finite rate > 0"))
                continue
            per_unit[code] = rate
        if errors:
            raise _row_errors(path, errors, "the rates were not read")
        base = next((c for c, r in per_unit.items() if r == 1.0), "")
        if not base:
            raise MoneyInputError(f"{path}: no currency has rate 1, so there is no base currency")
        return cls(base, per_unit)


def _row_errors(path: Path, errors: list[RowError], consequence: str) -> MoneyInputError:
    """One line when one row is wrong (the common case: a typo); a count and the list otherwise."""
    if len(errors) == 1:
        return MoneyInputError(f"{errors[0]}; {consequence}")
    return MoneyInputError(f"{path}: {len(errors)} malformed row(s); {consequence}", errors)


@dataclass(frozen=True)
class LoadResult:
    """The canonical transactions plus every row that was rejected."""

    transactions: pd.DataFrame
    errors: list[RowError]
    base_currency: str


def normalise_currency(value: str) -> str:
    text = value.strip()
    return AMLWORLD_CURRENCIES.get(text.upper(), text.upper())


@lru_cache(maxsize=4096)
def normalise_country(value: str) -> str | None:
    """ISO 3166 alpha-2, alpha-3 or English name to alpha-3; ``""`` stays empty; None if unknown."""
    import pycountry

    text = value.strip()
    if not text:
        return ""
    try:
        return str(pycountry.countries.lookup(text).alpha_3)
    except LookupError:
        return None


@lru_cache(maxsize=1)
def _iso_currencies() -> frozenset[str]:
    import pycountry

    return frozenset(str(c.alpha_3) for c in pycountry.currencies)


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
    except Exception as exc:  # pyarrow reports ragged rows with their line
        raise MoneyInputError(f"{path}: cannot read as CSV: {exc}") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise MoneyInputError(f"{path}: missing columns {missing}; found {list(frame.columns)}")
    frame = restore_frame(frame)
    frame.insert(0, "row", np.arange(2, len(frame) + 2))
    return frame


def map_distinct(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``values.map(func)`` calling ``func`` once per distinct value, not once per row.

    Currencies, channels and countries repeat millions of times in a large file;
    normalising each distinct spelling once turns a per-row Python loop into a
    hash lookup.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    mapped = pd.Series(uniques).map(func)
    return pd.Series(mapped.to_numpy()[codes], index=values.index, dtype=mapped.dtype)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=str)


def _native(path: Path) -> pd.DataFrame:
    f = _read_csv(path, NATIVE_COLUMNS)
    return pd.DataFrame(
        {
            "row": f["row"],
            "ts_raw": _col(f, "timestamp"),
            "t": _iso_seconds(_col(f, "timestamp")),
            "src": _col(f, "from_account"),
            "dst": _col(f, "to_account"),
            "amount_raw": _col(f, "amount"),
            "currency": _col(f, "currency"),
            "channel_raw": _col(f, "channel").replace("", "bank"),
            "src_country": _col(f, "from_country"),
            "dst_country": _col(f, "to_country"),
            "src_institution": _col(f, "from_institution"),
            "dst_institution": _col(f, "to_institution"),
            "reference": _col(f, "reference"),
        }
    )


def _amlworld(path: Path) -> pd.DataFrame:
    """AMLworld's header repeats ``Account``; columns are taken by position."""
    with path.open("rb") as fh:
        first = decode_utf8(fh.readline(), file=path, row=1)
    header = next(csv.reader([first]), [])
    expected = [
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
    ]
    if [h.strip() for h in header[:10]] != expected:
        raise MoneyInputError(f"{path}: not an AMLworld file; header should start {expected}, got {header}")
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            header=0,
            engine="pyarrow",
            names=[*_AMLWORLD_NAMES, *[f"extra{i}" for i in range(len(header) - 10)]],
        )
    except Exception as exc:
        raise MoneyInputError(f"{path}: cannot read as CSV: {exc}") from exc
    frame.insert(0, "row", np.arange(2, len(frame) + 2))
    return _amlworld_columns(frame)


_AMLWORLD_NAMES = [
    "ts",
    "from_bank",
    "from_account",
    "to_bank",
    "to_account",
    "amount_received",
    "receiving_currency",
    "amount_paid",
    "payment_currency",
    "payment_format",
]


def _amlworld_columns(f: pd.DataFrame) -> pd.DataFrame:
    """Shared with the truth-file reader, which holds the same rows inside pattern blocks."""
    ts = _col(f, "ts")
    t = pd.to_datetime(ts, format="%Y/%m/%d %H:%M", errors="coerce", utc=True)
    return pd.DataFrame(
        {
            "row": f["row"],
            "ts_raw": ts,
            "t": _seconds(t),
            "src": _col(f, "from_account"),
            "dst": _col(f, "to_account"),
            "amount_raw": _col(f, "amount_paid"),
            "currency": _col(f, "payment_currency"),
            "channel_raw": _col(f, "payment_format")
            .str.upper()
            .pipe(map_distinct, lambda v: AMLWORLD_CHANNELS[v].value if v in AMLWORLD_CHANNELS else v),
            "src_country": "",
            "dst_country": "",
            "src_institution": _col(f, "from_bank"),
            "dst_institution": _col(f, "to_bank"),
            "reference": "",
        }
    )


def _amlsim(path: Path) -> pd.DataFrame:
    f = _read_csv(path, AMLSIM_COLUMNS)
    step = pd.to_numeric(_col(f, "time"), errors="coerce")
    step = step.where(step == step.round())
    t = (int(AMLSIM_ORIGIN.timestamp()) + step * AMLSIM_STEP_SECONDS).astype("Int64")
    return pd.DataFrame(
        {
            "row": f["row"],
            "ts_raw": _col(f, "time"),
            "t": t,
            "src": _col(f, "sourceNodeId"),
            "dst": _col(f, "targetNodeId"),
            "amount_raw": _col(f, "value"),
            "currency": "USD",
            "channel_raw": "bank",
            "src_country": "",
            "dst_country": "",
            "src_institution": "",
            "dst_institution": "",
            "reference": "",
        }
    )


def _crypto(path: Path) -> pd.DataFrame:
    f = _read_csv(path, CRYPTO_COLUMNS)
    return pd.DataFrame(
        {
            "row": f["row"],
            "ts_raw": _col(f, "timestamp"),
            "t": _iso_seconds(_col(f, "timestamp")),
            "src": _col(f, "from_address"),
            "dst": _col(f, "to_address"),
            "amount_raw": _col(f, "amount"),
            "currency": _col(f, "asset"),
            "channel_raw": "crypto",
            "src_country": "",
            "dst_country": "",
            "src_institution": _col(f, "chain"),
            "dst_institution": _col(f, "chain"),
            "reference": _col(f, "tx_hash"),
        }
    )


def _seconds(ts: pd.Series) -> pd.Series:
    out = pd.Series(pd.NA, index=ts.index, dtype="Int64")
    ok = ts.notna()
    out[ok] = (ts[ok] - pd.Timestamp("1970-01-01T00:00:00Z")) // pd.Timedelta(seconds=1)
    return out


def _iso_seconds(raw: pd.Series) -> pd.Series:
    """ISO 8601 timestamps; those without a zone are taken as UTC."""
    return _seconds(pd.to_datetime(raw, format="ISO8601", errors="coerce", utc=True))


def canonicalise(raw: pd.DataFrame, file: str, rates: Rates | None) -> tuple[pd.DataFrame, list[RowError]]:
    """Validate the per-format columns and build the canonical table (bad rows removed, reported)."""
    errors: list[RowError] = []
    bad = pd.Series(False, index=raw.index)

    def check(mask: pd.Series, field: str, reason: str, column: str | None = None) -> None:
        """Report the rows under ``mask``; ``reason`` is completed with the offending raw value.

        The message is built for bad rows only: formatting every row of a large,
        clean file would cost more than validating it.
        """
        nonlocal bad
        for idx in raw.index[mask.to_numpy(dtype=bool)]:
            why = reason.format(raw.at[idx, column]) if column else reason
            errors.append(RowError(file, int(raw.at[idx, "row"]), field, why))
        bad |= mask

    check(raw["t"].isna(), "timestamp", "cannot read timestamp {!r}", "ts_raw")
    for side, label in (("src", "from account"), ("dst", "to account")):
        check(raw[side] == "", label, "missing")
    amount = pd.to_numeric(raw["amount_raw"], errors="coerce")
    not_number = amount.isna() | ~np.isfinite(amount.fillna(0))
    check(not_number, "amount", "not a number: {!r}", "amount_raw")
    check(~not_number & (amount < 0), "amount", "negative amount {}", "amount_raw")
    check(~not_number & (amount > MAX_AMOUNT), "amount", f"implausible amount {{}} (above {MAX_AMOUNT:,.0f})",
          "amount_raw")
    currency = map_distinct(raw["currency"], normalise_currency)
    known = set(rates.per_unit) if rates else _iso_currencies() | CRYPTO_ASSETS
    where = "not in the rates table" if rates else "not an ISO 4217 code or known crypto asset"
    check(~currency.isin(known), "currency", f"unknown currency {{!r}} ({where})", "currency")
    channel = map_distinct(
        raw["channel_raw"].str.lower(), lambda v: CHANNEL_ALIASES[v].value if v in CHANNEL_ALIASES else ""
    )
    check(channel == "", "channel", "unknown channel {!r}", "channel_raw")
    countries = {}
    for side in ("src_country", "dst_country"):
        countries[side] = map_distinct(raw[side], normalise_country)
        check(countries[side].isna(), side.replace("_", " "), "unknown country {!r}", side)
    good = ~bad
    if rates is None:
        present = sorted(set(currency[good]))
        if len(present) > 1:
            raise MoneyInputError(f"{file}: several currencies ({', '.join(present)}); supply a rates table")
        base, factor = (present[0] if present else "USD"), pd.Series(1.0, index=raw.index)
    else:
        base, factor = rates.base, currency.map(rates.per_unit).fillna(0.0)
        with np.errstate(over="ignore"):  # an overflow is infinite, hence refused just below
            converted = amount * factor
        check(~bad & (converted > MAX_AMOUNT), "amount",
              f"implausible amount {{}} (above {MAX_AMOUNT:,.0f} in {base} at the rates given)", "amount_raw")
        good = ~bad
    frame = pd.DataFrame(
        {
            "row": raw["row"].astype("int64"),
            "t": raw["t"],
            "src": raw["src"],
            "dst": raw["dst"],
            "amount": amount,
            "currency": currency,
            "amount_base": (amount.where(good, 0.0) * factor).round(6),  # bad rows (dropped) may overflow
            "channel": channel,
            "src_country": countries["src_country"],
            "dst_country": countries["dst_country"],
            "src_institution": raw["src_institution"],
            "dst_institution": raw["dst_institution"],
            "reference": raw["reference"],
        }
    )[good].reset_index(drop=True)
    frame["t"] = frame["t"].astype("int64")
    frame.attrs["base_currency"] = base
    return _with_ids(frame), errors


def transaction_ids(frame: pd.DataFrame) -> pd.Series:
    """Content-hash ids of (time, accounts, amount, currency), with ``-n`` for repeats of a row.

    A truth file that repeats a transaction's fields yields the same id, which is
    how findings are matched to AMLworld pattern files that carry no ids.
    """
    key = pd.DataFrame(
        {
            "t": frame["t"].astype("int64"),
            "src": frame["src"].astype(str),
            "dst": frame["dst"].astype(str),
            "amount": frame["amount"].astype("float64"),
            "currency": frame["currency"].astype(str),
        }
    )
    hashes = pd.util.hash_pandas_object(key, index=False).to_numpy(dtype="uint64")
    # big-endian bytes in hex are the 16-digit ids; formatted for the whole column at once
    digits = np.frombuffer(hashes.astype(">u8").tobytes().hex().encode("ascii"), dtype="S16").astype(str)
    ids = pd.Series(digits, index=frame.index, dtype="str")
    # repeats are rare: number them among the repeated rows only
    repeat = np.zeros(len(hashes), dtype=np.int64)
    repeated = np.flatnonzero(pd.Series(hashes).duplicated(keep=False).to_numpy())
    if len(repeated):
        repeat[repeated] = pd.Series(hashes[repeated]).groupby(hashes[repeated]).cumcount().to_numpy()
    return ids.where(repeat == 0, ids + "-" + pd.Series(repeat + 1, index=frame.index).astype(str))


def _months(t: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each epoch second in UTC, formatted once per distinct month."""
    months = t.to_numpy(dtype="int64").astype("datetime64[s]").astype("datetime64[M]").astype("int64")
    codes, uniques = pd.factorize(months)
    labels = np.datetime_as_string(np.asarray(uniques, dtype="int64").astype("datetime64[M]"), unit="M")
    return pd.Series(labels[codes], index=t.index, dtype="str")


def _with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    frame.insert(0, "tx_id", transaction_ids(frame))
    frame["month"] = _months(frame["t"])
    return frame[list(TX_COLUMNS)]


def load_transactions(
    path: Path,
    fmt: InputFormat,
    rates: Rates | None = None,
    policy: ErrorPolicy = ErrorPolicy.FAIL,
) -> LoadResult:
    """Read ``path`` in format ``fmt`` into the canonical table."""
    if not path.exists():
        raise MoneyInputError(f"{path}: no such file")
    if fmt is InputFormat.GOAML:
        from tipsom.money.goaml import read_goaml

        raw = read_goaml(path)
    else:
        raw = {
            InputFormat.NATIVE: _native,
            InputFormat.AMLWORLD: _amlworld,
            InputFormat.AMLSIM: _amlsim,
            InputFormat.CRYPTO: _crypto,
        }[fmt](path)
    if raw.empty:
        raise MoneyInputError(f"{path}: no transactions (the file holds a header only)")
    frame, errors = canonicalise(raw, str(path), rates)
    if errors and policy is ErrorPolicy.FAIL:
        raise _row_errors(path, errors, "nothing was analysed")
    return LoadResult(frame, errors, str(frame.attrs["base_currency"]))


def write_rejects(errors: list[RowError], out: Path) -> Path:
    """Write rejected rows as CSV so the user can fix the source and rerun."""
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "row", "field", "reason"])
        writer.writerows(neutral_row([e.file, e.row, e.field, e.reason]) for e in errors)
    return out
