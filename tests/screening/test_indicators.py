"""ILO 11 and ILO/EC operational indicators: questionnaire, combination rule, drivers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.screening.conftest import case, recruited_for_forced_labour
from tipsom.cli.main import app
from tipsom.screening import IndicatorLevel, screen_document
from tipsom.screening.indicators import IndicatorError, assess_questionnaire, questionnaire

DOCS = "coercion_at_destination.confiscation_of_documents"
DEBT = "coercion_at_destination.debt_bondage"
HOURS = "exploitation.excessive_working_days_or_hours"
LOW_PAY = "exploitation.low_or_no_salary"
JOB = "deceptive_recruitment.deceived_about_the_nature_of_the_job_location_or_employer"
WAGES = "deceptive_recruitment.deceived_about_wages_earnings"


def test_questionnaire_lists_every_dimension_and_grade() -> None:
    q = questionnaire()
    ids = {x["id"] for x in q["ilo_ec"]["questions"]}
    assert {DOCS, DEBT, HOURS, JOB} <= ids
    assert set(q["ilo_ec"]["dimensions"]) == {
        "deceptive_recruitment", "coercive_recruitment", "recruitment_by_abuse_of_vulnerability",
        "exploitation", "coercion_at_destination", "abuse_of_vulnerability_at_destination"}
    assert q["ilo_ec"]["verified"] is False  # shown to users until checked against the primary PDF
    assert len(q["ilo_forced_labour"]) == 11


def test_adult_meeting_the_combination_rule_is_a_probable_victim() -> None:
    answers = {JOB: True, WAGES: True, HOURS: True, LOW_PAY: True, DOCS: True, DEBT: True}
    result = assess_questionnaire(answers)["ilo_ec"]
    assert result["level"] == IndicatorLevel.PROBABLE_VICTIM.value
    assert {d for d, v in result["dimensions"].items() if v["positive"]} == {
        "deceptive_recruitment", "exploitation", "coercion_at_destination"}
    assert "Debt bondage" in result["drivers"]


def test_adult_without_destination_coercion_is_only_possible() -> None:
    result = assess_questionnaire({JOB: True, WAGES: True, HOURS: True, LOW_PAY: True})["ilo_ec"]
    assert result["level"] == IndicatorLevel.POSSIBLE_VICTIM.value


def test_no_answers_is_no_indication() -> None:
    assert assess_questionnaire({})["ilo_ec"]["level"] == IndicatorLevel.NO_INDICATION.value


def test_child_needs_movement_and_exploitation_only() -> None:
    result = assess_questionnaire({"act": True, HOURS: True, LOW_PAY: True}, child=True)["ilo_ec"]
    assert result["level"] == IndicatorLevel.PROBABLE_VICTIM.value
    assert result["drivers"][0].startswith("child recruited or moved")


def test_unknown_answer_id_is_refused() -> None:
    with pytest.raises(IndicatorError, match=r"'exploitation\.nope' is not a question"):
        assess_questionnaire({"exploitation.nope": True})


def test_indicators_are_derived_from_case_fields() -> None:
    person = recruited_for_forced_labour(30, control_methods=["DebtBondage", "WithholdsDocuments",
                                                               "ExcessiveWorkingHours", "TakesEarnings"],
                                         deceived=True)
    ind = screen_document(case(person)).indicators["P1"]
    assert {"debt_bondage", "retention_of_identity_documents", "excessive_overtime"} <= set(
        ind["ilo_forced_labour"])
    assert ind["ilo_ec"]["dimensions"]["coercion_at_destination"]["positive"]


def test_cli_prints_questionnaire_and_assesses_answers(tmp_path: Path) -> None:
    runner = CliRunner()
    blank = runner.invoke(app, ["screen", "--questionnaire", "--child"])
    assert blank.exit_code == 0
    assert json.loads(blank.stdout)["ilo_ec"]["list"] == "child labour"
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"act": True, HOURS: True, LOW_PAY: True, "debt_bondage": True}))
    out = runner.invoke(app, ["screen", "--answers", str(answers), "--child"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["ilo_ec"]["level"] == "probable_victim"
    assert data["ilo_forced_labour"] == ["debt_bondage"]
    answers.write_text(json.dumps({"nope": True}))
    bad = runner.invoke(app, ["screen", "--answers", str(answers)])
    assert bad.exit_code == 1
    assert "'nope' is not a question" in bad.stderr
