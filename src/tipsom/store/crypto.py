"""Encryption of personal data at rest, and keyed pseudonyms.

Personal identifiers are sealed with AES-256-GCM, one fresh nonce per value,
with the field name as associated data so a ciphertext cannot be moved to
another field unnoticed. Pseudonyms are HMAC-SHA256 of normalised values under
a key derived from the same master key: equal people match without anyone
decrypting, and nobody without the key can test a guessed name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import unicodedata
from itertools import filterfalse
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipsom.core.errors import ConfigError
from tipsom.settings import Settings

NONCE = 12
#: Nonces drawn from the OS at once (one system call per this many seals).
NONCE_POOL = 4096
#: Pseudonyms remembered per cipher (names repeat; a full memo is simply emptied).
PSEUDONYM_MEMO = 100_000


class DataKeyError(ConfigError):
    """The data key is missing or malformed."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tipsom-v1", info=purpose).derive(master)


def create_key_file(path: Path) -> bool:
    """Create a new random key file with mode 0600; False if one exists."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    return True


def load_master_key(settings: Settings) -> bytes:
    """The master key from ``TIPSOM_KEY`` or the key file."""
    text = settings.key
    if not text:
        path = settings.key_path
        if not path.exists():
            raise DataKeyError(f"no data key: set TIPSOM_KEY or run `tipsom init` to create {path}")
        text = path.read_text(encoding="ascii").strip()
    try:
        key = base64.urlsafe_b64decode(text)
    except ValueError as exc:
        raise DataKeyError("the data key is not valid base64") from exc
    if len(key) != 32:
        raise DataKeyError("the data key must be 32 bytes")
    return key


def normalise(kind: str, value: str) -> str:
    """Canonical form before pseudonymising, so trivial variants still match."""
    if kind == "phone":
        return "".join(filter(str.isdigit, value))[-9:]
    folded = unicodedata.normalize("NFKD", value).casefold()
    folded = "".join(filterfalse(unicodedata.combining, folded))
    return " ".join(folded.replace("-", " ").split())


class FieldCipher:
    """Seals and opens personal fields; computes pseudonyms and row hashes."""

    def __init__(self, master: bytes) -> None:
        self._aead = AESGCM(_derive(master, b"fields"))
        self._pseudo = _derive(master, b"pseudonyms")
        self._rows = _derive(master, b"row-hash")
        # HMAC objects keyed once and copied per value: keying costs more than hashing a short value.
        self._pseudo_mac = hmac.new(self._pseudo, digestmod=hashlib.sha256)
        self._rows_mac = hmac.new(self._rows, digestmod=hashlib.sha256)
        self._nonces = b""
        self._memo: dict[tuple[str, str], str | None] = {}

    def _nonce(self) -> bytes:
        # Same CSPRNG as one token_bytes(12) per value, read in blocks; a nonce is never reused.
        if not self._nonces:
            self._nonces = secrets.token_bytes(NONCE * NONCE_POOL)
        nonce, self._nonces = self._nonces[:NONCE], self._nonces[NONCE:]
        return nonce

    def seal(self, field: str, value: str) -> bytes:
        nonce = self._nonce()
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), field.encode())

    def open(self, field: str, blob: bytes) -> str:
        return self._aead.decrypt(blob[:NONCE], blob[NONCE:], field.encode()).decode("utf-8")

    def pseudonym(self, kind: str, value: str) -> str | None:
        found = self._memo.get((kind, value), "")
        if found != "":
            return found
        norm = normalise(kind, value)
        if norm:
            mac = self._pseudo_mac.copy()
            mac.update(f"{kind}:{norm}".encode())
            found = mac.hexdigest()[:32]
        else:
            found = None
        if len(self._memo) >= PSEUDONYM_MEMO:
            self._memo.clear()
        self._memo[(kind, value)] = found
        return found

    def row_hash(self, canonical: bytes) -> str:
        mac = self._rows_mac.copy()
        mac.update(canonical)
        return mac.hexdigest()
