"""Legislative review: a checklist of what the Protocols require of national law, and a gap report.

The checklist is data (``legislative_checklist.yaml``). A reviewer fills in a
review file (YAML or JSON) with, for each item, a status, the citation of the
national provision and a note; :func:`gap_report_html` renders the gaps with the
international provisions that apply, and :func:`write_gap_report` writes HTML
or PDF (through :mod:`tipsom.core.render`, offline).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tipsom.core.config import read_file
from tipsom.core.errors import InputError
from tipsom.core.render import drawn, render, write_page
from tipsom.screening.enums import ChecklistStatus
from tipsom.screening.rules import Source

HERE = Path(__file__).resolve().parent
CHECKLIST = HERE / "legislative_checklist.yaml"


class ReviewError(InputError):
    """A review file that cannot be used; the message names the file, item and field."""


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    requirement: str
    explanation: str
    recommendation: str
    provisions: tuple[Source, ...]


@dataclass(frozen=True)
class Checklist:
    name: str
    version: str
    items: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class Finding:
    item: ChecklistItem
    status: ChecklistStatus
    citation: str
    note: str


@dataclass(frozen=True)
class Review:
    country: str
    law: str
    reviewed_by: str
    reviewed_on: str
    findings: tuple[Finding, ...]

    @property
    def gaps(self) -> list[Finding]:
        return [f for f in self.findings if f.status is not ChecklistStatus.MET]


@cache
def load_checklist() -> Checklist:
    raw = read_file(CHECKLIST)
    items = tuple(
        ChecklistItem(i["id"], i["requirement"], " ".join(i["explanation"].split()),
                      " ".join(i["recommendation"].split()),
                      tuple(Source(p["instrument"], p["article"]) for p in i["provisions"]))
        for i in raw["items"]
    )
    return Checklist(raw["name"], str(raw["version"]), items)


def blank_review() -> dict[str, Any]:
    """A review template to fill in: one entry per checklist item."""
    checklist = load_checklist()
    return {
        "country": "ISO3", "law": "Title of the law(s) reviewed, with date of the version",
        "reviewed_by": "", "reviewed_on": dt.date.today().isoformat(),
        "answers": {i.id: {"status": ChecklistStatus.UNKNOWN.value, "citation": "", "note": "",
                           "requirement": i.requirement} for i in checklist.items},
    }


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float | dt.date):
        raise ReviewError(f"{where}: field {key!r} must be text, got {value!r}")
    return str(value).strip()


def parse_review(raw: Any, source: str = "review") -> Review:
    """Validate a filled review; every problem names the file, item and field."""
    if not isinstance(raw, Mapping):
        raise ReviewError(f"{source}: must be a mapping with country, law and answers")
    for key in ("country", "law"):
        if not _text(raw, key, source):
            raise ReviewError(f"{source}: field {key!r} is required")
    answers = raw.get("answers") or {}
    if not isinstance(answers, Mapping):
        raise ReviewError(f"{source}: 'answers' must map checklist item ids to findings")
    checklist = load_checklist()
    known = {i.id for i in checklist.items}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ReviewError(f"{source}: unknown checklist items {unknown}; known: {sorted(known)}")
    findings = []
    for item in checklist.items:
        a = answers.get(item.id) or {}
        where = f"{source}: item {item.id!r}"
        if not isinstance(a, Mapping):
            raise ReviewError(f"{where}: must be a mapping with status, citation and note")
        try:
            status = ChecklistStatus(a.get("status", ChecklistStatus.UNKNOWN.value))
        except ValueError:
            raise ReviewError(f"{where}: field 'status' must be one of "
                              f"{[s.value for s in ChecklistStatus]}, got {a.get('status')!r}") from None
        citation = _text(a, "citation", where)
        if status in (ChecklistStatus.MET, ChecklistStatus.PARTIAL) and not citation:
            raise ReviewError(f"{where}: field 'citation' is required when the status is {status.value}")
        findings.append(Finding(item, status, citation, _text(a, "note", where)))
    return Review(_text(raw, "country", source), _text(raw, "law", source), _text(raw, "reviewed_by", source),
                  _text(raw, "reviewed_on", source), tuple(findings))


def read_review(path: Path) -> Review:
    """A filled legislative review (YAML or JSON); a syntax error is one line naming the file and line."""
    return parse_review(read_file(path), str(path))


def gap_report_html(review: Review) -> str:
    """The gap report as one self-contained HTML page (inline SVG chart, no external resources)."""
    from tipsom.core.render.charts import bar_svg

    counts = Counter(f.status for f in review.findings)
    summary = [(s.value, counts.get(s, 0)) for s in ChecklistStatus]
    chart = bar_svg([s.replace("_", " ") for s, _ in summary], [n for _, n in summary],
                    "Checklist items by status")
    order = {ChecklistStatus.NOT_MET: 0, ChecklistStatus.UNKNOWN: 1, ChecklistStatus.PARTIAL: 2,
             ChecklistStatus.MET: 3}
    rows = sorted(review.findings, key=lambda f: order[f.status])
    return render(
        "tipsom.screening", "gap_report.html", review=review, checklist=load_checklist(), summary=summary,
        chart=drawn(chart),
        rows=[{"item": f.item, "status": f.status.value, "citation": f.citation, "note": f.note} for f in rows],
    )


def write_gap_report(review: Review, out: Path) -> Path:
    """Write the report as PDF when ``out`` ends in .pdf, else HTML."""
    return write_page(gap_report_html(review), out)
