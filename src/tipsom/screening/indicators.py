"""Indicator screening: the ILO 11 forced-labour indicators and the ILO/EC operational indicators.

Both are data (``indicators/*.yaml``). The ILO/EC indicators are graded strong,
medium or weak in six dimensions; a dimension is positive under the published
counting rule, and the victim rule combines dimensions into a typed level that
names the answers that drove it. The same code assesses a filled questionnaire
(CLI, web form) and indicators read from case records in bulk: answers are a
rows x indicators boolean matrix either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tipsom.core.config import read_file
from tipsom.core.errors import ConfigError
from tipsom.screening.conditions import Compiler, EvalContext, Node
from tipsom.screening.enums import ExploitationKind, IndicatorLevel, IndicatorStrength
from tipsom.screening.fields import batch_schema
from tipsom.screening.rows import PersonRows

HERE = Path(__file__).resolve().parent / "indicators"
ACT = "act"  # the child list's yes/no question on recruitment or movement


class IndicatorError(ConfigError):
    """Bad answers to a questionnaire (unknown indicator, wrong value)."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True)
class Indicator:
    id: str
    dimension: str
    strength: IndicatorStrength
    text: str
    derive: Node | None = None
    note: str = ""


@dataclass(frozen=True)
class OperationalList:
    """One ILO/EC list (e.g. children, labour) with its rules."""

    kind: ExploitationKind
    child: bool
    indicators: tuple[Indicator, ...]
    dimensions: dict[str, str]
    dimension_rule: tuple[dict[str, int], ...]
    victim_rule: tuple[tuple[str, ...], ...]
    source: str
    verified: bool

    def questionnaire(self) -> dict[str, Any]:
        """The blank questionnaire: every question with its id, dimension and grade."""
        questions = [{"id": i.id, "dimension": i.dimension, "strength": i.strength.value, "text": i.text,
                      **({"note": i.note} if i.note else {})} for i in self.indicators]
        if self.child:
            questions.insert(0, {"id": ACT, "dimension": ACT, "strength": "", "text": _raw()["child_act_question"]})
        return {"source": self.source, "verified": self.verified, "list": f"{'child' if self.child else 'adult'} "
                f"{self.kind.value}", "dimensions": self.dimensions, "questions": questions}

    def matrix(self, answers: Iterable[Mapping[str, Any]]) -> npt.NDArray[np.bool_]:
        """Answers (``{indicator_id: true/false}``, one mapping per person) as a matrix."""
        ids = [i.id for i in self.indicators] + ([ACT] if self.child else [])
        index = {k: j for j, k in enumerate(ids)}
        rows = list(answers)
        out = np.zeros((len(rows), len(ids)), dtype=bool)
        for r, a in enumerate(rows):
            for key, value in a.items():
                if key not in index:
                    raise IndicatorError(f"answer {r + 1}: {key!r} is not a question of this list "
                                         f"(see the questionnaire for the ids)")
                if not isinstance(value, bool):
                    raise IndicatorError(f"answer {r + 1}: {key!r} must be true or false, got {value!r}")
                out[r, index[key]] = value
        return out

    @cached_property
    def _tiers(self) -> dict[str, dict[IndicatorStrength, list[int]]]:
        """Matrix columns by dimension and strength (worked out once: the list never changes)."""
        return {d: {s: [j for j, i in enumerate(self.indicators) if i.dimension == d and i.strength is s]
                    for s in IndicatorStrength} for d in self.dimensions}

    def assess(self, present: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.bool_]]]:
        """Level per row (index into IndicatorLevel) and positive dimensions, vectorised."""
        n = present.shape[0]
        counts: dict[str, dict[IndicatorStrength, npt.NDArray[np.int64]]] = {}
        for d, tiers in self._tiers.items():
            counts[d] = {s: present[:, cols].sum(axis=1) if cols else np.zeros(n, dtype=np.int64)
                         for s, cols in tiers.items()}
        positive: dict[str, npt.NDArray[np.bool_]] = {}
        for d, c in counts.items():
            hit = np.zeros(n, dtype=bool)
            for need in self.dimension_rule:
                ok = np.ones(n, dtype=bool)
                for key, k in need.items():
                    have = (c[IndicatorStrength.MEDIUM] + c[IndicatorStrength.WEAK]) if key == "medium_or_weak" \
                        else c[IndicatorStrength(key)]
                    ok &= have >= k
                hit |= ok
            positive[d] = hit
        if self.child:
            positive[ACT] = present[:, -1]
        probable = np.ones(n, dtype=bool)
        for group in self.victim_rule:
            probable &= np.logical_or.reduce([positive[g] for g in group])
        strong = present[:, [j for tiers in self._tiers.values() for j in tiers[IndicatorStrength.STRONG]]]
        possible = np.logical_or.reduce([positive[d] for d in self.dimensions]) | strong.any(axis=1)
        levels = np.where(probable, 2, np.where(possible, 1, 0)).astype(np.int64)
        return levels, positive

    def explain(self, present: npt.NDArray[np.bool_], row: int = 0) -> dict[str, Any]:
        """The level of one row and the answers that drove it."""
        levels, positive = self.assess(present[row : row + 1])
        level = list(IndicatorLevel)[int(levels[0])]
        dims: dict[str, dict[str, Any]] = {}
        for d, label in self.dimensions.items():
            hits = [i for j, i in enumerate(self.indicators) if i.dimension == d and present[row, j]]
            dims[d] = {"label": label, "positive": bool(positive[d][0]),
                       "answers": [{"id": i.id, "strength": i.strength.value, "text": i.text} for i in hits]}
        drivers = [a["text"] for d in dims.values() if d["positive"] for a in d["answers"]]
        if self.child and present[row, -1]:
            drivers.insert(0, "child recruited or moved (means are not required)")
        return {"level": level.value, "list": f"{'child' if self.child else 'adult'} {self.kind.value}",
                "verified": self.verified, "dimensions": dims, "drivers": drivers}


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = read_file(HERE / "ilo_ec_2009.yaml")
    return data


