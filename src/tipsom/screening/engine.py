"""The screening engine: rule sets compiled once, batches screened in one vectorised pass.

``CompiledRuleSet`` turns every predicate and rule condition of a rule set
into a vectorised evaluator, once. ``Screener`` keeps one compiled rule set per
jurisdiction and screens a batch by grouping its rows by jurisdiction. A single
case (the CLI's ``screen FILE.json``, the case page) goes through the same
compiled evaluators over :class:`~tipsom.screening.rows.DocumentRows` (plain
values instead of one-row frames), so there is one rule semantics everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tipsom.screening.batch import Batch, Mask, batch_from_documents
from tipsom.screening.conditions import Compiler, ConditionError, EvalContext, Node
from tipsom.screening.enums import AlertCode, NonPunishmentTest, Severity
from tipsom.screening.fields import batch_schema
from tipsom.screening.rows import PersonRows
from tipsom.screening.rules import (
    LegalTest,
    Predicate,
    Rule,
    RuleError,
    RuleSet,
    Source,
    applies_to,
    jurisdiction_files,
    layers_for,
    load_ruleset,
)

CODES = tuple(AlertCode)
#: How an alert names the elements still missing. Like every rule text, it is a
#: message of the web catalogs (see :func:`rule_texts`), so readers see it in their language.
MISSING_NOTE = "Missing or unknown: %(elements)s."


def _as_written(text: str) -> str:
    return text


@dataclass(frozen=True)
class MissingElement:
    """An element of the definition not (yet) recorded, and what to ask next."""

    element: str
    label: str
    ask: str


@dataclass(frozen=True)
class Alert:
    """One alert on one person, with everything needed to act on it and check it."""

    code: AlertCode
    severity: Severity
    #: The rule's own explanation, as written in the rule file.
    rule_text: str
    sources: tuple[Source, ...]
    case_id: str
    person_id: str
    rule_id: str
    because: tuple[str, ...] = ()
    missing: tuple[MissingElement, ...] = ()
    legal_test: NonPunishmentTest | None = None
    facts: dict[str, list[Any]] = field(default_factory=dict)
    #: The text of the non-punishment test the jurisdiction applies (empty for other alerts).
    test_text: str = ""

    @property
    def explanation(self) -> str:
        """The whole explanation in the language of the rule files (English)."""
        return self.explain()

    def explain(self, translate: Callable[[str], str] = _as_written) -> str:
        """The explanation with each rule text passed through ``translate`` (a gettext).

        The parts are kept apart so a reader's language applies to each: the
        rule's text, the legal test's, and the list of missing elements.
        """
        parts = [translate(self.rule_text)]
        if self.test_text:
            parts.append(translate(self.test_text))
        if self.missing:
            labels = "; ".join(translate(m.label) for m in self.missing)
            parts.append(translate(MISSING_NOTE) % {"elements": labels})
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code.value, "severity": self.severity.value, "explanation": self.explanation,
            "sources": [str(s) for s in self.sources], "case_id": self.case_id, "person_id": self.person_id,
            "rule": self.rule_id, "because": list(self.because),
        }
        if self.missing:
            out["missing"] = [{"element": m.element, "label": m.label, "ask": m.ask} for m in self.missing]
        if self.legal_test is not None:
            out["legal_test"] = self.legal_test.value
        if self.facts:
            out["facts"] = {k: [v if isinstance(v, str | int) else _plain(v) for v in vs]
                            for k, vs in self.facts.items()}
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, str | int | float) else str(value)


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    node: Node


class CompiledRuleSet:
    """A rule set with every condition compiled, ready to evaluate batches."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        compiler = Compiler(batch_schema(), ruleset.params)
        self.predicates: dict[str, Predicate] = {p.name: p for p in ruleset.predicates}
        for p in ruleset.predicates:
            try:
                compiler.define(p.name, p.label, p.condition)
            except ConditionError as exc:
                raise RuleError(f"rule set {ruleset.version}: {exc}") from None
        self._refs = compiler.predicates
        self.rules: list[_Compiled] = []
        for r in ruleset.rules:
            try:
                node = compiler.compile(r.condition, "condition")
            except ConditionError as exc:
                raise RuleError(f"rule {r.id!r} ({ruleset.version}): {exc}") from None
            self._check_rule(r)
            self.rules.append(_Compiled(r, node))
        if "child" not in self._refs:
            raise RuleError(f"rule set {ruleset.version}: predicate 'child' is required")
        self._columns = frozenset().union(*(c.node.paths() | set(c.rule.facts) for c in self.rules))

    def _check_rule(self, r: Rule) -> None:
        where = f"rule {r.id!r} ({self.ruleset.version})"
        for name in r.name_missing:
            if name not in self._refs:
                raise RuleError(f"{where}: name_missing refers to unknown predicate {name!r}")
        schema = batch_schema()
        for path in r.facts:
            if schema.spec(path) is None or path in schema.personal:
                raise RuleError(f"{where}: fact {path!r} is not a screenable field")
        if r.legal_test is not None:
            for param in r.legal_test:
                try:
                    test = self.ruleset.param_test(param)
                except (KeyError, ValueError):
                    raise RuleError(f"{where}: parameter {param!r} must name a test "
                                    f"({', '.join(t.value for t in NonPunishmentTest)})") from None
                if test not in self.ruleset.legal_tests:
                    raise RuleError(f"{where}: legal test {test.value!r} is not defined")

    def predicate_mask(self, ctx: EvalContext, name: str) -> Mask:
        """A named predicate (e.g. ``child``) over the batch of ``ctx``."""
        return self._refs[name].mask(ctx)

    @property
    def columns(self) -> frozenset[str]:
        """Every field the rules read (batches are built with these only)."""
        return self._columns

    def evaluate(self, batch: PersonRows) -> tuple[EvalContext, list[Mask]]:
        """One boolean array per rule, over all rows."""
        ctx = EvalContext(batch)
        return ctx, [c.node.mask(ctx) for c in self.rules]

    def code_matrix(self, masks: list[Mask], n: int) -> npt.NDArray[np.bool_]:
        """Rows x alert codes: which codes fired for which person."""
        out = np.zeros((n, len(CODES)), dtype=bool)
        for c, m in zip(self.rules, masks, strict=True):
            out[:, CODES.index(c.rule.code)] |= m
        return out

    def alerts_at(self, ctx: EvalContext, masks: list[Mask], row: int) -> list[Alert]:
        """Materialise the alerts of one row, most severe first; one alert per code.

        When several rules of one code fire (a status offence and a
        consequential one both call for non-punishment), the alert takes the
        most severe rule's text and severity but gives the reasons of all of
        them, so every qualifying fact (each charge) is named, not only the
        first rule's.
        """
        fired: dict[AlertCode, list[_Compiled]] = {}
        for c, m in zip(self.rules, masks, strict=True):
            if m[row]:
                same = fired.setdefault(c.rule.code, [])
                if same and c.rule.severity.rank > same[0].rule.severity.rank:
                    same.insert(0, c)
                else:
                    same.append(c)
        alerts = [self._alert(ctx, rules, row) for rules in fired.values()]
        return sorted(alerts, key=lambda a: (-a.severity.rank, CODES.index(a.code)))

    def _alert(self, ctx: EvalContext, rules: list[_Compiled], row: int) -> Alert:
        c = rules[0]
        b, r = ctx.batch, c.rule
        missing = tuple(
            MissingElement(name, self.predicates[name].label, self.predicates[name].ask)
            for name in r.name_missing if not self._refs[name].mask(ctx)[row]
        )
        sources, test, test_text = r.sources, None, ""
        if r.legal_test is not None:
            adult, child = r.legal_test
            is_child = bool(self._refs["child"].mask(ctx)[row])
            test = self.ruleset.param_test(child if is_child else adult)
            lt: LegalTest = self.ruleset.legal_tests[test]
            test_text = lt.text
            cited = {(s.instrument, s.article) for s in sources}
            sources = sources + tuple(s for s in lt.sources if (s.instrument, s.article) not in cited)
        schema = batch_schema()
        facts = {}
        for path in r.facts:
            spec = schema.spec(path)
            if spec is not None and b.has_field(spec):
                values = b.values_at(spec, row)
                if values:
                    facts[path] = values
        case_id, person_id = b.identity(row)
        return Alert(
            code=r.code, severity=r.severity, rule_text=r.explanation, sources=sources, case_id=case_id,
            person_id=person_id, rule_id=r.id,
            because=tuple(dict.fromkeys(line for each in rules for line in each.node.because(ctx, row))),
            missing=missing,
            legal_test=test, facts=facts, test_text=test_text,
        )


