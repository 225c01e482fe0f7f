"""Disclosure control: an independent linear-programming attacker on the published tables."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_array

from tests.report.conftest import Built
from tipsom.report.cube import Cube, Dim
from tipsom.report.disclosure import CellStatus, DisclosurePolicy, protect, protect_all

THRESHOLD, PROTECTION = 5, 3


def read_table(out: Path, name: str) -> tuple[list[str], dict[tuple[str, ...], tuple[str, str]]]:
    with (out / "tables" / f"{name}.csv").open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        n = header.index("value") // 2
        return header[:n], {tuple(r[:n]): (r[-2], r[-1]) for r in reader}


def read_codebook(out: Path, table: str) -> dict[str, dict[str, list[str]]]:
    """dimension -> parent code -> child codes, as published in the codebook."""
    tree: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with (out / "tables" / "codebook.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["table"] == table and row["parent"]:
                tree[row["dimension"]][row["parent"]].append(row["code"])
    return tree


def equations(dims: list[str], cells: dict[tuple[str, ...], tuple[str, str]],
              tree: dict[str, dict[str, list[str]]]) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
    """parent = sum of children, for every such relation whose cells are all published."""
    out = []
    for key in cells:
        for i, dim in enumerate(dims):
            children = tree.get(dim, {}).get(key[i])
            if not children:
                continue
            kids = [(*key[:i], c, *key[i + 1:]) for c in children]
            if all(k in cells for k in kids):
                out.append((key, kids))
    return out


Equation = tuple[tuple[str, ...], list[tuple[str, ...]]]


def flow_equations(cells: dict[tuple[str, ...], tuple[str, str]]) -> list[Equation]:
    """What a reader knows about flows: domestic is the diagonal, cross-border the rest."""
    pairs = [k for k in cells if k[2] == "Total" and "Total" not in k[:2]]
    known = [k for k in pairs if "Unknown" not in k[:2]]
    return [(("Total", "Total", "Domestic"), [k for k in known if k[0] == k[1]]),
            (("Total", "Total", "CrossBorder"), [k for k in known if k[0] != k[1]]),
            (("Total", "Total", "Unknown"), [k for k in pairs if "Unknown" in k[:2]])]


def widths(cells: dict[tuple[str, ...], tuple[str, str]], eqs: list[tuple[tuple[str, ...], list[tuple[str, ...]]]],
           targets: list[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """Attacker's interval width for each target: feasible points first, exact min/max LPs for the rest."""
    hidden = [k for k, (_, status) in cells.items() if status != "shown"]
    index = {k: i for i, k in enumerate(hidden)}
    data, rows, cols, rhs = [], [], [], []
    for parent, children in eqs:
        members = [(parent, 1.0)] + [(c, -1.0) for c in children]
        if not any(m in index for m, _ in members):
            continue
        known = 0.0
        for m, coef in members:
            if m in index:
                data.append(coef)
                rows.append(len(rhs))
                cols.append(index[m])
            else:
                known += coef * float(cells[m][0])
        rhs.append(-known)
    a = csr_array((data, (rows, cols)), shape=(len(rhs), len(hidden)))
    bounds = [(0, THRESHOLD - 1) if cells[k][1] == "primary" else (0, None) for k in hidden]
    lo = np.full(len(hidden), np.inf)
    hi = np.full(len(hidden), -np.inf)
    rng = np.random.default_rng(0)
    capped = [(b0, b1 if b1 is not None else 10_000) for b0, b1 in bounds]
    for _ in range(12):
        res = linprog(rng.choice([-1.0, 1.0], len(hidden)), A_eq=a, b_eq=rhs, bounds=capped, method="highs")
        assert res.status == 0
        lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
    # Push the targets not yet spread to one end and then the other: each vertex found is one more
    # table consistent with the publication, far cheaper than two exact LPs per cell.
    for toward in (1.0, -1.0, 1.0, -1.0):
        left = [index[k] for k in targets if hi[index[k]] - lo[index[k]] < PROTECTION]
        if not left:
            break
        c = np.zeros(len(hidden))
        c[left] = toward
        res = linprog(c, A_eq=a, b_eq=rhs, bounds=capped, method="highs")
        assert res.status == 0
        lo, hi = np.minimum(lo, res.x), np.maximum(hi, res.x)
    out = {}
    for key in targets:
        i = index[key]
        if hi[i] - lo[i] >= PROTECTION:
            out[key] = hi[i] - lo[i]
            continue
        c = np.zeros(len(hidden))
        c[i] = 1.0
        low = linprog(c, A_eq=a, b_eq=rhs, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a, b_eq=rhs, bounds=bounds, method="highs")
        out[key] = np.inf if high.status == 3 else float(-high.fun - low.fun)
    return out


