"""Where tipsom claims to agree with R: BCa draws in input-row order, BIC's main-effects fallback."""

from __future__ import annotations

import random
from pathlib import Path

from tipsom.estimate.mse import IntervalMethod, Selection, estimate
from tipsom.estimate.table import CaptureTable, read_table

REPLICATES = 200


def _rows(path: Path) -> tuple[str, list[str]]:
    header, *rows = path.read_text(encoding="utf-8").strip().splitlines()
    return header, rows


def test_bca_draws_follow_the_input_row_order_as_r_does(reference: Path, tmp_path: Path) -> None:
    """R's multinomial is drawn over the rows as given: another order gives another interval, and putting
    the rows back in the original order gives back the original interval, draw for draw."""
    original = reference / "mse" / "UKdat_5.csv"
    header, rows = _rows(original)
    shuffled = rows[:]
    random.Random(5).shuffle(shuffled)
    moved = tmp_path / "shuffled.csv"
    moved.write_text("\n".join([header, *shuffled]) + "\n", encoding="utf-8")
    restored = tmp_path / "restored.csv"
    restored.write_text("\n".join([header, *sorted(shuffled, key=rows.index)]) + "\n", encoding="utf-8")

    table = read_table(moved)
    assert [",".join(map(str, (*h, c))) for h, c in zip(table.histories, table.counts, strict=True)] == shuffled

    def interval(path: Path) -> tuple[float, float]:
        e = estimate(read_table(path), interval=IntervalMethod.BCA, replicates=REPLICATES, seed=1234, workers=1)
        return e.interval.low, e.interval.high

    first = interval(original)
    assert interval(restored) == first
    assert interval(moved) != first


def test_bic_with_an_empty_list_falls_back_to_main_effects_like_stepwise() -> None:
    rows = [((1, 0, 0, 0), 60), ((0, 1, 0, 0), 50), ((0, 0, 1, 0), 40), ((1, 1, 0, 0), 12), ((1, 0, 1, 0), 9),
            ((0, 1, 1, 0), 8), ((1, 1, 1, 0), 2)]
    table = CaptureTable.from_histories(("A", "B", "C", "empty"), rows)
    bic = estimate(table, Selection.BIC)
    main = estimate(table, Selection.MAIN)
    assert bic.model_names() == []
    assert bic.total == main.total
    assert bic.total > table.observed
    assert bic.bic is not None
    assert bic.bic.top[0].weight == 1.0
