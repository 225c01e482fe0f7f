"""Helpers for import tests: the real command line, and the store's whole contents to compare."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy import select

from tipsom.schema.model import get_model
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

#: Columns that record when a row was written, not what it holds.
_WHEN = {"created_at", "updated_at"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``tipsom ARGS`` in a child process, with this test's TIPSOM_HOME and TIPSOM_KEY."""
    return subprocess.run([sys.executable, "-m", "tipsom.cli.main", *args], env=dict(os.environ),
                          capture_output=True, text=True, timeout=300, check=False)


def contents(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every registry row (personal fields decrypted, sorted, without write times) and the audit count."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    cipher = store.cipher
    children = {c.name for c in get_model().children("person")}
    with store.engine.connect() as conn:
        for name, table in REGISTRY.items():
            rows = []
            for r in conn.execute(select(table).order_by(*table.primary_key.columns)):
                rows.append(tuple(
                    (k, cipher.open(k.removesuffix("_enc"), v) if k.endswith("_enc") and v is not None else v)
                    for k, v in r._mapping.items() if k not in _WHEN and not (name in children and k == "id")))
            out[name] = sorted(rows, key=repr)
    return out


def one_line_errors(stderr: str) -> list[str]:
    """The lines of ``stderr``, after checking that no Python traceback is among them."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.strip()]
