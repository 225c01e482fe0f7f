"""Encryption of personal data at rest, and keyed pseudonyms.

Personal identifiers are sealed with AES-256-GCM, one fresh nonce per value,
with the field name as associated data so a ciphertext cannot be moved to
another field unnoticed. Pseudonyms are HMAC-SHA256 of normalised values under
a key derived from the same master key: equal people match without anyone
decrypting, and nobody without the key can test a guessed name.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass, field
from itertools import filterfalse
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipsom.core.errors import ConfigError
from tipsom.core.files import sync_directory
from tipsom.core.identifiers import canonical_phone
from tipsom.settings import Settings, get_settings

NONCE = 12
#: Nonces drawn from the OS at once (one system call per this many seals).
NONCE_POOL = 4096
#: Pseudonyms remembered per cipher (names repeat; a full memo is simply emptied).
PSEUDONYM_MEMO = 100_000


class DataKeyError(ConfigError):
    """The data key is missing, malformed, or not the key this store was encrypted under."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tipsom-v1", info=purpose).derive(master)


#: Message the key identifier is computed over; changing it would orphan every recorded check value.
KEY_CHECK_MESSAGE = b"tipsom key check"


def key_id(master: bytes) -> str:
    """A short public name for a key: 16 hex digits of an HMAC under it.

    The identifier lets a store remember which key it was encrypted under
    without holding the key: 64 bits of a keyed hash reveal nothing about the
    key, yet two different keys collide only by astronomical chance.
    """
    return hmac.new(master, KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()[:16]


class KeySource(enum.Enum):
    """Where a data key was read from, so a refusal can tell the user which one to fix."""

    ENVIRONMENT = "TIPSOM_KEY"
    FILE = "key file"


@dataclass(frozen=True)
class DataKey:
    """A master key with its origin; ``repr`` never shows the key itself."""

    material: bytes = field(repr=False)
    source: KeySource
    path: Path | None = None

    @property
    def id(self) -> str:
        return key_id(self.material)

    @property
    def origin(self) -> str:
        return f"the key file {self.path}" if self.source is KeySource.FILE else "TIPSOM_KEY"

    def describe(self) -> str:
        return f"key {self.id} from {self.origin}"


def encode_key(master: bytes) -> str:
    return base64.urlsafe_b64encode(master).decode()


def parse_key(text: str, origin: str) -> bytes:
    """The 32 key bytes from base64 text (URL-safe or standard alphabet), strictly checked."""
    compact = text.strip()
    try:
        key = base64.b64decode(compact.replace("-", "+").replace("_", "/"), validate=True)
    except ValueError:
        raise DataKeyError(f"{origin} is not valid base64 (a data key is 32 random bytes in base64)") from None
    if len(key) != 32:
        raise DataKeyError(f"{origin} holds {len(key)} bytes; a data key must be 32 bytes")
    return key


def read_key_file(path: Path) -> DataKey | None:
    """The key in ``path``, or None when there is no such file; anything unreadable is a key error."""
    if path.is_dir():
        raise DataKeyError(f"the key file {path} is a directory, not a key file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataKeyError(f"the key file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise DataKeyError(f"the key file {path} holds binary bytes, not a base64 data key") from None
    return DataKey(parse_key(text, f"the key file {path}"), KeySource.FILE, path)


def write_key_file(path: Path, master: bytes) -> None:
    """Write a key file with mode 0600 atomically: a crash leaves the old file or the complete new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(encode_key(master) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(partial, path)
    sync_directory(path.parent)


def create_key_file(path: Path) -> bool:
    """Create a new random key file with mode 0600; False if one exists."""
    if path.exists():
        return False
    write_key_file(path, secrets.token_bytes(32))
    return True


def find_data_key(settings: Settings) -> DataKey | None:
    """The configured data key, or None when neither ``TIPSOM_KEY`` nor the key file exists.

    When both are present they must be the same key: silently preferring one
    would let a stale variable or a swapped file encrypt new records under a
    key the rest of the store does not use.
    """
    from_file = read_key_file(settings.key_path)
    if not settings.key:
        return from_file
    from_env = DataKey(parse_key(settings.key, "TIPSOM_KEY"), KeySource.ENVIRONMENT)
    if from_file is not None and from_file.material != from_env.material:
        raise DataKeyError(f"TIPSOM_KEY and the key file disagree: {from_env.describe()}, "
                           f"{from_file.describe()}; unset TIPSOM_KEY or fix the key file")
    return from_env


def load_data_key(settings: Settings) -> DataKey:
    """The configured data key; its absence is a configuration error with advice."""
    found = find_data_key(settings)
    if found is None:
        raise DataKeyError(f"no data key: set TIPSOM_KEY or run `tipsom init` to create {settings.key_path}")
    return found


def load_master_key(settings: Settings) -> bytes:
    """The raw key bytes, not yet checked against any store (``Store.data_key`` does that)."""
    return load_data_key(settings).material


def normalise(kind: str, value: str, phone_region: str | None = None) -> str:
    """Canonical form before pseudonymising, so trivial variants still match.

    A phone takes the one canonical form every module uses (E.164, national
    numbers read in ``phone_region``), so a pseudonym computed from a number
    in a transaction file or an ad matches the registry's.
    """
    if kind == "phone":
        return canonical_phone(value, phone_region)
    folded = unicodedata.normalize("NFKD", value).casefold()
    folded = "".join(filterfalse(unicodedata.combining, folded))
    return " ".join(folded.replace("-", " ").split())


class FieldCipher:
    """Seals and opens personal fields; computes pseudonyms and row hashes."""

    def __init__(self, master: bytes, phone_region: str | None = None) -> None:
        self._phone_region = phone_region if phone_region is not None else get_settings().phone_region or None
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
        norm = normalise(kind, value, self._phone_region)
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