class Screener:
    """Compiled rule sets by jurisdiction; screens batches in one pass."""

    def __init__(self) -> None:
        self._compiled: dict[str | None, CompiledRuleSet] = {}
        self._by_layers: dict[tuple[str, ...], CompiledRuleSet] = {}
        self._columns: frozenset[str] | None = None

    def rules_for(self, jurisdiction: str | None) -> CompiledRuleSet:
        """The compiled rules of a jurisdiction; those with the same layers share one."""
        key = jurisdiction.upper() if jurisdiction else None
        hit = self._compiled.get(key)
        if hit is None:
            layers = tuple(p.name for p in layers_for(key))
            hit = self._by_layers.get(layers)
            if hit is None:
                hit = self._by_layers[layers] = CompiledRuleSet(load_ruleset(key))
            self._compiled[key] = hit
        return hit

    @property
    def columns(self) -> frozenset[str]:
        """Fields any applicable rule set reads: the base and every jurisdiction layer (worked out once,
        like the compiled rule sets themselves)."""
        if self._columns is None:
            out = set(self.rules_for(None).columns)
            for path in jurisdiction_files():
                out |= self.rules_for(applies_to(path)[0]).columns
            self._columns = frozenset(out)
        return self._columns

    def groups(self, batch: Batch, jurisdiction: str | None = None
               ) -> Iterable[tuple[CompiledRuleSet, npt.NDArray[np.int64]]]:
        """Row groups that share a compiled rule set (all rows if ``jurisdiction`` is set)."""
        if jurisdiction is not None or batch.n == 0:
            yield self.rules_for(jurisdiction), np.arange(batch.n, dtype=np.int64)
            return
        codes = batch.frame["jurisdiction"].fillna("").astype(str).to_numpy()
        by_rules: dict[int, tuple[CompiledRuleSet, list[npt.NDArray[np.int64]]]] = {}
        for code in np.unique(codes):
            compiled = self.rules_for(code or None)
            rows = np.flatnonzero(codes == code).astype(np.int64)
            by_rules.setdefault(id(compiled), (compiled, []))[1].append(rows)
        for compiled, parts in by_rules.values():
            yield compiled, np.sort(np.concatenate(parts))

    def code_matrix(self, batch: Batch, jurisdiction: str | None = None) -> npt.NDArray[np.bool_]:
        """Persons x alert codes for the whole batch."""
        out = np.zeros((batch.n, len(CODES)), dtype=bool)
        for compiled, rows in self.groups(batch, jurisdiction):
            part = batch if len(rows) == batch.n else batch.subset(rows)
            _, masks = compiled.evaluate(part)
            out[rows] = compiled.code_matrix(masks, part.n)
        return out

    def alerts(self, batch: Batch, jurisdiction: str | None = None) -> list[Alert]:
        """Every alert of the batch, explained (for single cases and small sets)."""
        found: list[tuple[int, Alert]] = []
        for compiled, rows in self.groups(batch, jurisdiction):
            part = batch if len(rows) == batch.n else batch.subset(rows)
            ctx, masks = compiled.evaluate(part)
            hit = np.flatnonzero(np.logical_or.reduce(masks)) if masks else np.array([], dtype=np.int64)
            found.extend((int(rows[i]), a) for i in hit for a in compiled.alerts_at(ctx, masks, int(i)))
        return [a for _, a in sorted(found, key=lambda t: t[0])]


