"""The installation's Ed25519 custody key, kept apart from the data-encryption key.

Every custody event is signed, so an event written by anything other than an
installation holding the key (a hand edit, a script against the database) shows
as a bad or untrusted signature. The private key lives in
``TIPSOM_HOME/custody-signing.pem`` with mode 0600. It is created on first use
only while the locker holds no signed event: a missing key file over a signed
chain means the key was lost or moved, and a silently created new key would
leave every earlier event "signed by an untrusted key". After a real loss the
operator trusts the old public key and creates the new key deliberately
(:func:`replace_lost_key`). Public keys of other installations sharing a
PostgreSQL database, and of retired keys, are listed, one base64 key per line,
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

from tipsom.core.errors import ConfigError

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


class SigningKeyMissing(ConfigError):
    """The custody signing key is gone while the locker holds events it signed."""


def load_keyring(home: Path, signers: frozenset[str] = frozenset()) -> Keyring:
    """Load the installation key from ``home``; create it (mode 0600) only for a locker with no signed events.

    ``signers`` are the public keys that signed the events already in the
    locker. If there are any and the key file is missing, the key is refused
    rather than replaced, with the advice to restore it or to replace it
    deliberately once its public key is trusted.
    """
    path = home / KEY_FILE
    if not path.exists():
        if signers:
            raise SigningKeyMissing(_missing_advice(path, signers, _trusted_keys(home / TRUSTED_KEYS_FILE)))
        _create_key(home)
    return _load(home)


def _missing_advice(path: Path, signers: frozenset[str], trusted: frozenset[str]) -> str:
    untrusted = sorted(signers - trusted)
    if not untrusted:
        return (f"the custody signing key {path} is missing; this locker's events are signed by trusted keys "
                "only: restore the key from its backup, or run `tipsom evidence new-signing-key` to start a new one")
    return (f"the custody signing key {path} is missing, but this locker holds events it signed "
            f"(signer {', '.join(untrusted)}): restore the key from its backup; if it is lost for good, add that "
            f"public key to {path.parent / TRUSTED_KEYS_FILE} and run `tipsom evidence new-signing-key`")


def replace_lost_key(home: Path, signers: frozenset[str]) -> Keyring:
    """Create a new signing key after the old one was lost, once every earlier signer is trusted.

    Requiring the old public keys in the trusted-keys file first keeps every
    earlier event verifiable as "trusted" after the change of key.
    """
    path = home / KEY_FILE
    if path.exists():
        raise ConfigError(f"{path} exists: a signing key is only replaced when it is lost")
    untrusted = sorted(signers - _trusted_keys(home / TRUSTED_KEYS_FILE))
    if untrusted:
        raise ConfigError(f"add the lost key's public key ({', '.join(untrusted)}) to "
                          f"{home / TRUSTED_KEYS_FILE} first, so the events it signed stay trusted")
    _create_key(home)
    return _load(home)


def _load(home: Path) -> Keyring:
    path = home / KEY_FILE
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path}: custody key is readable by others (mode {mode:o}); chmod 600 it")
    loaded = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return Keyring(loaded, _trusted_keys(home / TRUSTED_KEYS_FILE))


def _create_key(home: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{KEY_FILE}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(tmp, home / KEY_FILE)  # atomic: a concurrent first use keeps exactly one key
    except FileExistsError:
        pass  # another process created it first; that key is the one loaded
    finally:
        tmp.unlink()


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
