"""Documentation tests: a setting or command that is not documented fails the build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from tipsom.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))


def _command_paths(command: Any, prefix: str = "tipsom") -> list[str]:
    # Typer's groups have a ``commands`` mapping (Typer vendors its own click core).
    subcommands = getattr(command, "commands", None)
    if subcommands:
        paths = []
        for name, sub in subcommands.items():
            paths.extend(_command_paths(sub, f"{prefix} {name}"))
        return paths
    return [prefix]


def test_every_setting_is_documented() -> None:
    source = (ROOT / "src" / "tipsom" / "settings.py").read_text(encoding="utf-8")
    names = set(re.findall(r'"(TIPSOM_[A-Z_]+)"', source))
    assert names, "no settings found"
    documented = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"`{n}`" not in documented)
    assert not missing, f"settings missing from docs/settings.md: {missing}"


def test_every_command_is_documented() -> None:
    root = typer.main.get_command(app)
    paths = _command_paths(root)
    assert "tipsom init" in paths
    text = _docs_text()
    missing = [p for p in paths if f"`{p}" not in text]
    assert not missing, f"commands missing from docs/*.md: {missing}"
