"""Web tables on the shared metadata: organisations, accounts, sessions, API tokens, case shares, charts.

Accounts and sessions live in the same database as the cases, so one backup
holds everything and one transaction can write a case together with its
audit event. Sessions are kept server-side (the cookie holds only a random
token whose SHA-256 is stored), so a locked or disabled account loses every
open session at once.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tipsom.store.base import CASES_TABLE, metadata
from tipsom.store.tables import REGISTRY

users = Table(
    "web_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("organisation", String(200), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("language", String(8), nullable=False),
    Column("totp_secret_enc", LargeBinary, nullable=True),
    Column("totp_enabled", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", DateTime, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("demo", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_login_at", DateTime, nullable=True),
    #: The last TOTP time step accepted, so a code cannot be used twice within its window.
    Column("totp_last_step", Integer, nullable=True),
)

sessions = Table(
    "web_sessions", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("workspace", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

api_tokens = Table(
    "web_api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
)

case_shares = Table(
    "web_case_shares", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), ForeignKey(f"{CASES_TABLE}.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("organisation", String(200), nullable=False, index=True),
    Column("shared_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    #: summary, personal or edit (see :class:`tipsom.web.access.ShareScope`).
    Column("scope", String(20), nullable=False, server_default="summary"),
    #: Last day the share holds (inclusive); none means until revoked.
    Column("ends_on", Date, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
    Column("revoked_by", String(64), nullable=True),
    UniqueConstraint("case_id", "organisation"),
)

#: Registered organisations: the only possible owners of accounts and targets of a share.
#: ``name`` is what accounts and cases carry as their organisation (``reporting_org``).
organisations = Table(
    "web_organisations", metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("org_type", String(60), nullable=False),
    Column("jurisdiction", String(3), nullable=False),
    Column("contact", String(200), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

#: Need-to-know filters every case list by organisation; without this index a
#: list page on 100,000 cases scans the whole table.
cases_by_org = Index("ix_web_cases_reporting_org", REGISTRY["case"].c.reporting_org, REGISTRY["case"].c.id)

#: Dashboard charts as last drawn, per filter, with the data version they were drawn from.
#: They hold only published (disclosure-controlled) figures, the same any dashboard viewer sees;
#: a server restart, or a second worker, shows them at once while the data is unchanged.
chart_snapshots = Table(
    "web_chart_snapshots", metadata,
    Column("filter_key", String(40), primary_key=True),
    Column("data_version", String(40), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("software", String(40), nullable=False),
    Column("charts", Text, nullable=False),
    Column("drawn_at", DateTime, nullable=False, index=True),
)
