"""Commands of the web module (being built)."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Add this module's commands to root (none yet)."""
