"""Publication at the size of real registries (issue 17): seeded synthetic stores.

For each size the CLI's ``report sdg`` and ``report build`` must finish, the
independent LP attacker of ``test_disclosure`` must not narrow any hidden small
cell below the protection range in any table, no count between 1 and the
threshold may be shown, and every yearly total of detected victims at or above
the threshold must be published. Tables sharing a cell show it the same way.
One store per size is built for the whole module, by the synthetic generator
straight into the store (the quickest path: no file in between).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.report.test_disclosure import (
    PROTECTION,
    THRESHOLD,
    equations,
    flow_equations,
    read_codebook,
    read_table,
    widths,
)
from tipsom.cli.main import app
from tipsom.report.cube import Cube

SIZES = (500, 2000, 20000)
TABLES = ("victims", "flows", "justice", "migrants", "harm", "context", "non_punishment")
runner = CliRunner()


@dataclass
class Registry:
    size: int
    url: str
    out: Path
    sdg: Path
    cubes: dict[str, Cube]


@pytest.fixture(scope="module", params=SIZES, ids=[f"{n}_cases" for n in SIZES])
def registry(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    from tipsom.exchange.importer import import_records
    from tipsom.exchange.native import Record
    from tipsom.settings import Settings
    from tipsom.store.db import Store
    from tipsom.synth.cases import CaseGenerator

    size = int(request.param)
    home = tmp_path_factory.mktemp(f"registry_{size}")
    settings = Settings(home=home, key=base64.urlsafe_b64encode(os.urandom(32)).decode(), db_url="")
    store = Store.init(settings.database_url, settings=settings)
    import_records(store, (Record(i, {}, d) for i, d in enumerate(CaseGenerator(11).cases(size), start=1)),
                   source="test", actor="test", purpose="registry size tests")
    db = ["--db", store.url]
    out, sdg = home / "report", home / "sdg.csv"
    built = runner.invoke(app, ["report", "build", "--out", str(out), "--no-pdf", *db])
    assert built.exit_code == 0, built.output
    series = runner.invoke(app, ["report", "sdg", "-o", str(sdg), *db])
    assert series.exit_code == 0, series.output
    yield Registry(size, store.url, out, sdg, _cubes(store.url))
    store.dispose()


def _cubes(url: str) -> dict[str, Cube]:
    """The true counts, recomputed from the store (the published files have only what is shown)."""
    from tipsom.report.compute import CUBES, REPORT_COLUMNS
    from tipsom.report.statistics import ReportFilter
    from tipsom.report.warehouse import open_warehouse
    from tipsom.store.db import Store

    store = Store.init(url)
    con = open_warehouse(store, projection=REPORT_COLUMNS)
    try:
        return {name: build(con, ReportFilter()) for name, build in CUBES.items()}
    finally:
        con.close()
        store.dispose()


def _truth(registry: Registry, table: str) -> dict[tuple[str, ...], float]:
    return registry.cubes[table].values


@pytest.mark.parametrize("table", TABLES)
def test_attacker_narrows_no_hidden_small_cell(registry: Registry, table: str) -> None:
    dims, cells = read_table(registry.out, table)
    eqs = equations(dims, cells, read_codebook(registry.out, table))
    if table == "flows":
        eqs += flow_equations(cells)
    truth = _truth(registry, table)
    sensitive = [k for k, (_, status) in cells.items() if status != "shown" and 0 < truth.get(k, 0) < THRESHOLD]
    if not sensitive:
        pytest.skip(f"{table}: no small cell at {registry.size} cases")
    narrow = {k: w for k, w in widths(cells, eqs, sensitive).items() if w < PROTECTION - 1e-6}
    assert not narrow, f"{table}: {len(narrow)} cells recoverable, e.g. {next(iter(narrow.items()))}"


@pytest.mark.parametrize("table", TABLES)
def test_no_small_count_is_shown(registry: Registry, table: str) -> None:
    _, cells = read_table(registry.out, table)
    shown = [float(v) for v, status in cells.values() if status == "shown"]
    assert shown
    assert not [v for v in shown if 0 < v < THRESHOLD]


def test_every_yearly_total_of_victims_is_published(registry: Registry) -> None:
    dims, cells = read_table(registry.out, "victims")
    year = dims.index("year")
    totals = {k: cell for k, cell in cells.items()
              if k[year] != "Total" and all(n == "Total" for i, n in enumerate(k) if i != year)}
    truth = _truth(registry, "victims")
    big = {k: cell for k, cell in totals.items() if truth.get(k, 0) >= THRESHOLD}
    assert big
    hidden = [k for k, (_, status) in big.items() if status != "shown"]
    assert not hidden, f"{len(hidden)} of {len(big)} yearly totals hidden, e.g. {hidden[0]}"


def test_tables_sharing_a_cell_show_it_the_same_way(registry: Registry) -> None:
    from tipsom.report.compute import shared_cells

    published = {table: read_table(registry.out, table)[1] for table in TABLES}
    groups = shared_cells(registry.cubes)
    assert groups
    for group in groups:
        assert len({registry.cubes[t].value(k) for t, k in group}) == 1, f"{group} do not count the same people"
        assert len({published[t][k][1] for t, k in group}) == 1, f"{group} shown in one table, hidden in another"


def test_report_sdg_publishes_what_report_build_publishes(registry: Registry) -> None:
    """``report sdg`` computes only the victims table: its series must still be the build's, cell for cell
    (two publications of one registry that disagree on a hidden cell would give it away)."""
    alone = registry.sdg.read_text(encoding="utf-8").splitlines()
    assert len(alone) > 1
    assert alone == (registry.out / "sdg_16_2_2.csv").read_text(encoding="utf-8").splitlines()
