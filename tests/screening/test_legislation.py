"""Legislative review: checklist template, validation of a filled review, gap report in HTML and PDF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tipsom.cli.main import app
from tipsom.screening.enums import ChecklistStatus
from tipsom.screening.legislation import ReviewError, blank_review, gap_report_html, load_checklist, parse_review

REQUIRED = {"all_forms_criminalised", "child_definition_without_means", "non_punishment_provision",
            "non_liability_smuggled_migrants", "aggravating_circumstances", "victim_protection_assistance",
            "identification_referral"}


def _review() -> dict[str, object]:
    review = blank_review()
    review.update(country="ZZZ", law="Penal Code (2019 consolidation)", reviewed_by="Analyst")
    answers = review["answers"]
    assert isinstance(answers, dict)
    answers["all_forms_criminalised"].update(status="partial", citation="Penal Code art. 212",
                                             note="No removal of organs")
    answers["child_definition_without_means"].update(status="met", citation="Penal Code art. 212(3)")
    answers["non_punishment_provision"].update(status="not_met")
    return review


def test_checklist_covers_every_required_item_with_provisions() -> None:
    items = load_checklist().items
    assert {i.id for i in items} == REQUIRED
    assert all(i.provisions for i in items)


def test_gap_report_lists_gaps_with_model_provisions() -> None:
    review = parse_review(_review())
    assert {f.item.id for f in review.gaps} == REQUIRED - {"child_definition_without_means"}
    html = gap_report_html(review)
    assert "Penal Code art. 212" in html
    assert "No removal of organs" in html
    assert "art. 26" in html
    assert "art. 5" in html
    assert not re.search(r"""(src|href)=["']https?:|url\(https?:""", html)  # nothing fetched: self-contained
    assert html.index("non-punishment provision") < html.index("Child trafficking needs no means")


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "done"}, "item 'non_punishment_provision': field 'status' must be one of"),
    ({"status": "met", "citation": ""}, "item 'non_punishment_provision': field 'citation' is required"),
])
def test_bad_review_names_the_item_and_field(change: dict[str, str], message: str) -> None:
    review = _review()
    answers = review["answers"]
    assert isinstance(answers, dict)
    answers["non_punishment_provision"].update(change)
    with pytest.raises(ReviewError, match=message):
        parse_review(review, "review.yaml")


def test_unknown_item_is_refused() -> None:
    review = _review()
    answers = review["answers"]
    assert isinstance(answers, dict)
    answers["free_pizza"] = {"status": "met"}
    with pytest.raises(ReviewError, match=r"unknown checklist items \['free_pizza'\]"):
        parse_review(review)


def test_cli_checklist_and_pdf_report(tmp_path: Path) -> None:
    runner = CliRunner()
    template = tmp_path / "review.yaml"
    assert runner.invoke(app, ["law", "checklist", "-o", str(template)]).exit_code == 0
    raw = yaml.safe_load(template.read_text(encoding="utf-8"))
    assert set(raw["answers"]) == REQUIRED
    assert all(a["status"] == ChecklistStatus.UNKNOWN.value for a in raw["answers"].values())
    template.write_text(yaml.safe_dump(_review()), encoding="utf-8")
    pdf = tmp_path / "gaps.pdf"
    out = runner.invoke(app, ["law", "report", str(template), "-o", str(pdf)])
    assert out.exit_code == 0, out.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "6 gap(s) of 7" in out.stdout
    bad = runner.invoke(app, ["law", "report", str(tmp_path / "missing.yaml"), "-o", str(pdf)])
    assert bad.exit_code == 1
    assert "missing.yaml" in bad.stderr