_SCREENER: Screener | None = None


def default_screener() -> Screener:
    """One process-wide screener, so rules are compiled once per process."""
    global _SCREENER  # noqa: PLW0603  (a lazily built process-wide cache)
    if _SCREENER is None:
        _SCREENER = Screener()
    return _SCREENER


def alert_counts(matrix: npt.NDArray[np.bool_]) -> dict[str, int]:
    """Persons with each alert code (codes with none are left out)."""
    sums = matrix.sum(axis=0)
    return {code.value: int(n) for code, n in zip(CODES, sums, strict=True) if n}


def documents_batch(docs: Iterable[Mapping[str, Any]], screener: Screener | None = None) -> Batch:
    screener = screener or default_screener()
    return batch_from_documents(docs, screener.columns)


def rule_texts() -> Iterator[tuple[str, str]]:
    """Every text an alert can show, with where it comes from (for the web's translation catalogs).

    Rule explanations, the legal tests' texts, and the label and question of
    each element an alert may name as missing, over the base rules and every
    jurisdiction layer.
    """
    yield MISSING_NOTE, "screening: missing elements"
    paths = jurisdiction_files()
    for ruleset in [load_ruleset(None)] + [load_ruleset(applies_to(p)[0]) for p in paths]:
        where = f"screening rules {ruleset.version}"
        named = {name for r in ruleset.rules for name in r.name_missing}
        for r in ruleset.rules:
            yield r.explanation, f"{where}: rule {r.id}"
        for test in ruleset.legal_tests.values():
            yield test.text, f"{where}: {test.label}"
        for p in ruleset.predicates:
            if p.name in named:
                yield p.label, f"{where}: element {p.name}"
                if p.ask:
                    yield p.ask, f"{where}: question for {p.name}"