def _compiler() -> Compiler:
    from tipsom.screening.rules import load_ruleset

    return Compiler(batch_schema(), load_ruleset(None).params)


@cache
def operational_list(kind: ExploitationKind = ExploitationKind.LABOUR, child: bool = False) -> OperationalList:
    """The ILO/EC list for ``kind`` and age group (only labour lists are encoded)."""
    raw = _raw()
    if kind.value not in raw["lists_encoded"]:
        raise IndicatorError(f"the ILO/EC {kind.value} lists are not encoded (not verifiable offline); "
                             f"encoded: {', '.join(raw['lists_encoded'])}")
    compiler = _compiler()
    adult = raw[kind.value]["adult"]
    changes = raw[kind.value]["child_changes"]
    to_strong = {(d, t) for d, t in changes["to_strong"]}
    omit = {(d, t) for d, t in changes["omit"]}
    items: list[Indicator] = []
    for dim, tiers in adult.items():
        for tier, entries in tiers.items():
            for e in entries:
                text = e if isinstance(e, str) else e["text"]
                strength = IndicatorStrength(tier)
                if child:
                    if (dim, text) in omit:
                        continue
                    if (dim, text) in to_strong:
                        strength = IndicatorStrength.STRONG
                    elif strength is IndicatorStrength.WEAK:
                        strength = IndicatorStrength.MEDIUM
                derive = e.get("derive") if isinstance(e, dict) else None
                node = compiler.compile(derive, f"indicator {text!r}") if derive else None
                items.append(Indicator(f"{dim}.{_slug(text)}", dim, strength, text, node,
                                       e.get("note", "") if isinstance(e, dict) else ""))
    return OperationalList(
        kind=kind, child=child, indicators=tuple(items),
        dimensions={d: v["label"] for d, v in raw["dimensions"].items()},
        dimension_rule=tuple(raw["dimension_rule"]),
        victim_rule=tuple(tuple(g) for g in raw["victim_rule"]["child" if child else "adult"]),
        source=raw["source"], verified=bool(raw["verified"]),
    )


