"""Screening entry points: one case (CLI, web save hook), a stored case, the whole store.

Every path runs the same compiled rules (:mod:`tipsom.screening.engine`):
many cases as pandas batches, one case as plain values
(:class:`~tipsom.screening.rows.DocumentRows`), which takes about a millisecond.
Screening reads only non-personal fields, so it never decrypts personal data
and writes no audit record of a read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tipsom.core.errors import InputError
from tipsom.screening.batch import Batch, batch_from_documents, batches_from_store
from tipsom.screening.conditions import EvalContext
from tipsom.screening.engine import CODES, Alert, CompiledRuleSet, Screener, alert_counts, default_screener
from tipsom.screening.indicators import derived_indicators, indicator_columns
from tipsom.screening.rows import DocumentRows, document_rows

if TYPE_CHECKING:
    from tipsom.store.db import Store

#: Most persons one case may hold to be screened on its own. A case is a
#: family, a group or a raid: hundreds of persons at most. Screening builds
#: per-person rows and explanations, so a document with 100,000 persons (a
#: mistake or an attack) would hold the command for minutes; it is refused
#: before any work. ``screen --all`` over the store has no such limit.
MAX_PERSONS_PER_CASE = 1_000


class InvalidDocument(InputError):
    """The case document does not meet the data standard; ``problems`` says where and why."""

    def __init__(self, problems: list[Any]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.render("case") for p in problems))


@dataclass(frozen=True)
class ScreeningResult:
    """Alerts and indicators of one case, with the rule set version that produced them."""

    case_id: str
    jurisdiction: str | None
    ruleset: str
    alerts: tuple[Alert, ...]
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)

    def codes(self, person_id: str | None = None) -> set[str]:
        return {a.code.value for a in self.alerts if person_id is None or a.person_id == person_id}

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "jurisdiction": self.jurisdiction, "ruleset": self.ruleset,
                "alerts": [a.to_dict() for a in self.alerts], "indicators": self.indicators}


@dataclass
class BulkScreening:
    """Counts from screening many cases in one pass."""

    cases: int = 0
    persons: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    _last_case: str | None = field(default=None, repr=False)

    def add(self, batch: Batch, matrix: np.ndarray[Any, Any]) -> None:
        """Add one batch's counts; batches arrive in case order, so a case split over two counts once."""
        if batch.n == 0:
            return
        ids = batch.frame["case_id"]
        self.cases += int(ids.nunique()) - int(ids.iat[0] == self._last_case)
        self._last_case = ids.iat[-1]
        self.persons += batch.n
        for code, n in alert_counts(matrix).items():
            self.alerts[code] = self.alerts.get(code, 0) + n

    def to_dict(self) -> dict[str, Any]:
        ordered = {c.value: self.alerts[c.value] for c in CODES if c.value in self.alerts}
        return {"screened": self.cases, "persons": self.persons, "alerts": ordered}


@dataclass(frozen=True)
class _Evaluated:
    """One case evaluated against its jurisdiction's compiled rules."""

    jurisdiction: str | None
    compiled: CompiledRuleSet
    rows: DocumentRows
    ctx: EvalContext
    alerts: tuple[Alert, ...]


def _evaluate(doc: Mapping[str, Any], jurisdiction: str | None, screener: Screener | None,
              extra_columns: frozenset[str] = frozenset()) -> _Evaluated:
    screener = screener or default_screener()
    where = jurisdiction or doc.get("jurisdiction") or None
    compiled = screener.rules_for(where)
    rows = document_rows([doc], screener.columns | extra_columns)
    ctx, masks = compiled.evaluate(rows)
    alerts = tuple(a for row in range(rows.n) for a in compiled.alerts_at(ctx, masks, row))
    return _Evaluated(where.upper() if where else None, compiled, rows, ctx, alerts)


def case_alerts(doc: Mapping[str, Any], jurisdiction: str | None = None, *,
                screener: Screener | None = None) -> tuple[Alert, ...]:
    """The alerts of one validated case document, without the indicator assessment.

    What the case page needs, in about a millisecond: the alerts equal
    ``screen_document(doc, validate=False).alerts``.
    """
    return _evaluate(doc, jurisdiction, screener).alerts


def screen_document(doc: Mapping[str, Any], jurisdiction: str | None = None, *,
                    validate: bool = True, screener: Screener | None = None) -> ScreeningResult:
    """Screen one case document (the native JSON form) and explain every alert.

    ``jurisdiction`` (ISO 3166-1 alpha-3) overrides the case's own; the rules of
    that jurisdiction apply. With ``validate`` the document is first checked
    against the data standard and :class:`InvalidDocument` names each problem.
    """
    persons = doc.get("persons")
    if isinstance(persons, list) and len(persons) > MAX_PERSONS_PER_CASE:
        raise InputError(f"{len(persons):,} persons in one case; at most {MAX_PERSONS_PER_CASE:,} can be "
                         "screened as one case (split it, or import it and use screen --all)",
                         row=1, field="persons")
    if validate:
        from tipsom.schema.document import DocumentValidator

        doc, problems = DocumentValidator().validate(doc, 1)
        if problems:
            raise InvalidDocument(problems)
    done = _evaluate(doc, jurisdiction, screener, indicator_columns())
    rows = done.rows
    child = done.compiled.predicate_mask(done.ctx, "child")
    person_ids = [rows.identity(row)[1] for row in range(rows.n)]
    indicators = dict(zip(person_ids, derived_indicators(rows, range(rows.n), child.tolist()), strict=True))
    return ScreeningResult(str(doc.get("case_id", "")), done.jurisdiction, done.compiled.ruleset.version,
                           done.alerts, indicators)


def screen_documents(docs: Iterable[Mapping[str, Any]], jurisdiction: str | None = None, *,
                     chunk: int = 100_000, screener: Screener | None = None) -> BulkScreening:
    """Count alerts over many typed documents, screened in columnar chunks."""
    screener = screener or default_screener()
    columns = screener.columns
    out = BulkScreening()
    pending: list[Mapping[str, Any]] = []
    for doc in docs:
        pending.append(doc)
        if len(pending) >= chunk:
            batch = batch_from_documents(pending, columns)
            out.add(batch, screener.code_matrix(batch, jurisdiction))
            pending = []
    if pending:
        batch = batch_from_documents(pending, columns)
        out.add(batch, screener.code_matrix(batch, jurisdiction))
    return out


def screen_store(store: Store, *, chunk: int = 200_000, screener: Screener | None = None,
                 progress: Callable[[int], None] | None = None) -> BulkScreening:
    """Screen every stored case in one pass over the registry tables."""
    screener = screener or default_screener()
    out = BulkScreening()
    for batch in batches_from_store(store, screener.columns, chunk=chunk):
        out.add(batch, screener.code_matrix(batch))
        if progress is not None:
            progress(out.persons)
    return out


def screen_stored_case(store: Store, case_id: str, jurisdiction: str | None = None) -> ScreeningResult:
    """Screen one stored case (read without personal fields)."""
    from tipsom.store.reader import iter_documents

    with store.engine.connect() as conn:
        docs = list(iter_documents(conn, store.model, case_ids=[case_id]))
    if not docs:
        raise LookupError(f"no case {case_id!r} in the store")
    return screen_document(docs[0], jurisdiction, validate=False)
