"""A consensus template per cluster, with slots where its ads differ.

The idea follows InfoShield (Lee et al., ICDE 2021): ads of one operation are
copies of a template with a few parts changed, so describing a cluster as
"template + slot fillers" is both a compact summary for an analyst and a test
of whether the cluster really shares one text. Our method, written from that
idea: take the cluster's most central ad (the medoid by word-set similarity)
as the skeleton, align every other ad to it word by word, keep a skeleton word
when most ads keep it, and turn each run of dropped or replaced words into a
numbered slot listing what the ads put there. ``coverage`` is the share of all
the cluster's words explained by the constant part; a low value says the ads
only share identifiers, not text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np

#: A skeleton word is constant when more than this share of the ads keep it.
SUPPORT = 0.5
#: At most this many ads are aligned (beyond it the template does not change).
MAX_ADS = 40
#: Distinct fillers listed per slot.
MAX_FILLERS = 8


@dataclass(frozen=True)
class Slot:
    number: int
    fillers: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Template:
    """Constant text with ``{1}``, ``{2}``... where slots go."""

    text: str
    slots: list[Slot]
    coverage: float
    ads_aligned: int

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "coverage": round(self.coverage, 3),
            "ads_aligned": self.ads_aligned,
            "slots": [{"slot": s.number, "fillers": [{"text": t, "ads": c} for t, c in s.fillers]}
                      for s in self.slots],
        }


def _medoid(token_lists: Sequence[list[str]]) -> int:
    """The ad with the highest summed word-set Jaccard similarity to the others (first on a tie).

    Overlaps come from one matrix product instead of k² Python set operations;
    each ad's similarities are still summed in order, so ties break as before.
    """
    vocabulary: dict[str, int] = {}
    rows = [sorted({vocabulary.setdefault(w, len(vocabulary)) for w in words}) for words in token_lists]
    incidence = np.zeros((len(rows), len(vocabulary)), dtype=np.float64)
    for i, columns in enumerate(rows):
        incidence[i, columns] = 1.0
    shared: list[list[int]] = (incidence @ incidence.T).astype(np.int64).tolist()
    sizes = [len(r) for r in rows]

    def centrality(i: int) -> float:
        return sum(shared[i][j] / ((sizes[i] + sizes[j] - shared[i][j]) or 1) for j in range(len(rows)) if j != i)

    return max(range(len(rows)), key=lambda i: (centrality(i), -i))


Opcodes = Sequence[tuple[str, int, int, int, int]]


def build_template(texts: Sequence[str]) -> Template:
    """The consensus template of ``texts`` (one cluster's normalised ad texts)."""
    tokens = [t.split() for t in texts[:MAX_ADS]]
    if not tokens:
        return Template("", [], 0.0, 0)
    skeleton = tokens[_medoid(tokens)]
    kept = [0] * (len(skeleton) + 1)
    inserted = [0] * (len(skeleton) + 1)
    alignments: list[Opcodes] = []
    for words in tokens:
        opcodes = SequenceMatcher(a=skeleton, b=words, autojunk=False).get_opcodes()
        alignments.append(opcodes)
        for tag, i1, i2, _, _ in opcodes:
            if tag == "equal":
                for i in range(i1, i2):
                    kept[i] += 1
            elif tag == "insert":
                inserted[i1] += 1
    need = SUPPORT * len(tokens)
    constant = [k > need for k in kept[: len(skeleton)]]
    parts: list[str] = []
    slots: list[Slot] = []
    explained = 0
    i = 0
    while i <= len(skeleton):
        start = i
        while i < len(skeleton) and not constant[i]:
            i += 1
        # A slot where skeleton words vary, or where enough ads add words.
        if start < i or inserted[i] >= max(2.0, 0.2 * len(tokens)):
            fillers = Counter(_filler(words, opcodes, start, i) for words, opcodes in zip(tokens, alignments,
                                                                                     strict=True))
            varying = [(t, c) for t, c in fillers.most_common() if t]
            if varying:
                slots.append(Slot(len(slots) + 1, varying[:MAX_FILLERS]))
                parts.append(f"{{{len(slots)}}}")
        if i == len(skeleton):
            break
        parts.append(skeleton[i])
        explained += kept[i]
        i += 1
    total = sum(len(t) for t in tokens) or 1
    return Template(" ".join(parts), slots, min(1.0, explained / total), len(tokens))


def _filler(words: list[str], opcodes: Opcodes, start: int, end: int) -> str:
    """What one ad wrote over skeleton positions ``start..end``, including words added at their edges."""
    out: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            lo, hi = max(i1, start), min(i2, end)
            if lo < hi:
                out.extend(words[j1 + lo - i1 : j1 + hi - i1])
        elif start <= i1 <= end and (i1 < end or i2 == i1):
            out.extend(words[j1:j2])
    return " ".join(out)
