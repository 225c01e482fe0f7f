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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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
        # Shifted copies of the word list are meant to stop at the shortest: that is the last n-gram.
        grams = [" ".join(gram) for gram in zip(*(words[i:] for i in range(SHINGLE_WORDS)), strict=False)]
    return np.array(sorted({zlib.crc32(g.encode("utf-8")) for g in grams}), dtype=np.uint32)


#: Shingles hashed by one vectorised MinHash step: its (permutations x shingles)
#: matrix of 4 MB stays in cache, which measured fastest.
_MINHASH_BLOCK = 1 << 12


def _minhash(blocks: list[U32Array]) -> npt.NDArray[np.uint64]:
    """MinHash signatures (one row per non-empty shingle set), all sets hashed together.

    Hashing a whole batch at once replaces one small numpy call per ad (whose
    overhead dominated) with a few large ones; the values are the same.
    """
    x = np.concatenate(blocks).astype(np.uint64)
    ends = np.cumsum([b.size for b in blocks]).tolist()
    starts = [0, *ends[:-1]]
    out = np.empty((len(blocks), BANDS * ROWS), dtype=np.uint64)
    first = 0
    while first < len(blocks):
        last = first + 1  # a set larger than the block is hashed alone
        while last < len(blocks) and ends[last] - starts[first] <= _MINHASH_BLOCK:
            last += 1
        lo = starts[first]
        hashed = (_A[:, None] * x[None, lo : ends[last - 1]] + _B[:, None]) % _PRIME
        local = np.array(starts[first:last], dtype=np.int64) - lo
        out[first:last] = np.minimum.reduceat(hashed, local, axis=1).T
        first = last
    return out


def band_keys(shingle_sets: Sequence[U32Array]) -> list[I64Array]:
    """One 63-bit key per LSH band for each shingle set; empty sets get no keys (they never match)."""
    keys: list[I64Array] = [np.empty(0, dtype=np.int64)] * len(shingle_sets)
    filled = [i for i, s in enumerate(shingle_sets) if s.size]
    if not filled:
        return keys
    rows = _minhash([shingle_sets[i] for i in filled]).reshape(len(filled), BANDS, ROWS)
    with np.errstate(over="ignore"):  # wrapping multiplication is the point of the mix
        mixed = np.broadcast_to(np.arange(1, BANDS + 1, dtype=np.uint64), (len(filled), BANDS))
        for r in range(ROWS):
            mixed = mixed * _BAND_MULT + rows[:, :, r]
    banded = (mixed >> np.uint64(1)).astype(np.int64)
    for row, i in enumerate(filled):
        keys[i] = banded[row]
    return keys


def _ends(arrays: Sequence[npt.NDArray[Any]]) -> I64Array:
    return np.cumsum(np.array([a.size for a in arrays], dtype=np.int64))


@dataclass(frozen=True)
class SignatureTable:
    """The signatures of many ads, column-wise: one flat array of shingles and one of band keys.

    Two small numpy arrays per ad cost more to pickle between processes and to
    concatenate for linkage than the hashing itself; a table per batch of ads
    holds the same values in four arrays. ``table[i]`` is ad ``i``'s signature.
    """

    shingles: U32Array
    #: End offset of each ad's shingles (ad ``i`` holds ``shingles[ends[i-1]:ends[i]]``).
    shingle_ends: I64Array
    bands: I64Array
    band_ends: I64Array

    @classmethod
    def empty(cls) -> SignatureTable:
        return cls(np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def concat(cls, tables: Sequence[SignatureTable]) -> SignatureTable:
        """One table of the ads of ``tables``, in order."""
        if not tables:
            return cls.empty()

        def shifted(ends: list[I64Array], sizes: list[int]) -> I64Array:
            offsets = np.cumsum([0, *sizes[:-1]], dtype=np.int64)
            return np.concatenate([e + o for e, o in zip(ends, offsets, strict=True)])

        return cls(
            np.concatenate([t.shingles for t in tables]),
            shifted([t.shingle_ends for t in tables], [t.shingles.size for t in tables]),
            np.concatenate([t.bands for t in tables]),
            shifted([t.band_ends for t in tables], [t.bands.size for t in tables]),
        )

    def __len__(self) -> int:
        return int(self.shingle_ends.size)

    def __getitem__(self, index: int) -> TextSignature:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        sh_lo = int(self.shingle_ends[index - 1]) if index else 0
        band_lo = int(self.band_ends[index - 1]) if index else 0
        return TextSignature(self.shingles[sh_lo : self.shingle_ends[index]],
                             self.bands[band_lo : self.band_ends[index]])

    def __iter__(self) -> Iterator[TextSignature]:
        return (self[i] for i in range(len(self)))

    def shingle_owners(self) -> I64Array:
        """The ad index of every entry of :attr:`shingles`."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.shingle_ends, prepend=0))

    def band_owners(self) -> I64Array:
        """The ad index of every entry of :attr:`bands`."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.band_ends, prepend=0))


def signatures(texts: Sequence[str]) -> SignatureTable:
    """Signatures of many (masked) texts, MinHashed together."""
    sets = [shingles(t) for t in texts]
    if not sets:
        return SignatureTable.empty()
    keys = band_keys(sets)
    return SignatureTable(np.concatenate(sets), _ends(sets), np.concatenate(keys), _ends(keys))


def jaccard(a: U32Array, b: U32Array) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
