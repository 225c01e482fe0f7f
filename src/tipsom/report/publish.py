"""Published tables: the suppressed cubes as long tables, CSV files and an XLSX workbook.

Every published number (tables, charts, SDG file) is read from a
:class:`~tipsom.report.disclosure.Protected` cube through this module, so what
a chart shows is exactly what the table next to it says. A codebook (each
dimension's codes, parents and labels) ships beside the tables, so a reader,
or an auditor re-running the disclosure attack, knows which cells add up.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipsom.core.cells import neutral_row, text_cell
from tipsom.report.cube import TOTAL, Key
from tipsom.report.disclosure import CellStatus, Protected

VALUE = "value"
STATUS = "status"


@dataclass(frozen=True)
class Sheet:
    """A plain table (fees, revenue, SDG series) published beside the cubes."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def cube_columns(p: Protected) -> list[str]:
    dims = [d.name for d in p.cube.dims]
    return [*dims, *(f"{d}_label" for d in dims), VALUE, STATUS]


def cube_rows(p: Protected) -> Iterable[tuple[str, ...]]:
    """One row per published cell: codes, labels, the shown value and its status."""
    dims = p.cube.dims
    for key in p.cube.cells():
        labels = tuple(d.label_of(n) for d, n in zip(dims, key, strict=True))
        yield (*key, *labels, p.display(key), str(p.status(key)))


def cube_sheet(p: Protected) -> Sheet:
    return Sheet(p.cube.name, p.cube.title, tuple(cube_columns(p)), list(cube_rows(p)))


def codebook_sheet(cubes: Sequence[Protected]) -> Sheet:
    rows = []
    for p in cubes:
        for d in p.cube.dims:
            for node in d.order:
                rows.append((p.cube.name, d.name, node, d.parents.get(node, ""), d.label_of(node)))
    return Sheet("codebook", "Codes, their parents and labels", ("table", "dimension", "code", "parent", "label"),
                 rows)


def notes_sheet(cubes: Sequence[Protected]) -> Sheet:
    """How to read the marks, and how much each table hides."""
    rows: list[tuple[Any, ...]] = []
    for p in cubes:
        rows.append((p.cube.name, p.cube.title, p.cube.unit, sum(1 for _ in p.cube.cells()),
                     p.count(CellStatus.PRIMARY), p.count(CellStatus.SECONDARY)))
    return Sheet("notes", "Tables, units and suppressed cells",
                 ("table", "title", "unit", "cells", "primary_suppressed", "secondary_suppressed"), rows)


def write_csv(sheet: Sheet, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(neutral_row(sheet.columns))
        writer.writerows(neutral_row(row) for row in sheet.rows)
    return path


def write_xlsx(sheets: Sequence[Sheet], path: Path, legend: Sequence[str]) -> Path:
    """One worksheet per table (write-only mode: fast and small on large tables)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    about = wb.create_sheet("about")
    for line in legend:
        about.append([text_cell(about, line)])
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name[:31])
        ws.append([text_cell(ws, value) for value in sheet.columns])
        for row in sheet.rows:
            ws.append([text_cell(ws, value) for value in row])
    wb.save(str(path))
    return path


def series(p: Protected, fixed: Mapping[str, str], along: str) -> list[tuple[str, str, float | None, str]]:
    """Cells varying along one dimension, others fixed: (code, label, shown value, display).

    Nodes of ``along`` that are not published with ``fixed`` are skipped; the
    ``Total`` node is left out (charts show parts, the total is in the title).
    """
    dims = p.cube.dims
    pos = {d.name: i for i, d in enumerate(dims)}
    axis = dims[pos[along]]
    out = []
    for node in axis.order:
        if node == TOTAL:
            continue
        key: Key = tuple(fixed.get(d.name, TOTAL) if d.name != along else node for d in dims)
        if not p.cube.is_published(key):
            continue
        out.append((node, axis.label_of(node), p.shown_value(key), p.display(key)))
    return out


def cell(p: Protected, **coords: str) -> tuple[float | None, str]:
    """One published cell (dimensions not named are ``Total``): shown value and display."""
    key: Key = tuple(coords.get(d.name, TOTAL) for d in p.cube.dims)
    if not p.cube.is_published(key):
        raise KeyError(f"{p.cube.name}: cell {coords} is not published")
    return p.shown_value(key), p.display(key)
