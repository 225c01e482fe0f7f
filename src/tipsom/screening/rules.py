"""Screening rules as data: loading, validating and layering YAML rule files.

``rules/international.yaml`` holds the rules that follow from the international
instruments, with the legal sources of every alert and a record of what was
checked against the primary texts. Files under ``rules/jurisdictions/``
adapt them for the places listed in their ``applies_to`` (a regional layer
such as the EU first, then a national one): they may change parameters (add
forms of exploitation, choose the non-punishment test), replace predicates,
override or add rules, and disable rules. The resulting rule set carries a
version that names every layer, so an alert can be traced to the exact rules.

Any error (unknown key, unknown alert code, a rule without sources, a field
or code the data standard lacks) is a :class:`RuleError` that names the file
and the rule.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from tipsom.core.config import data_files, load_typed, parse_text
from tipsom.core.errors import ConfigError
from tipsom.screening.enums import AlertCode, NonPunishmentTest, Severity
from tipsom.settings import get_settings

RULES_DIR = Path(__file__).resolve().parent / "rules"
BASE_FILE = RULES_DIR / "international.yaml"


class RuleError(ConfigError):
    """A rule file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Source:
    """Where a rule comes from: instrument and article (or paragraph)."""

    instrument: str
    article: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.instrument}, {self.article}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Predicate:
    """A named element (act, means, purpose, child...) that rules refer to."""

    name: str
    label: str
    condition: Any
    ask: str = ""


@dataclass(frozen=True)
class LegalTest:
    """A non-punishment test as a jurisdiction applies it, with its sources."""

    test: NonPunishmentTest
    label: str
    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    code: AlertCode
    severity: Severity
    condition: Any
    explanation: str
    sources: tuple[Source, ...]
    name_missing: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    #: Parameters naming the non-punishment test for adults and for children.
    legal_test: tuple[str, str] | None = None


@dataclass(frozen=True)
class RuleSet:
    """Base rules with every applicable jurisdiction layer applied."""

    version: str
    jurisdiction: str | None
    params: dict[str, Any]
    predicates: tuple[Predicate, ...]
    rules: tuple[Rule, ...]
    legal_tests: dict[NonPunishmentTest, LegalTest]
    layers: tuple[str, ...] = field(default=())

    def param_test(self, name: str) -> NonPunishmentTest:
        return NonPunishmentTest(self.params[name])


_RULE_KEYS = {"id", "code", "severity", "condition", "explanation", "sources", "name_missing", "facts",
              "legal_test"}


def _read(path: Path) -> dict[str, Any]:
    """A rule file's content; parsed once per file version (the copy keeps the cache intact)."""
    return copy.deepcopy(_parse(path, path.stat().st_mtime_ns))


@cache
def _parse(path: Path, _version: int) -> dict[str, Any]:
    raw = parse_text(path.read_text(encoding="utf-8"), path.name)
    if not isinstance(raw, dict):
        raise RuleError(f"{path.name}: must be a mapping at the top level")
    return raw


def _sources(raw: Any, where: str) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        raise RuleError(f"{where}: needs at least one legal source (instrument and article)")
    out = []
    for i, s in enumerate(raw):
        if not isinstance(s, Mapping) or not s.get("instrument") or not s.get("article"):
            raise RuleError(f"{where}: source {i + 1} needs 'instrument' and 'article', got {s!r}")
        out.append(Source(str(s["instrument"]), str(s["article"]), str(s.get("note", ""))))
    return tuple(out)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        raise RuleError(f"{where}: a rule must be a mapping with a string 'id'")
    where = f"{where} rule {raw['id']!r}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("code", "severity", "condition", "explanation"):
        if key not in raw:
            raise RuleError(f"{where}: missing {key!r}")
    try:
        code = AlertCode(raw["code"])
    except ValueError:
        raise RuleError(f"{where}: unknown alert code {raw['code']!r}") from None
    try:
        severity = Severity(raw["severity"])
    except ValueError:
        raise RuleError(f"{where}: severity must be one of {[s.value for s in Severity]}") from None
    if not isinstance(raw["explanation"], str) or not raw["explanation"].strip():
        raise RuleError(f"{where}: 'explanation' must be plain-language text")
    test = raw.get("legal_test")
    if test is not None and (not isinstance(test, Mapping) or set(test) != {"adult", "child"}):
        raise RuleError(f"{where}: 'legal_test' needs 'adult' and 'child' parameter names")
    return Rule(
        id=raw["id"], code=code, severity=severity, condition=raw["condition"],
        explanation=" ".join(raw["explanation"].split()), sources=_sources(raw.get("sources"), where),
        name_missing=tuple(raw.get("name_missing") or ()), facts=tuple(raw.get("facts") or ()),
        legal_test=(str(test["adult"]), str(test["child"])) if test else None,
    )


def _predicates(raw: Any, where: str) -> dict[str, Predicate]:
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: 'predicates' must be a mapping")
    out = {}
    for name, p in raw.items():
        if not isinstance(p, Mapping) or "condition" not in p or "label" not in p:
            raise RuleError(f"{where}: predicate {name!r} needs 'label' and 'condition'")
        out[str(name)] = Predicate(str(name), str(p["label"]), p["condition"], " ".join(str(p.get("ask", "")).split()))
    return out


