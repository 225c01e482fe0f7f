"""Every tipsom setting, read from ``TIPSOM_*`` environment variables.

One place for configuration keeps deployments auditable: an administrator can
read this file (or ``docs/settings.md``, which a test keeps in step with it) and
know every knob the system has. Nothing else in the code reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tipsom.core.errors import ConfigError


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _int_env(name: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number setting; a malformed one names its variable instead of a bare ``ValueError``."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    """A snapshot of the configuration; build one with :func:`get_settings`."""

    #: Where local state lives (SQLite file, key file, vault, captures).
    home: Path = field(default_factory=lambda: Path(_env("TIPSOM_HOME", "./var")))
    #: The one database URL. Empty means a SQLite file under ``home``.
    db_url: str = field(default_factory=lambda: _env("TIPSOM_DB_URL", ""))
    #: Base64 (urlsafe) 32-byte key for encrypting personal data at rest.
    #: When empty, the key file under ``home`` (created by ``tipsom init``) is used.
    key: str = field(default_factory=lambda: _env("TIPSOM_KEY", ""))
    #: Path of the key file; empty means ``home/tipsom.key``.
    key_file: str = field(default_factory=lambda: _env("TIPSOM_KEY_FILE", ""))
    #: Evidence vault directory; empty means ``home/vault``.
    vault: str = field(default_factory=lambda: _env("TIPSOM_VAULT", ""))
    #: Published cells below this count are shown as "<threshold".
    suppression_threshold: int = field(
        default_factory=lambda: _int_env("TIPSOM_SUPPRESSION_THRESHOLD", 5, minimum=1)
    )
    #: Name recorded in the audit log for command-line work.
    actor: str = field(default_factory=lambda: _env("TIPSOM_ACTOR", os.environ.get("USER", "cli")))
    #: Secret that signs web session cookies; empty means one kept under ``home``.
    secret_key: str = field(default_factory=lambda: _env("TIPSOM_SECRET_KEY", ""))
    #: Mark web session cookies ``Secure`` (sent over HTTPS and loopback only).
    web_cookie_secure: bool = field(
        default_factory=lambda: _env("TIPSOM_WEB_COOKIE_SECURE", "true").lower() not in ("0", "false", "no")
    )
    #: Hours a web session lasts before the user must log in again.
    web_session_hours: int = field(default_factory=lambda: _int_env("TIPSOM_WEB_SESSION_HOURS", 8, minimum=1))
    #: Minutes an account stays locked after too many failed logins.
    web_lockout_minutes: int = field(default_factory=lambda: _int_env("TIPSOM_WEB_LOCKOUT_MINUTES", 15, minimum=1))
    #: Seconds a write to a SQLite store waits for another process's write lock before giving up.
    db_lock_timeout: int = field(default_factory=lambda: _int_env("TIPSOM_DB_LOCK_TIMEOUT", 60, minimum=1))
    #: Largest file accepted by a web upload, in MiB (the CLI takes files of any size).
    web_upload_max_mb: int = field(default_factory=lambda: _int_env("TIPSOM_WEB_UPLOAD_MAX_MB", 100, minimum=1))
    #: Database of the training workspace; empty means ``home/training.db``.
    training_db_url: str = field(default_factory=lambda: _env("TIPSOM_TRAINING_DB_URL", ""))
    #: Country (ISO 3166 alpha-2) in which phone numbers written without a country code are read.
    phone_region: str = field(default_factory=lambda: _env("TIPSOM_PHONE_REGION", "").upper())
    #: Read-only public reference material that tests and benchmarks read; empty means ``shared/reference``
    #: in the nearest directory above the checkout that holds one.
    reference_path: str = field(default_factory=lambda: _env("TIPSOM_REFERENCE_PATH", ""))
    #: Directories searched before the package's own data (rule layers, lexicons), first one first.
    data_path: tuple[Path, ...] = field(default_factory=lambda: tuple(
        Path(part) for part in _env("TIPSOM_DATA_PATH", "").split(os.pathsep) if part.strip()))
    #: Dashboard filter combinations whose charts are kept (in memory and in the database).
    dashboard_cached_filters: int = field(
        default_factory=lambda: _int_env("TIPSOM_DASHBOARD_CACHED_FILTERS", 200, minimum=1))
    #: New dashboard drawings one user may cause per hour; beyond it the last charts are shown with a note.
    dashboard_draws_per_hour: int = field(
        default_factory=lambda: _int_env("TIPSOM_DASHBOARD_DRAWS_PER_HOUR", 20, minimum=1))

    #: Casework deadline rules and national calendars (YAML); empty means the book shipped with tipsom.
    deadline_rules: str = field(default_factory=lambda: _env("TIPSOM_DEADLINE_RULES", ""))

    @property
    def database_url(self) -> str:
        """The effective database URL (SQLite under ``home`` unless set)."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'tipsom.db').as_posix()}"

    @property
    def key_path(self) -> Path:
        return Path(self.key_file) if self.key_file else self.home / "tipsom.key"

    @property
    def reference_dir(self) -> Path:
        """The reference material: the setting, else ``shared/reference`` beside the checkout or a parent of it.

        A main checkout and its git worktrees sit at different depths below the
        shared directory, so the parents are searched instead of a fixed path.
        """
        if self.reference_path:
            return Path(self.reference_path)
        checkout = Path(__file__).resolve().parents[2]
        found = next((p / "shared" / "reference" for p in checkout.parents if (p / "shared" / "reference").is_dir()),
                     None)
        return found or checkout.parent / "shared" / "reference"

    @property
    def vault_path(self) -> Path:
        return Path(self.vault) if self.vault else self.home / "vault"


def get_settings() -> Settings:
    """Read the environment now (tests change it between calls)."""
    return Settings()
