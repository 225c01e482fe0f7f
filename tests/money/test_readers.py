"""Readers: every malformed row is reported with its row number; formats map to one table."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.money.conftest import write_native
from tipsom.cli.main import app
from tipsom.money.model import ErrorPolicy, InputFormat, MoneyInputError
from tipsom.money.readers import Rates, load_transactions

GOOD = {
    "timestamp": "2024-03-01T10:00:00Z",
    "from_account": "A",
    "to_account": "B",
    "amount": "100.50",
    "currency": "EUR",
    "channel": "hawala",
    "from_country": "IT",
    "to_country": "NGA",
}


@pytest.fixture
def malformed(tmp_path: Path) -> Path:
    return write_native(
        tmp_path / "tx.csv",
        [
            GOOD,
            {**GOOD, "timestamp": "yesterday"},  # row 3
            {**GOOD, "amount": "-5"},  # row 4
            {**GOOD, "amount": "ten"},  # row 5
            {**GOOD, "currency": "XYZ"},  # row 6
            {**GOOD, "to_country": "Atlantis"},  # row 7
        ],
    )


def test_malformed_rows_are_reported_with_row_numbers(malformed: Path) -> None:
    with pytest.raises(MoneyInputError) as info:
        load_transactions(malformed, InputFormat.NATIVE)
    found = {(e.row, e.field) for e in info.value.errors}
    assert found == {(3, "timestamp"), (4, "amount"), (5, "amount"), (6, "currency"), (7, "dst country")}
    reasons = {e.row: e.reason for e in info.value.errors}
    assert "negative" in reasons[4]
    assert "not a number" in reasons[5]
    assert "XYZ" in reasons[6]


def test_skip_policy_keeps_good_rows_and_still_reports_bad_ones(malformed: Path) -> None:
    result = load_transactions(malformed, InputFormat.NATIVE, policy=ErrorPolicy.SKIP)
    assert len(result.transactions) == 1
    assert len(result.errors) == 5
    row = result.transactions.iloc[0]
    assert (row["channel"], row["src_country"], row["dst_country"]) == ("hawala", "ITA", "NGA")


def test_cli_rejects_malformed_file_with_exit_1_and_row_numbers(malformed: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["money", "scan", str(malformed), "-o", str(tmp_path / "f.csv")])
    assert result.exit_code == 1
    assert "row 3: timestamp" in result.stderr
    assert "row 6: currency" in result.stderr


def test_rates_convert_and_unknown_currency_is_a_row_error(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nUSD,1\nEUR,1.1\n", encoding="utf-8")
    path = write_native(tmp_path / "tx.csv", [GOOD, {**GOOD, "currency": "GBP"}])
    with pytest.raises(MoneyInputError, match="row 3: currency"):
        load_transactions(path, InputFormat.NATIVE, Rates.load(rates))
    ok = load_transactions(write_native(tmp_path / "ok.csv", [GOOD]), InputFormat.NATIVE, Rates.load(rates))
    assert ok.base_currency == "USD"
    assert ok.transactions["amount_base"].iloc[0] == pytest.approx(110.55)


def test_several_currencies_without_rates_is_refused(tmp_path: Path) -> None:
    path = write_native(tmp_path / "tx.csv", [GOOD, {**GOOD, "currency": "USD"}])
    with pytest.raises(MoneyInputError, match="supply a rates table"):
        load_transactions(path, InputFormat.NATIVE)


def test_amlworld_header_with_account_twice_and_two_currencies(tmp_path: Path) -> None:
    path = tmp_path / "HI-Small_Trans.csv"
    path.write_text(
        "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,"
        "Payment Currency,Payment Format,Is Laundering\n"
        "2022/09/01 00:20,010,8000EBD30,010,8000EBD30,3697.34,US Dollar,3697.34,US Dollar,Reinvestment,0\n"
        "2022/09/01 00:20,3208,8000F4580,1,8000F5340,0.01,US Dollar,0.01,Euro,Cheque,0\n"
        "2022/09/01 00:22,1,8000F5340,3208,8000F4580,1.00,Euro,2.00,Bitcoin,Bitcoin,1\n",
        encoding="utf-8",
    )
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nUSD,1\nEUR,1.1\nBTC,20000\n", encoding="utf-8")
    tx = load_transactions(path, InputFormat.AMLWORLD, Rates.load(rates)).transactions
    assert list(tx["src"]) == ["8000EBD30", "8000F4580", "8000F5340"]
    assert list(tx["dst"]) == ["8000EBD30", "8000F5340", "8000F4580"]
    assert list(tx["currency"]) == ["USD", "EUR", "BTC"]  # the paying side's currency
    assert list(tx["channel"]) == ["bank", "bank", "crypto"]
    assert tx["amount_base"].iloc[2] == pytest.approx(40000)
    assert tx["t"].iloc[0] == 1661991600  # 2022-09-01 00:20 UTC


def test_crypto_transfer_list(tmp_path: Path) -> None:
    path = tmp_path / "eth.csv"
    path.write_text(
        "timestamp,chain,tx_hash,from_address,to_address,amount,asset\n"
        "2024-01-02T03:04:05Z,ethereum,0xabc,0x1111,0x2222,1.5,USDT\n",
        encoding="utf-8",
    )
    tx = load_transactions(path, InputFormat.CRYPTO).transactions
    assert (tx["channel"].iloc[0], tx["reference"].iloc[0], tx["src_institution"].iloc[0]) == (
        "crypto",
        "0xabc",
        "ethereum",
    )


GOAML = """<?xml version="1.0" encoding="UTF-8"?>
<report>
  <rentity_id>1234</rentity_id>
  <currency_code_local>EUR</currency_code_local>
  <transaction>
    <transactionnumber>TX-1</transactionnumber>
    <date_transaction>2024-02-01T09:30:00</date_transaction>
    <amount_local>9500.00</amount_local>
    <t_from_my_client>
      <from_funds_code>K</from_funds_code>
      <from_account>
        <institution_name>Banca Uno</institution_name>
        <account>IT001</account>
        <signatory><t_person><first_name>Ali</first_name><last_name>Mohamed</last_name>
          <birthdate>1980-01-01T00:00:00</birthdate>
          <phones><phone><tph_number>+393471234567</tph_number></phone></phones>
          <identification><number>AB 123456</number></identification></t_person></signatory>
      </from_account>
      <from_country>IT</from_country>
    </t_from_my_client>
    <t_to>
      <to_person><first_name>Mohamed</first_name><last_name>ALI</last_name>
        <phones><phone><tph_number>00393471234567</tph_number></phone></phones></to_person>
      <to_country>LY</to_country>
    </t_to>
  </transaction>
  <transaction>
    <transactionnumber>TX-2</transactionnumber>
    <date_transaction>not a date</date_transaction>
    <amount_local>10</amount_local>
    <t_from><from_entity><name>Travel Ltd</name></from_entity><from_country>IT</from_country></t_from>
    <t_to><to_entity><name>Cargo SARL</name></to_entity><to_country>LY</to_country></t_to>
  </transaction>
</report>
"""


def test_goaml_report_and_holder_resolution(tmp_path: Path) -> None:
    from tipsom.money.goaml import parse_goaml
    from tipsom.money.holders import MatchRule, resolve_holders

    path = tmp_path / "report.xml"
    path.write_text(GOAML, encoding="utf-8")
    with pytest.raises(
        MoneyInputError, match=r"row 2: timestamp: cannot read timestamp 'not a date \(transaction TX-2"
    ):
        load_transactions(path, InputFormat.GOAML)
    result = load_transactions(path, InputFormat.GOAML, policy=ErrorPolicy.SKIP)
    row = result.transactions.iloc[0]
    assert (row["src"], row["dst"], row["channel"], row["dst_country"]) == (
        "IT001",
        "person:Mohamed ALI",
        "cash",
        "LBY",
    )
    resolved = resolve_holders(parse_goaml(path)[1])
    (person,) = [r for r in resolved if "IT001" in r.accounts]
    assert person.accounts == ("IT001", "person:Mohamed ALI")  # same phone, written two ways
    assert MatchRule.PHONE in person.rules
    assert person.phones == ("+393471234567",)
