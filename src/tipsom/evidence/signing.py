"""The installation's Ed25519 custody key, kept apart from the data-encryption key.

Every custody event is signed, so an event written by anything other than an
installation holding the key (a hand edit, a script against the database) shows
as a bad or untrusted signature. The private key lives in
``TIPSOM_HOME/custody-signing.pem`` with mode 0600; losing it does not make
evidence unreadable (the data key does that), it only means new events are
signed by a new key, which must then be trusted explicitly. Public keys of other
installations sharing a PostgreSQL database are listed, one base64 key per line,
in ``TIPSOM_HOME/custody-trusted-keys``.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

KEY_FILE = "custody-signing.pem"
TRUSTED_KEYS_FILE = "custody-trusted-keys"


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64: what each event records as its signer."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


@dataclass(frozen=True)
class Keyring:
    """The signing key of this installation and the public keys it trusts."""

    private_key: Ed25519PrivateKey
    trusted: frozenset[str]

    @property
    def signer(self) -> str:
        return public_key_text(self.private_key.public_key())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private_key.sign(message)).decode("ascii")

    def is_trusted(self, signer: str) -> bool:
        return signer == self.signer or signer in self.trusted


def signature_valid(signer: str, message: bytes, signature: str) -> bool:
    """Check ``signature`` over ``message`` with the recorded public key ``signer``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(signer, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def load_keyring(home: Path) -> Keyring:
    """Load the installation key from ``home``, creating it (mode 0600) on first use."""
    path = home / KEY_FILE
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(f"{path}: custody key is readable by others (mode {mode:o}); chmod 600 it")
        loaded = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        key = loaded
    else:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        home.mkdir(parents=True, exist_ok=True)
        tmp = home / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp, path)  # atomic: a concurrent first use keeps exactly one key
        except FileExistsError:
            return load_keyring(home)
        finally:
            tmp.unlink()
    return Keyring(key, _trusted_keys(home / TRUSTED_KEYS_FILE))


def _trusted_keys(path: Path) -> frozenset[str]:
    if not path.exists():
        return frozenset()
    keys = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise ValueError(f"{path}, line {number}: not base64: {exc}") from exc
        if len(raw) != 32:
            raise ValueError(f"{path}, line {number}: an Ed25519 public key has 32 bytes, not {len(raw)}")
        keys.add(text)
    return frozenset(keys)
