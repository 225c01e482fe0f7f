"""Rules load from YAML; a malformed file is rejected with an error naming the rule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tipsom.core.errors import ConfigError
from tipsom.screening.engine import CompiledRuleSet
from tipsom.screening.rules import RULES_DIR, RuleError, load_ruleset


def _rules_dir(tmp_path: Path, edit: Any) -> Path:
    """A copy of the shipped rules with ``edit`` applied to the base file."""
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    base = target / "international.yaml"
    raw = yaml.safe_load(base.read_text(encoding="utf-8"))
    edit(raw)
    base.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return target


def _rule(raw: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in raw["rules"] if r["id"] == rule_id)


def _compile(directory: Path, jurisdiction: str | None = None) -> CompiledRuleSet:
    return CompiledRuleSet(load_ruleset(jurisdiction, directory=directory))


def test_shipped_rules_load_compile_and_are_versioned() -> None:
    compiled = _compile(RULES_DIR)
    assert compiled.ruleset.version.startswith("international ")
    assert {r.rule.code.value for r in compiled.rules} >= {"TIP_INDICATED", "TIP_CHILD", "NON_PUNISHMENT"}
    gbr = load_ruleset("GBR")
    assert gbr.layers == ("international.yaml", "gbr.yaml")
    assert "GBR" in gbr.version
    assert gbr.params["non_punishment_test_child"] == "causation"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda raw: _rule(raw, "tip_child").update(code="TIP_KID"), "rule 'tip_child': unknown alert code 'TIP_KID'"),
    (lambda raw: _rule(raw, "tip_child").update(sources=[]), "rule 'tip_child': needs at least one legal source"),
    (lambda raw: _rule(raw, "som_aggravated").update(severity="urgent"), "rule 'som_aggravated': severity"),
    (lambda raw: _rule(raw, "tip_child").update(colour="red"), "rule 'tip_child': unknown keys ['colour']"),
    (lambda raw: _rule(raw, "tip_child").pop("explanation"), "rule 'tip_child': missing 'explanation'"),
])
def test_malformed_rule_is_rejected_naming_the_rule(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace("[", r"\[")):
        _compile(_rules_dir(tmp_path, edit))


@pytest.mark.parametrize(("condition", "message"), [
    ({"field": "agee", "lt": 18}, "'agee' is not a field of the standard"),
    ({"field": "charges.offence", "in": ["IllegalEntyr"]}, "['IllegalEntyr'] not in the code list"),
    ({"field": "given_name", "present": True}, "personal field"),
    ({"field": "role", "in": "$no_such_param"}, "unknown parameter '$no_such_param'"),
    ({"ref": "undefined_element"}, "unknown predicate 'undefined_element'"),
    ({"field": "age", "between": [1, 2]}, "expected all/any/not/ref"),
])
def test_bad_condition_is_rejected_naming_the_rule(tmp_path: Path, condition: dict[str, Any],
                                                   message: str) -> None:
    directory = _rules_dir(tmp_path, lambda raw: _rule(raw, "non_liability_art5").update(condition=condition))
    with pytest.raises(RuleError) as err:
        _compile(directory)
    assert "rule 'non_liability_art5'" in str(err.value)
    assert message in str(err.value)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    (target / "international.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^international\.yaml: line 2: "):
        load_ruleset(None, directory=target)


def test_jurisdiction_layer_can_override_add_and_disable(tmp_path: Path) -> None:
    target = _rules_dir(tmp_path, lambda raw: None)
    (target / "jurisdictions" / "ken.yaml").write_text(yaml.safe_dump({
        "name": "KEN test", "version": "1", "applies_to": ["KEN"],
        "params": {"purpose_forms": {"add": ["ChildLabour"]}},
        "rules": [{"id": "som_indicated", "severity": "review"}],
        "disable": ["conflict_nexus"],
    }), encoding="utf-8")
    rs = load_ruleset("KEN", directory=target)
    assert "ChildLabour" in rs.params["purpose_forms"]
    assert next(r for r in rs.rules if r.id == "som_indicated").severity.value == "review"
    assert all(r.id != "conflict_nexus" for r in rs.rules)
    assert rs.version.endswith("KEN test 1")


def test_layer_disabling_an_unknown_rule_is_rejected(tmp_path: Path) -> None:
    target = _rules_dir(tmp_path, lambda raw: None)
    (target / "jurisdictions" / "ken.yaml").write_text(yaml.safe_dump({
        "applies_to": ["KEN"], "disable": ["no_such_rule"]}), encoding="utf-8")
    with pytest.raises(RuleError, match=r"ken\.yaml: cannot disable unknown rule 'no_such_rule'"):
        load_ruleset("KEN", directory=target)


def test_verification_record_is_kept_in_the_rules_file() -> None:
    raw = yaml.safe_load((RULES_DIR / "international.yaml").read_text(encoding="utf-8"))
    checked = raw["verification"]
    assert len(checked) >= 8
    assert all({"item", "checked_against", "how", "result"} <= set(c) for c in checked)
