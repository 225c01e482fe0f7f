"""Web commands: ``tipsom serve`` and the local account commands ``tipsom user ...``."""

from __future__ import annotations

import getpass
import ipaddress
import os
import sys
from typing import Annotated

import typer

from tipsom.cli.common import DbOption, LangOption, fail, open_store
from tipsom.core.errors import ExitCode
from tipsom.core.vocab import Language

user_app = typer.Typer(help="Local web accounts (create, list, unlock, set password).", no_args_is_help=True)
ROLES = "admin, analyst, investigator, caseworker or viewer"


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0 for the LAN).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=32, help="Worker processes.")] = 1,
    db: DbOption = None,
) -> None:
    """Serve the web application over the configured store."""
    import uvicorn

    from tipsom.web.accounts import demo_logins

    store = open_store(db, upgrade=True)  # the server upgrades at start, so its workers only open
    logins = demo_logins(store)
    if logins:
        print("demo logins (synthetic demo only; change or remove them before real use):")
        for username, password, role in logins:
            print(f"  {username:22} {password}  ({role})")
        if not _loopback(host):
            print("warning: demo accounts with a published password are reachable from the network",
                  file=sys.stderr)
    print(f"tipsom web on http://{host}:{port}/ (store {store.engine.url.render_as_string(hide_password=True)})")
    if workers > 1:
        if db:  # worker processes build their own store from the environment
            os.environ["TIPSOM_DB_URL"] = db
        uvicorn.run("tipsom.web.app:serving_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", proxy_headers=True)
        return
    from tipsom.web.app import serving_app

    uvicorn.run(serving_app(db), host=host, port=port, log_level="warning", proxy_headers=True)


def _role(role: str):  # type: ignore[no-untyped-def]  # returns tipsom.web.accounts.Role (lazy import)
    from tipsom.web.accounts import Role

    try:
        return Role(role)
    except ValueError:
        fail(f"--role: unknown role {role!r}; use {ROLES}", ExitCode.USAGE)


def _password(given: str | None) -> str:
    if given:
        return given
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        fail("the two passwords differ")
    return first


def add_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    organisation: Annotated[str, typer.Option("--org", help="Organisation (need-to-know is by organisation).")],
    role: Annotated[str, typer.Option("--role", help=f"One of {ROLES}.")] = "caseworker",
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    lang: LangOption = Language.EN,
    password: Annotated[str | None, typer.Option("--password", help="Password (asked when omitted).")] = None,
    db: DbOption = None,
) -> None:
    """Create a local web account."""
    from tipsom.settings import get_settings
    from tipsom.web.accounts import AccountError, create_user

    store = open_store(db)
    try:
        user = create_user(store, username=username, password=_password(password), organisation=organisation,
                           role=_role(role), display_name=name, language=lang.value, actor=get_settings().actor)
    except AccountError as exc:
        fail(str(exc))
    print(f"created {user.username} ({user.role}, {user.organisation})")


def list_users(db: DbOption = None) -> None:
    """List web accounts with role, organisation and state."""
    from tipsom.store.audit import now
    from tipsom.web.accounts import list_users as all_users

    store = open_store(db)
    with store.engine.connect() as conn:
        for u in all_users(conn):
            state = "locked" if u.locked(now()) else ("active" if u.active else "disabled")
            print(f"{u.username}\t{u.role}\t{u.organisation}\t{state}{chr(9) + 'demo' if u.demo else ''}")


def unlock_user(username: Annotated[str, typer.Argument(help="Login name.")], db: DbOption = None) -> None:
    """Unlock an account locked after failed logins."""
    from tipsom.settings import get_settings
    from tipsom.web.accounts import AccountError, unlock

    try:
        unlock(open_store(db), username, actor=get_settings().actor)
    except AccountError as exc:
        fail(str(exc))
    print(f"unlocked {username}")


def set_user_password(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[str | None, typer.Option("--password", help="New password (asked when omitted).")] = None,
    db: DbOption = None,
) -> None:
    """Set a new password (ends the user's open sessions)."""
    from tipsom.settings import get_settings
    from tipsom.web.accounts import AccountError, set_password

    try:
        set_password(open_store(db), username, _password(password), actor=get_settings().actor)
    except AccountError as exc:
        fail(str(exc))
    print(f"password of {username} changed")


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)
    user_app.command("add")(add_user)
    user_app.command("list")(list_users)
    user_app.command("unlock")(unlock_user)
    user_app.command("password")(set_user_password)
    root.add_typer(user_app, name="user")