@pytest.mark.parametrize("table", ["victims", "flows", "justice", "migrants", "harm", "context", "non_punishment"])
def test_lp_attacker_recovers_no_small_cell_within_the_protection_range(built: Built, table: str) -> None:
    dims, cells = read_table(built.out, table)
    eqs = equations(dims, cells, read_codebook(built.out, table))
    if table == "flows":
        eqs += flow_equations(cells)
    truth = built.data.cubes[table].cube
    sensitive = [k for k, (_, status) in cells.items() if status != "shown" and 0 < truth.value(k) < THRESHOLD]
    if not sensitive:
        pytest.skip(f"{table}: no small cell in this sample")
    narrow = {k: w for k, w in widths(cells, eqs, sensitive).items() if w < PROTECTION - 1e-6}
    assert not narrow, f"{table}: {len(narrow)} cells recoverable, e.g. {next(iter(narrow.items()))}"


def test_a_lone_small_cell_gets_a_complement_that_hides_it() -> None:
    region = Dim.flat("region", "Region", ["A", "B", "C"])
    sex = Dim.flat("sex", "Sex", ["F", "M"])
    leaves = pd.DataFrame({"region": ["A", "A", "B", "B", "C", "C"], "sex": ["F", "M"] * 3,
                           "n": [2, 40, 30, 25, 17, 60]})
    protected = protect(Cube.from_leaves("t", "Test", "persons", [region, sex], leaves), DisclosurePolicy())
    assert protected.status(("A", "F")) is CellStatus.PRIMARY
    assert protected.display(("A", "F")) == "<5"
    assert protected.count(CellStatus.SECONDARY) >= 3  # a rectangle: its row, its column and the opposite corner
    assert protected.display(("Total", "Total")) == "174"


def test_policy_rejects_a_protection_range_the_marks_cannot_give() -> None:
    with pytest.raises(ValueError, match="protection range"):
        DisclosurePolicy(threshold=5, protection=5)
    assert DisclosurePolicy(threshold=11).protection_range == 9


def test_a_cell_hidden_in_one_table_is_hidden_in_every_table_that_shares_it() -> None:
    region = Dim.flat("region", "Region", ["A", "B", "C"])
    by_region = Cube.from_leaves("regions", "Regions", "persons", [region],
                                 pd.DataFrame({"region": ["A", "B", "C"], "n": [2, 30, 40]}))
    two = Dim.flat("region", "Region", ["B", "C"])
    sex = Dim.flat("sex", "Sex", ["F", "M"])
    by_sex = Cube.from_leaves("by_sex", "Regions by sex", "persons", [two, sex],
                              pd.DataFrame({"region": ["B", "B", "C", "C"], "sex": ["F", "M"] * 2,
                                            "n": [15, 15, 20, 20]}))
    alone = {name: protect(c) for name, c in (("regions", by_region), ("by_sex", by_sex))}
    hidden_alone = [k for k, s in alone["regions"].hidden.items() if s is CellStatus.SECONDARY]
    assert hidden_alone  # left alone, the two tables disagree
    assert not alone["by_sex"].hidden
    shared = [(("regions", (r,)), ("by_sex", (r, "Total"))) for r in ("B", "C")]
    together = protect_all({"regions": by_region, "by_sex": by_sex}, DisclosurePolicy(), shared)
    for group in shared:
        assert len({together[name].status(key) for name, key in group}) == 1
    assert together["by_sex"].count(CellStatus.SECONDARY) >= 4  # the shared margin and its own complements
    assert together["by_sex"].display(("Total", "Total")) == "70"


@pytest.mark.parametrize("table", ["justice", "victims"])
def test_the_pattern_does_not_depend_on_the_order_counts_arrive_in(built: Built, table: str) -> None:
    """The warehouse returns rows in no fixed order; two publications of one store (``report sdg`` and
    ``report build``) must hide the same cells, or together they give back what each hides."""
    cube = built.data.cubes[table].cube
    reordered = Cube(cube.name, cube.title, cube.unit, cube.dims, cube.views,
                     dict(reversed(list(cube.values.items()))), cube.extra_lines)
    policy = built.data.policy
    first = protect(cube, policy).hidden
    assert first
    assert protect(reordered, policy).hidden == first
