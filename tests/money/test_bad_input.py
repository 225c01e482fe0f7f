"""``money scan`` and ``money corridors`` on bad files: one line naming file, row and field; exit 1 or 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.money.conftest import write_native
from tipsom.cli.main import app
from tipsom.money.corridors import corridors
from tipsom.money.model import InputFormat, MoneyInputError
from tipsom.money.readers import MAX_AMOUNT, load_transactions

ROW = {"timestamp": "2024-03-01T10:00:00Z", "from_account": "A1", "to_account": "B2", "amount": "100.50",
       "currency": "USD", "channel": "bank", "from_country": "ITA", "to_country": "NGA"}
runner = CliRunner()


def _money(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["money", *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize("command", ["scan", "corridors"])
def test_header_only_file_is_refused(tmp_path: Path, command: str) -> None:
    path = write_native(tmp_path / "tx.csv", [])
    code, err = _money(command, str(path), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert err.strip() == f"tipsom: {path}: no transactions (the file holds a header only)"
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", ["scan", "corridors", "risk", "export-gexf"])
def test_output_in_missing_folder_is_refused_before_reading(tmp_path: Path, command: str) -> None:
    out = tmp_path / "missing" / "out.csv"
    code, err = _money(command, str(tmp_path / "not-read.csv"), "-o", str(out))
    assert code == 2
    assert err.strip() == (f"tipsom: {out}: the folder {out.parent} does not exist; create it or choose another "
                           "output path")


@pytest.mark.parametrize("command", ["scan", "corridors"])
def test_implausible_amount_is_refused_at_read_time_with_row_and_field(tmp_path: Path, command: str) -> None:
    path = write_native(tmp_path / "tx.csv", [ROW, {**ROW, "amount": "1e308"}])
    code, err = _money(command, str(path), "-o", str(tmp_path / "out.csv"))
    assert code == 1
    assert err.strip() == (f"tipsom: {path}: row 3: amount: implausible amount 1e308 (above {MAX_AMOUNT:,.0f}); "
                           "nothing was analysed")


def test_amount_bound_applies_after_conversion_and_at_the_bound_is_accepted(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nUSD,1\nEUR,20\n", encoding="utf-8")
    at_bound = write_native(tmp_path / "ok.csv", [{**ROW, "amount": f"{MAX_AMOUNT:.0f}"}])
    code, err = _money("corridors", str(at_bound), "-o", str(tmp_path / "c.csv"))
    assert code == 0, err
    assert pd.read_csv(tmp_path / "c.csv")["amount"].sum() == MAX_AMOUNT
    converted = write_native(tmp_path / "eur.csv", [{**ROW, "amount": f"{MAX_AMOUNT / 10:.0f}", "currency": "EUR"}])
    code, err = _money("scan", str(converted), "--rates", str(rates), "-o", str(tmp_path / "f.csv"))
    assert code == 1
    assert err.startswith(f"tipsom: {converted}: row 2: amount: implausible amount")
    assert "in USD at the rates given" in err


def test_corridors_refuses_a_table_with_an_infinite_amount(tmp_path: Path) -> None:
    tx = load_transactions(write_native(tmp_path / "tx.csv", [ROW]), InputFormat.NATIVE).transactions
    tx.loc[0, "amount_base"] = float("inf")
    with pytest.raises(MoneyInputError, match="row 2: amount_base: inf is beyond"):
        corridors(tx)


def test_latin1_rates_file_is_named(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_bytes("currency,rate\nUSD,1\n# taux été,2\n".encode("latin-1"))
    path = write_native(tmp_path / "tx.csv", [ROW])
    code, err = _money("scan", str(path), "--rates", str(rates), "-o", str(tmp_path / "f.csv"))
    assert code == 1
    offset = rates.read_bytes().index(b"\xe9")
    assert err.strip() == f"tipsom: {rates}: not UTF-8 text (byte 0xe9 at offset {offset}); save the file as UTF-8"


@pytest.mark.parametrize("rate", ["nan", "inf", "0"])
def test_rates_must_be_finite_and_positive(tmp_path: Path, rate: str) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(f"currency,rate\nUSD,1\nEUR,{rate}\n", encoding="utf-8")
    code, err = _money("scan", str(write_native(tmp_path / "tx.csv", [ROW])), "--rates", str(rates),
                       "-o", str(tmp_path / "f.csv"))
    assert code == 1
    assert err.strip() == (f"tipsom: {rates}: row 3: rate: needs a currency and a finite rate > 0; "
                           "the rates were not read")


_GOOD_TX = (b"timestamp,from_account,to_account,amount,currency\n"
            b"2024-03-01T10:00:00Z,A1,B2,100.50,USD\n2024-03-02T10:00:00Z,B2,C3,99,USD\n")
_GOOD_RATES = b"currency,rate\nUSD,1\nEUR,1.1\n"


@st.composite
def _damaged(draw: st.DrawFn) -> tuple[bytes, bytes | None]:
    """A transaction file and maybe a rates file, one of them random bytes, cut short or in Latin-1."""
    def damage(good: bytes) -> bytes:
        kind = draw(st.sampled_from(["random", "truncated", "latin1"]))
        if kind == "random":
            return draw(st.binary(max_size=300))
        if kind == "truncated":
            return good[: draw(st.integers(0, len(good)))]
        return good.replace(b"USD", "£é".encode("latin-1"), draw(st.integers(1, 3)))

    if draw(st.booleans()):
        return damage(_GOOD_TX), None
    return _GOOD_TX, damage(_GOOD_RATES)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=_damaged())
def test_damaged_money_files_exit_zero_or_one_without_traceback(tmp_path: Path,
                                                                files: tuple[bytes, bytes | None]) -> None:
    tx_bytes, rates_bytes = files
    tx = tmp_path / "tx.csv"
    tx.write_bytes(tx_bytes)
    args = ["scan", str(tx), "-o", str(tmp_path / "f.csv"), "--quiet"]
    if rates_bytes is not None:
        (tmp_path / "rates.csv").write_bytes(rates_bytes)
        args += ["--rates", str(tmp_path / "rates.csv")]
    code, err = _money(*args)
    assert code in (0, 1), err
    assert "Traceback" not in err
    assert "internal error" not in err
    if code == 1:
        assert err.splitlines()[0].startswith(f"tipsom: {tmp_path}")
