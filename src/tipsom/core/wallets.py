"""Crypto-currency addresses, kept only when their checksum holds.

Both the OSINT scan (addresses found in ads) and the canonical identifiers of
:mod:`tipsom.core.identifiers` (addresses in transaction files and cases) read
wallets through this module, so a wallet is accepted by the same rule wherever
it is seen. A wallet shared by many ads is one of the strongest links between them, so a
false wallet (a random token that merely looks like one) would merge unrelated
posters. Every candidate is therefore decoded and its checksum verified:
Base58Check for Bitcoin legacy and Tron, BIP-173/BIP-350 for Bitcoin SegWit
(bech32 and bech32m), and EIP-55 mixed-case checksums for Ethereum. Ethereum
addresses written all in lower or upper case carry no checksum; they are kept
but marked :attr:`ChecksumStatus.ABSENT` so an analyst can weigh them.

Keccak-256 (the pre-standard SHA-3 Ethereum uses) is not in ``hashlib``; it is
implemented here from the Keccak reference specification.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass


class Chain(enum.StrEnum):
    """The network an address belongs to, which decides its checksum rule."""

    BITCOIN = "bitcoin"
    ETHEREUM = "ethereum"
    TRON = "tron"


class ChecksumStatus(enum.StrEnum):
    """Whether the address carried a checksum that was verified."""

    VERIFIED = "verified"
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class CryptoAddress:
    chain: Chain
    address: str
    checksum: ChecksumStatus
    start: int
    end: int


# --- Keccak-256 --------------------------------------------------------------

_ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)
# Rotation offsets r[x][y] of the rho step.
_ROTATIONS = (
    (0, 36, 3, 41, 18),
    (1, 44, 10, 45, 2),
    (62, 6, 43, 15, 61),
    (28, 55, 25, 21, 56),
    (27, 20, 39, 8, 14),
)
_MASK = (1 << 64) - 1
_RATE = 136  # bytes, for a 256-bit output


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _keccak_f(lanes: list[int]) -> list[int]:
    for rc in _ROUND_CONSTANTS:
        c = [lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        lanes = [lanes[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl(lanes[x + 5 * y], _ROTATIONS[x][y])
        lanes = [
            b[i] ^ (~b[(i % 5 + 1) % 5 + 5 * (i // 5)] & _MASK & b[(i % 5 + 2) % 5 + 5 * (i // 5)])
            for i in range(25)
        ]
        lanes[0] ^= rc
    return lanes


def keccak256(data: bytes, domain: int = 0x01) -> bytes:
    """Keccak-256 as used by Ethereum; ``domain=0x06`` gives standard SHA3-256."""
    padded = bytearray(data)
    padded.append(domain)
    while len(padded) % _RATE:
        padded.append(0)
    padded[-1] |= 0x80
    lanes = [0] * 25
    for offset in range(0, len(padded), _RATE):
        block = padded[offset : offset + _RATE]
        for i in range(_RATE // 8):
            lanes[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        lanes = _keccak_f(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes)[:32]


# --- Base58Check (Bitcoin legacy, Tron) ----------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {ch: i for i, ch in enumerate(_B58_ALPHABET)}


def base58check_payload(text: str) -> bytes | None:
    """The payload (version byte + data) if ``text`` is valid Base58Check, else None."""
    number = 0
    for ch in text:
        digit = _B58_INDEX.get(ch)
        if digit is None:
            return None
        number = number * 58 + digit
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def base58check_encode(payload: bytes) -> str:
    """Base58Check text of ``payload`` (version byte + data), e.g. a Tron address."""
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    chars = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + "".join(reversed(chars))


# --- Bech32 / Bech32m (BIP-173, BIP-350) ----------------------------------------

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3


def _bech32_polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(generators):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> list[int] | None:
    acc, bits, out = 0, 0, []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        return None
    return out


def is_valid_segwit(address: str) -> bool:
    """True if ``address`` is a valid mainnet or testnet SegWit address."""
    if address.lower() != address and address.upper() != address:
        return False  # BIP-173 forbids mixed case
    text = address.lower()
    hrp, sep, data_part = text.rpartition("1")
    if not sep or hrp not in ("bc", "tb") or len(data_part) < 6:
        return False
    if any(ch not in _BECH32_CHARSET for ch in data_part):
        return False
    data = [_BECH32_CHARSET.index(ch) for ch in data_part]
    expanded = [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]
    const = _bech32_polymod(expanded + data)
    version = data[0]
    if const != (_BECH32_CONST if version == 0 else _BECH32M_CONST):
        return False
    program = _convert_bits(data[1:-6], 5, 8)
    if program is None or version > 16 or not 2 <= len(program) <= 40:
        return False
    return version != 0 or len(program) in (20, 32)


# --- Ethereum EIP-55 -------------------------------------------------------------


def eip55_checksum(hex40: str) -> str:
    """The EIP-55 mixed-case form of a 40-hex-digit address (without ``0x``)."""
    lower = hex40.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "".join(ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower))


def ethereum_status(address: str) -> ChecksumStatus | None:
    """Checksum status of a ``0x`` address, or None when a mixed-case checksum fails."""
    body = address[2:]
    if body.lower() == body or body.upper() == body:
        return ChecksumStatus.ABSENT
    return ChecksumStatus.VERIFIED if eip55_checksum(body) == body else None


# --- Finding addresses in text -----------------------------------------------------

_CANDIDATES = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"(?P<eth>0x[0-9a-fA-F]{40})"
    r"|(?P<segwit>(?:bc|tb|BC|TB)1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87})"
    r"|(?P<tron>T[1-9A-HJ-NP-Za-km-z]{33})"
    r"|(?P<btc>[13][1-9A-HJ-NP-Za-km-z]{25,34})"
    r")(?![0-9A-Za-z])"
)
_BTC_VERSIONS = (0x00, 0x05)
_TRON_VERSION = 0x41


def find_crypto_addresses(text: str) -> list[CryptoAddress]:
    """Every checksum-valid address in ``text``, with its span."""
    found: list[CryptoAddress] = []
    for m in _CANDIDATES.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind == "eth":
            status = ethereum_status(value)
            if status is not None:
                found.append(CryptoAddress(Chain.ETHEREUM, "0x" + value[2:].lower(), status, *m.span()))
        elif kind == "segwit":
            if is_valid_segwit(value):
                found.append(CryptoAddress(Chain.BITCOIN, value.lower(), ChecksumStatus.VERIFIED, *m.span()))
        else:
            payload = base58check_payload(value)
            if payload is None or len(payload) != 21:
                continue
            if kind == "tron" and payload[0] == _TRON_VERSION:
                found.append(CryptoAddress(Chain.TRON, value, ChecksumStatus.VERIFIED, *m.span()))
            elif kind == "btc" and payload[0] in _BTC_VERSIONS:
                found.append(CryptoAddress(Chain.BITCOIN, value, ChecksumStatus.VERIFIED, *m.span()))
    return found
