"""Schema text in the user's language: field, group and code labels, and display values.

The YAML standard is written in English; its labels are msgids of the
gettext catalog (``python -m tipsom.web.catalog`` extracts them), so forms
and case pages show them translated without any per-field template.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from tipsom.schema.model import Entity, Field, FieldType, Model
from tipsom.web.i18n import N_, _, country_name

#: Form sections: the ``group`` of each field in the YAML, with a readable title.
GROUP_LABELS = {
    "case": N_("Case"),
    "identity": N_("Identity"),
    "age": N_("Age"),
    "children": N_("Children"),
    "exploitation": N_("Exploitation"),
    "recruitment": N_("Recruitment"),
    "control": N_("Control"),
    "smuggling": N_("Smuggling"),
    "context": N_("Displacement, climate and conflict"),
    "technology": N_("Technology"),
    "consent": N_("Consent and retention"),
}


#: Values templates show through ``_()`` (roles, audit actions), listed so extraction finds them;
#: a test keeps this list equal to the enums.
SHOWN_VALUES = (
    N_("installation_admin"), N_("admin"), N_("analyst"), N_("investigator"), N_("caseworker"), N_("viewer"),
    N_("create"), N_("update"), N_("delete"), N_("read"), N_("import"), N_("export"), N_("denied"),
    N_("login"), N_("restore"), N_("erase"),
    N_("summary"), N_("personal"), N_("edit"),
)


def group_label(group: str) -> str:
    """A group's title; a group new to the YAML shows its own name until translated."""
    return _(GROUP_LABELS[group]) if group in GROUP_LABELS else group.replace("_", " ").capitalize()


def field_label(f: Field) -> str:
    return _(f.label)


def field_help(f: Field) -> str:
    return _(f.description) if f.description else ""


def entity_label(e: Entity, plural: bool = False) -> str:
    return _(e.plural if plural else e.label)


def code_label(f: Field, code: str) -> str:
    if f.codelist is None:
        return code
    try:
        return _(f.codelist.label_of(code))
    except KeyError:
        return code


def code_choices(f: Field) -> list[tuple[str, str]]:
    assert f.codelist is not None
    return [(v.code, _(v.label)) for v in f.codelist.values]


def display_value(f: Field, value: Any) -> str:
    """A stored value as a reader sees it: labels for codes, names for countries."""
    if value is None or value == []:
        return ""
    if f.type is FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if f.type in (FieldType.CODE, FieldType.CODES):
        items = value if isinstance(value, list) else [value]
        return ", ".join(code_label(f, str(v)) for v in items)
    if f.type in (FieldType.COUNTRY, FieldType.COUNTRIES):
        items = value if isinstance(value, list) else [value]
        return ", ".join(country_name(str(v)) for v in items)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def schema_messages(model: Model) -> Iterator[tuple[str, str]]:
    """Every translatable text of the standard, with where it comes from (for extraction)."""
    for entity in model.entities.values():
        yield entity.label, f"entity {entity.name}"
        yield entity.plural, f"entity {entity.name} (plural)"
        for f in entity.fields.values():
            yield f.label, f"field {entity.name}.{f.name}"
            if f.description:
                yield f.description, f"help for {entity.name}.{f.name}"
    for codelist in model.codelists.values():
        yield codelist.label, f"code list {codelist.name}"
        for value in codelist.values:
            yield value.label, f"code {codelist.name}.{value.code}"
