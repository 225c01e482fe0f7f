"""One canonical form and one FtM id per selector, whichever module saw it (issue 20, §1).

A phone and a wallet are put in an ad (OSINT), in a transaction file with its
holders (money) and on a case (the registry); every module must reduce them to
the same value and both FollowTheMoney exporters must give them the same id.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.registry_helpers import csv_rows, write_cases, write_rows
from tipsom.core.errors import InputError
from tipsom.core.identifiers import (
    IdentifierKind,
    canonical_account,
    canonical_email,
    canonical_handle,
    canonical_phone,
    canonical_url,
    canonical_wallet,
    ftm_id,
)
from tipsom.core.wallets import base58check_encode, eip55_checksum
from tipsom.exchange.importer import import_file
from tipsom.money.export import write_ftm as write_money_ftm
from tipsom.money.holders import read_holders, resolve_holders
from tipsom.money.model import InputFormat
from tipsom.money.readers import load_transactions
from tipsom.osint.ftm import ftm_entities
from tipsom.osint.profile import profile_cluster
from tipsom.osint.records import Ad
from tipsom.osint.scan import scan_ads
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

#: A Nigerian mobile number, written three ways below; Nigeria is the deployment's region.
REGION = "NG"
NATIONAL, INTERNATIONAL, BARE = "0803 123 4567", "+234 803-123-4567", "2348031234567"
#: An Ethereum address in its EIP-55 (mixed case) form, and a Bitcoin legacy address.
ETH_BODY = "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
ETH = "0x" + eip55_checksum(ETH_BODY)
BTC = base58check_encode(b"\x00" + bytes(range(20)))


def _osint_selectors() -> dict[tuple[str, str], str]:
    """(kind, canonical value) -> FtM id, from two ads naming the phone and the wallets."""
    ads = [Ad("ad-1", f"new in town, call {NATIONAL}, deposit to {ETH}"),
           Ad("ad-2", f"whatsapp {INTERNATIONAL} btc {BTC}")]
    scans = [scan for batch, _ in scan_ads(ads, [REGION], workers=1) for scan in batch]
    profile = profile_cluster("c1", scans)
    entities = list(ftm_entities([profile], {s.ad.ad_id: s for s in scans}))
    out: dict[tuple[str, str], str] = {}
    for entity in entities:
        props: dict[str, list[str]] = entity["properties"]
        if entity["schema"] == "CryptoWallet":
            out[("wallet", f"{props['blockchain'][0]}:{props['publicKey'][0]}")] = entity["id"]
        elif entity["schema"] == "UserAccount" and "phone" in props:
            out[("phone", props["phone"][0])] = entity["id"]
    return out


def _money_selectors(tmp_path: Path) -> dict[tuple[str, str], str]:
    """The same selectors in a crypto transaction file and a holders table, through the money FtM export."""
    tx = tmp_path / "chain.csv"
    with tx.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "chain", "tx_hash", "from_address", "to_address", "amount", "asset"])
        writer.writerow(["2024-03-01T10:00:00Z", "ethereum", "0xa1", ETH, ETH.lower().replace("0x5", "0x6"),
                         "1.5", "ETH"])
        writer.writerow(["2024-03-02T10:00:00Z", "bitcoin", "b1", BTC, ETH, "0.1", "ETH"])
    holders = tmp_path / "holders.csv"
    holders.write_text(f"account,name,phone\n{ETH},Ana Example,{BARE}\n", encoding="utf-8")
    frame = load_transactions(tx, InputFormat.CRYPTO).transactions
    out_path = tmp_path / "money.ftm.jsonl"
    write_money_ftm(frame, out_path, resolve_holders(read_holders(holders)))
    out: dict[tuple[str, str], str] = {}
    for line in out_path.read_text(encoding="utf-8").splitlines():
        entity: dict[str, Any] = json.loads(line)
        props = entity["properties"]
        if entity["schema"] == "CryptoWallet" and (wallet := canonical_wallet(props["publicKey"][0])):
            out[("wallet", wallet)] = entity["id"]
        elif entity["schema"] == "UserAccount":
            out[("phone", props["phone"][0])] = entity["id"]
    return out


def test_a_phone_and_a_wallet_agree_across_ad_transactions_and_case(
    tmp_path: Path, data_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIPSOM_PHONE_REGION", REGION)
    phone = canonical_phone(NATIONAL, REGION)
    eth, btc = canonical_wallet(ETH), canonical_wallet(BTC)
    assert phone == canonical_phone(INTERNATIONAL) == canonical_phone(BARE) == "+2348031234567"
    assert eth == f"ethereum:0x{ETH_BODY}"
    assert btc == f"bitcoin:{BTC}"

    osint = _osint_selectors()
    money = _money_selectors(tmp_path)
    for key in (("phone", phone), ("wallet", eth), ("wallet", btc)):
        kind = IdentifierKind(key[0])
        assert osint[key] == money[key] == ftm_id(kind, key[1]), key

    # The case: the registry's pseudonym of the nationally written number is the
    # pseudonym of the value the ad and the transaction file reduce to.
    rows = csv_rows(write_cases(tmp_path / "cases.csv", 3))
    rows[0]["phone"] = NATIONAL
    import_file(Store.init(), write_rows(tmp_path / "c.csv", rows), actor="tester")
    store = Store.init()
    person = REGISTRY["person"]
    with store.engine.connect() as conn:
        stored = conn.scalar(select(person.c.pseudo_phone)
                             .where(person.c.key == f"{rows[0]['case_id']}/{rows[0]['person_id']}"))
    assert stored == store.cipher.pseudonym("phone", phone) == store.cipher.pseudonym("phone", BARE)
    store.dispose()


def test_a_wallet_whose_checksum_fails_has_no_canonical_form() -> None:
    broken = ETH[:-1] + ("a" if ETH[-1] != "a" else "b")
    assert canonical_wallet(ETH) is not None
    assert canonical_wallet(broken.replace(broken[2:], broken[2:].swapcase())) is None
    assert canonical_wallet(BTC[:-1] + ("2" if BTC[-1] != "2" else "3")) is None
    assert canonical_wallet(f"pay {BTC}") is None


def test_ibans_are_compacted_only_when_their_check_digits_hold() -> None:
    assert canonical_account("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    # One digit changed: the check digits fail, so it is kept as an account number, not "repaired".
    assert canonical_account("DE89 3704 0044 0532 0130 01") == "DE89370400440532013001"
    assert canonical_account("12-345/678") == "12345678"


def test_email_handle_and_url_forms() -> None:
    assert canonical_email("  Ana.Example@Mail.EXAMPLE ") == "ana.example@mail.example"
    assert canonical_handle("Telegram", "@Ana_X") == "telegram:ana_x"
    assert canonical_url("HTTPS://Example.ORG/Path?Q=1") == "https://example.org/Path?Q=1"


def test_ftm_ids_differ_by_kind_and_refuse_an_empty_value() -> None:
    assert ftm_id(IdentifierKind.PHONE, "+2348031234567") != ftm_id(IdentifierKind.ACCOUNT, "+2348031234567")
    with pytest.raises(InputError, match="phone"):
        ftm_id(IdentifierKind.PHONE, "")


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789 +-()", max_size=20), st.sampled_from(["", "NG", "FR", "US"]))
def test_canonical_phone_is_idempotent(text: str, region: str) -> None:
    once = canonical_phone(text, region or None)
    assert canonical_phone(once, region or None) == once
