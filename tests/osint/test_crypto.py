"""Wallet checksums: published vectors pass, any one-character change fails."""

from __future__ import annotations

import hashlib

import pytest

from tipsom.core.wallets import (
    Chain,
    ChecksumStatus,
    base58check_encode,
    base58check_payload,
    eip55_checksum,
    find_crypto_addresses,
    keccak256,
)

# Published examples: Bitcoin genesis (P2PKH) and BIP-13 (P2SH), BIP-173 (bech32), BIP-350 (bech32m),
# EIP-55's own test vectors, and the USDT contract address on Tron.
VALID = [
    ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Chain.BITCOIN),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Chain.BITCOIN),
    ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", Chain.BITCOIN),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", Chain.BITCOIN),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", Chain.ETHEREUM),
    ("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", Chain.ETHEREUM),
    ("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", Chain.ETHEREUM),
    ("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", Chain.ETHEREUM),
    ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", Chain.TRON),
]


def _alphabet(address: str) -> str:
    if address.startswith("0x"):
        return "0123456789abcdefABCDEF"
    if address.startswith(("bc1", "tb1")):
        return "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    return "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@pytest.mark.parametrize(("address", "chain"), VALID)
def test_published_addresses_verify(address: str, chain: Chain) -> None:
    found = find_crypto_addresses(f"pay to {address} today")
    assert len(found) == 1
    assert found[0].chain is chain
    assert found[0].checksum is ChecksumStatus.VERIFIED


@pytest.mark.parametrize(("address", "chain"), VALID)
def test_every_one_character_change_is_rejected(address: str, chain: Chain) -> None:
    start = 2 if address.startswith("0x") else 4 if address.startswith(("bc1", "tb1")) else 1
    alphabet = _alphabet(address)
    tried = 0
    for pos in range(start, len(address)):
        replacement = next(c for c in alphabet if c.lower() != address[pos].lower())
        changed = address[:pos] + replacement + address[pos + 1 :]
        assert find_crypto_addresses(changed) == [], f"{changed} (position {pos}) was accepted"
        tried += 1
    assert tried >= 25


def test_ethereum_without_mixed_case_has_no_checksum() -> None:
    found = find_crypto_addresses("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
    assert found[0].checksum is ChecksumStatus.ABSENT
    assert eip55_checksum("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_keccak_matches_known_digest_and_sha3_with_its_padding() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    data = b"tipsom" * 50  # longer than one block
    assert keccak256(data, domain=0x06) == hashlib.sha3_256(data).digest()


def test_base58check_round_trip() -> None:
    payload = bytes([0x41]) + bytes(range(20))
    address = base58check_encode(payload)
    assert address.startswith("T")
    assert base58check_payload(address) == payload


def test_address_inside_a_longer_token_is_not_taken() -> None:
    assert find_crypto_addresses("x1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == []
