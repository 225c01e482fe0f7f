"""Signatures in batches: the table of a batch holds each ad's own signature, in order."""

from __future__ import annotations

import numpy as np

from tipsom.osint.textsim import BANDS, SignatureTable, shingles, signatures

TEXTS = ["", "Hotel visits day and night in Miami, ask for my manager", "one two",
         "Hotel visits day and night in Dallas, ask for my driver", "12 34 !!"]


def test_each_ad_keeps_its_own_shingles_and_empty_texts_get_no_band_keys() -> None:
    table = signatures(TEXTS)
    assert len(table) == len(TEXTS)
    for text, sig in zip(TEXTS, table, strict=True):
        assert np.array_equal(sig.shingles, shingles(text))
        assert sig.bands.size == (BANDS if sig.shingles.size else 0)
    assert table[0].bands.size == 0  # no letters: never a candidate
    assert table[-1].bands.size == 0
    assert np.array_equal(table[-2].shingles, table[3].shingles)


def test_tables_of_batches_concatenate_to_the_table_of_all_ads() -> None:
    whole = signatures(TEXTS)
    joined = SignatureTable.concat([signatures(TEXTS[:2]), signatures(TEXTS[2:3]), signatures(TEXTS[3:])])
    for name in ("shingles", "shingle_ends", "bands", "band_ends"):
        assert np.array_equal(getattr(joined, name), getattr(whole, name)), name
    assert joined.shingle_owners().tolist() == [i for i, s in enumerate(whole) for _ in range(s.shingles.size)]
    assert len(SignatureTable.concat([])) == 0
