"""Near-duplicate text: shingles, MinHash signatures and LSH band keys.

Organised operations post the same template many times with small changes.
Each ad's text, with identifiers, numbers and prices masked (they vary by
design and are linked separately), is cut into overlapping word n-grams
(shingles). MinHash signatures estimate the Jaccard similarity of two shingle
sets; cutting the signature into bands and keying each band gives candidate
pairs that share a band (locality-sensitive hashing). Candidates are only
candidates: linkage verifies each pair with the exact Jaccard similarity of
the shingle sets before linking.

Hashes are CRC-32 (stable across processes and machines, unlike ``hash()``),
and the MinHash permutations come from a fixed seed, so every run, every
worker and both engines see the same keys.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Words per shingle.
SHINGLE_WORDS = 3
#: MinHash permutations = BANDS * ROWS. 32 bands of 4 rows make pairs with a
#: Jaccard similarity of 0.5 candidates with probability 0.87, and of 0.6 with 0.99.
BANDS = 32
ROWS = 4
# Permutations h(x) = (a*x + b) mod p with p the largest prime below 2**32:
# a, b, x < 2**32 keep a*x + b below 2**64, so uint64 arithmetic never overflows.
_PRIME_INT = 4294967291
_PRIME = np.uint64(_PRIME_INT)
_rng = np.random.default_rng(20261128)
_A = _rng.integers(1, _PRIME_INT, size=BANDS * ROWS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME_INT, size=BANDS * ROWS, dtype=np.uint64)
_BAND_MULT = np.uint64(0x9E3779B97F4A7C15)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

U32Array = npt.NDArray[np.uint32]
I64Array = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TextSignature:
    """Sorted unique shingle hashes and the LSH band keys of one ad."""

    shingles: U32Array
    bands: I64Array


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Blank out ``spans`` (identifiers, prices) so they do not count as shared text."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def shingles(text: str) -> U32Array:
    """Sorted unique CRC-32 hashes of the word n-grams of ``text`` (letters only)."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)]
    return np.unique(np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint32,
                                 count=len(grams)))


def band_keys(shingle_hashes: U32Array) -> I64Array:
    """One 63-bit key per LSH band; empty texts get no keys (they never match)."""
    if shingle_hashes.size == 0:
        return np.empty(0, dtype=np.int64)
    x = shingle_hashes.astype(np.uint64)
    signature = ((_A[:, None] * x[None, :] + _B[:, None]) % _PRIME).min(axis=1)
    rows = signature.reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):  # wrapping multiplication is the point of the mix
        keys = np.arange(1, BANDS + 1, dtype=np.uint64)
        for r in range(ROWS):
            keys = keys * _BAND_MULT + rows[:, r]
    return (keys >> np.uint64(1)).astype(np.int64)


def signature(text: str) -> TextSignature:
    sh = shingles(text)
    return TextSignature(sh, band_keys(sh))


def jaccard(a: U32Array, b: U32Array) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