def _legal_tests(raw: Any, where: str) -> dict[NonPunishmentTest, LegalTest]:
    out = {}
    for name, t in (raw or {}).items():
        try:
            test = NonPunishmentTest(name)
        except ValueError:
            raise RuleError(f"{where}: unknown legal test {name!r}") from None
        out[test] = LegalTest(test, str(t["label"]), " ".join(str(t["text"]).split()),
                              _sources(t.get("sources"), f"{where} legal test {name!r}"))
    return out


def _apply_params(params: dict[str, Any], changes: Mapping[str, Any], where: str) -> None:
    for name, value in changes.items():
        if isinstance(value, Mapping):  # {add: [...], remove: [...]} on a list parameter
            current = params.get(name)
            if not isinstance(current, list) or set(value) - {"add", "remove"}:
                raise RuleError(f"{where}: parameter {name!r}: add/remove applies to list parameters only")
            kept = [v for v in current if v not in (value.get("remove") or [])]
            params[name] = kept + [v for v in (value.get("add") or []) if v not in kept]
        else:
            params[name] = value


def _layer(rs: RuleSet, path: Path) -> RuleSet:
    raw = _read(path)
    where = path.name
    params = dict(rs.params)
    _apply_params(params, raw.get("params") or {}, where)
    preds = {p.name: p for p in rs.predicates}
    preds.update(_predicates(raw.get("predicates") or {}, where))
    rules = {r.id: r for r in rs.rules}
    for i, r in enumerate(raw.get("rules") or []):
        rid = r.get("id") if isinstance(r, Mapping) else None
        if rid in rules:  # partial override: only the keys given change
            base = rules[rid]
            merged = {"id": rid, "code": base.code.value, "severity": base.severity.value,
                      "condition": base.condition, "explanation": base.explanation,
                      "sources": [{"instrument": s.instrument, "article": s.article, "note": s.note}
                                  for s in base.sources],
                      "name_missing": list(base.name_missing), "facts": list(base.facts),
                      **({"legal_test": dict(zip(("adult", "child"), base.legal_test, strict=True))}
                         if base.legal_test else {}),
                      **r}
            rules[rid] = _rule(merged, where)
        else:
            rules[str(rid)] = _rule(r, f"{where} rules[{i}]")
    for rid in raw.get("disable") or []:
        if rid not in rules:
            raise RuleError(f"{where}: cannot disable unknown rule {rid!r}")
        del rules[rid]
    tests = {**rs.legal_tests, **_legal_tests(raw.get("legal_tests"), where)}
    name = f"{raw.get('name', path.stem)} {raw.get('version', '?')}"
    return replace(rs, version=f"{rs.version} + {name}", params=params, predicates=tuple(preds.values()),
                   rules=tuple(rules.values()), legal_tests=tests, layers=(*rs.layers, path.name))


def _base(path: Path) -> RuleSet:
    raw = _read(path)
    where = path.name
    for key in ("version", "params", "predicates", "rules"):
        if key not in raw:
            raise RuleError(f"{where}: missing top-level {key!r}")
    rules = [_rule(r, f"{where} rules[{i}]") for i, r in enumerate(raw["rules"])]
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise RuleError(f"{where} rule {r.id!r}: id used twice")
        seen.add(r.id)
    return RuleSet(
        version=f"{raw.get('name', path.stem)} {raw['version']}", jurisdiction=None, params=dict(raw["params"]),
        predicates=tuple(_predicates(raw["predicates"], where).values()), rules=tuple(rules),
        legal_tests=_legal_tests(raw.get("legal_tests"), where), layers=(path.name,),
    )


def applies_to(path: Path) -> list[str]:
    """The jurisdictions (ISO 3166-1 alpha-3) a layer file applies to."""
    codes = _read(path).get("applies_to")
    if not isinstance(codes, list) or not codes:
        raise RuleError(f"{path.name}: 'applies_to' must list ISO 3166-1 alpha-3 codes")
    return [str(c).upper() for c in codes]


def jurisdiction_files(directory: Path = RULES_DIR) -> list[Path]:
    """Every jurisdiction layer: ``TIPSOM_DATA_PATH``'s ``screening/rules/jurisdictions`` first, then shipped ones.

    A national agency adds its own layer there without forking; a file named
    like a shipped layer replaces it.
    """
    return data_files("screening/rules/jurisdictions", directory / "jurisdictions", get_settings().data_path)


def layers_for(jurisdiction: str | None, directory: Path = RULES_DIR) -> list[Path]:
    """Jurisdiction files that apply to ``jurisdiction``, regional before national."""
    if not jurisdiction:
        return []
    found = []
    for path in jurisdiction_files(directory):
        if jurisdiction.upper() in applies_to(path):
            found.append((load_typed(_read(path).get("order", 0), int, where=f"{path}: order"), path))
    return [p for _, p in sorted(found)]


def load_ruleset(jurisdiction: str | None = None, directory: Path = RULES_DIR,
                 base: Path | None = None) -> RuleSet:
    """The rule set for ``jurisdiction`` (the international base alone when None)."""
    return _ruleset(jurisdiction, base or directory / BASE_FILE.name, tuple(layers_for(jurisdiction, directory)))


@cache
def _ruleset(jurisdiction: str | None, base: Path, layers: tuple[Path, ...]) -> RuleSet:
    # Keyed by the layer files found, so a changed data path never returns a stale rule set.
    rs = _base(base)
    for path in layers:
        rs = _layer(rs, path)
    return replace(rs, jurisdiction=jurisdiction.upper() if jurisdiction else None)