@dataclass(frozen=True)
class ForcedLabourIndicator:
    id: str
    label: str
    question: str
    derive: Node | None


@cache
def forced_labour_indicators() -> tuple[ForcedLabourIndicator, ...]:
    raw = read_file(HERE / "ilo_forced_labour.yaml")
    compiler = _compiler()
    return tuple(ForcedLabourIndicator(i["id"], i["label"], i["question"],
                                       compiler.compile(i["derive"], f"indicator {i['id']!r}") if "derive" in i
                                       else None) for i in raw["indicators"])


@cache
def indicator_columns() -> frozenset[str]:
    """Fields the derived indicators read (added to screening batches)."""
    nodes = [i.derive for i in forced_labour_indicators()] + [
        i.derive for child in (False, True) for i in operational_list(ExploitationKind.LABOUR, child).indicators]
    return frozenset().union(*(n.paths() for n in nodes if n is not None))


def derived_indicators(batch: PersonRows, rows: Iterable[int], child: Iterable[bool]) -> list[dict[str, Any]]:
    """Indicators read from each row's recorded fields (a partial mapping, flagged as such)."""
    ctx = EvalContext(batch)
    fl = forced_labour_indicators()
    fl_masks = [i.derive.mask(ctx) if i.derive else np.zeros(batch.n, dtype=bool) for i in fl]
    lists = {c: operational_list(ExploitationKind.LABOUR, c) for c in (False, True)}
    present = {}
    for c, lst in lists.items():
        cols = [i.derive.mask(ctx) if i.derive else np.zeros(batch.n, dtype=bool) for i in lst.indicators]
        if c:
            cols.append(np.zeros(batch.n, dtype=bool))  # movement is read from the act predicate below
        present[c] = np.column_stack(cols)
    act = _act_mask(ctx)
    present[True][:, -1] = act
    out = []
    for row, is_child in zip(rows, child, strict=True):
        out.append({
            "basis": "derived from recorded fields (partial mapping; use the questionnaire for a full screening)",
            "ilo_forced_labour": [i.id for i, m in zip(fl, fl_masks, strict=True) if m[row]],
            "ilo_ec": lists[is_child].explain(present[is_child], row),
        })
    return out


@cache
def _act_node() -> Node:
    """The base rule set's ``act`` predicate: the child list's movement question, read from records."""
    from tipsom.screening.rules import load_ruleset

    act = next(p for p in load_ruleset(None).predicates if p.name == ACT)
    return _compiler().compile(act.condition, "predicate 'act'")


def _act_mask(ctx: EvalContext) -> npt.NDArray[np.bool_]:
    return _act_node().mask(ctx)


def assess_questionnaire(answers: Mapping[str, Any], *, child: bool = False,
                         kind: ExploitationKind = ExploitationKind.LABOUR) -> dict[str, Any]:
    """Assess one filled ILO/EC questionnaire and the ILO 11 answers it contains.

    ``answers`` maps question ids (from :meth:`OperationalList.questionnaire` and
    the ILO 11 ids) to true/false.
    """
    lst = operational_list(kind, child)
    fl_ids = {i.id for i in forced_labour_indicators()}
    ec_answers = {k: v for k, v in answers.items() if k not in fl_ids}
    for k, v in answers.items():
        if k in fl_ids and not isinstance(v, bool):
            raise IndicatorError(f"{k!r} must be true or false, got {v!r}")
    result = lst.explain(lst.matrix([ec_answers]))
    observed = [i.id for i in forced_labour_indicators() if answers.get(i.id) is True]
    return {"ilo_forced_labour": observed, "ilo_ec": result}


def questionnaire(*, child: bool = False, kind: ExploitationKind = ExploitationKind.LABOUR) -> dict[str, Any]:
    """The blank questionnaire (ILO 11 and the ILO/EC list), for the CLI and the web form."""
    return {
        "ilo_forced_labour": [{"id": i.id, "label": i.label, "question": i.question}
                              for i in forced_labour_indicators()],
        "ilo_ec": operational_list(kind, child).questionnaire(),
    }
