"""An XLSForm for offline field collection (ODK Collect, KoboCollect), made from the standard itself.

Outreach at borders and in camps happens without a network; ODK Collect and
KoboCollect fill forms offline and send them when a connection returns. The
form is generated from the YAML standard, never written by hand, so a field
added to the standard is a question in the next form and a submission's
answers are already tipsom's field names and codes (:mod:`tipsom.exchange.odk`
reads them back). One submission is one case with the one person interviewed;
route legs, identifications and charges are repeated records that ODK Central
exports as separate files, so they are recorded later in tipsom itself.

Labels come in every language the caller supplies (:class:`FormLabels`); this
module knows only English, and the command line passes the web catalog's
translations (the exchange layer cannot import the web's). Questions are in
the standard's groups; the children's group is shown only for a person under
18 or whose age is not known yet, since a presumed minor is treated as a child
until an age assessment says otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Protocol

from tipsom.core.errors import ConfigError, InputError
from tipsom.core.vocab import Language
from tipsom.exchange.importer import check_output
from tipsom.schema.model import Entity, Field, FieldType, Model, get_model
from tipsom.schema.values import countries

__all__ = ["CHILD_GROUP", "ENGLISH", "FORM_ID", "FormLabels", "FormSummary", "check_xlsform", "encryption_key",
           "write_xlsform"]

#: The form's id on ODK Central and KoboToolbox (submissions are filed under it).
FORM_ID = "tipsom_case"
#: The standard's group whose questions only concern children.
CHILD_GROUP = "children"
#: Questions are shown in the children's group when this holds for the person.
CHILD_RELEVANT = "${age} = '' or ${age} < 18"
#: Fields the importer fills itself (identifiers from the submission id, provenance).
IMPORT_FILLED = frozenset({"case_id", "person_id", "source"})
#: Prefix of the person's sections (a section named ``age`` would clash with the question ``age``).
SECTION = "section_"
YES, NO = "yes", "no"
BOOLEAN_LIST, COUNTRY_LIST = "yes_no", "country"


class FormLabels(Protocol):
    """A form language: how its labels read (English here; the web catalog for the others)."""

    @property
    def language(self) -> Language: ...

    def text(self, message: str) -> str:
        """``message`` (an English label of the standard) in this language."""

    def group(self, group: str) -> str:
        """The title of the standard's field group ``group``."""

    def country(self, code: str) -> str:
        """The name of the country with ISO 3166-1 alpha-3 ``code``."""


@cache
def _english_countries() -> dict[str, str]:
    import pycountry

    names = {c.alpha_3: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names["XKX"] = "Kosovo"
    return names


class _English:
    """The standard's own labels: it is written in English."""

    language = Language.EN

    def text(self, message: str) -> str:
        return message

    def group(self, group: str) -> str:
        return group.replace("_", " ").capitalize()

    def country(self, code: str) -> str:
        return _english_countries().get(code, code)


ENGLISH: FormLabels = _English()


@dataclass(frozen=True)
class FormSummary:
    """What was written: the form's version (ODK Central needs a new one for each upload), its size, its XForm."""

    version: str
    questions: int
    languages: tuple[str, ...]
    #: The XForm pyxform made of the form: what Collect will run.
    xform: str = ""


def _column(kind: str, labels: FormLabels) -> str:
    """``label::English (en)``: ODK's column name for a language, which Collect shows in its menu."""
    return f"{kind}::{labels.language.native_name} ({labels.language.value})"


def _question_type(f: Field) -> str:
    if f.type is FieldType.BOOLEAN:
        return f"select_one {BOOLEAN_LIST}"
    if f.type in (FieldType.CODE, FieldType.CODES):
        assert f.codelist is not None
        return f"{'select_multiple' if f.multi else 'select_one'} {f.codelist.name}"
    if f.type in (FieldType.COUNTRY, FieldType.COUNTRIES):
        return f"{'select_multiple' if f.multi else 'select_one'} {COUNTRY_LIST}"
    return {FieldType.INTEGER: "integer", FieldType.DECIMAL: "decimal", FieldType.DATE: "date"}.get(f.type, "text")


def _constraint(f: Field) -> str:
    """The checks Collect can make on the device; the importer checks everything again."""
    checks: list[str] = []
    if f.minimum is not None:
        checks.append(f". >= {f.minimum:g}")
    if f.maximum is not None:
        checks.append(f". <= {f.maximum:g}")
    if f.max_length:
        checks.append(f"string-length(.) <= {f.max_length}")
    if f.type is FieldType.DATE and not f.future:
        checks.append(". <= today()")
    if f.type is FieldType.CURRENCY:
        checks.append("regex(., '^[A-Z]{3}$')")
    return " and ".join(checks)


#: Hints and constraint messages are sentences the web form already shows, so every language has them.
LANGUAGES_HINT = "Enter ISO language codes (for example en, ar)."
CURRENCY_HINT = "Enter a three-letter ISO currency code (for example EUR)."


def _hint(f: Field) -> str:
    if f.type is FieldType.LANGUAGES:
        return LANGUAGES_HINT
    if f.type is FieldType.CURRENCY:
        return CURRENCY_HINT
    return f.description


def _constraint_messages(f: Field) -> list[tuple[str, dict[str, str]]]:
    """What Collect says when an answer breaks :func:`_constraint`: messages and their arguments."""
    messages: list[tuple[str, dict[str, str]]] = []
    if f.minimum is not None:
        messages.append(("The smallest allowed value is %(n)s.", {"n": f"{f.minimum:g}"}))
    if f.maximum is not None:
        messages.append(("The largest allowed value is %(n)s.", {"n": f"{f.maximum:g}"}))
    if f.type is FieldType.DATE and not f.future:
        messages.append(("This date is in the future.", {}))
    if f.type is FieldType.CURRENCY:
        messages.append((CURRENCY_HINT, {}))
    return messages


class _Builder:
    """The survey rows and choice lists of a form, question by question, labelled in every language."""

    def __init__(self, languages: Sequence[FormLabels], org: str | None) -> None:
        self.languages, self.org = languages, org
        self.label_columns = [_column("label", lang) for lang in languages]
        self.hint_columns = [_column("hint", lang) for lang in languages]
        self.message_columns = [_column("constraint_message", lang) for lang in languages]
        self.survey: list[dict[str, str]] = []
        self.lists: dict[str, list[tuple[str, list[str]]]] = {}
        self.questions = 0

    def labelled(self, texts: Callable[[FormLabels], str], columns: list[str]) -> dict[str, str]:
        return {column: texts(lang) for column, lang in zip(columns, self.languages, strict=True)}

    def begin(self, name: str, title: Callable[[FormLabels], str], relevant: str = "") -> None:
        self.survey.append({"type": "begin group", "name": name, "relevant": relevant,
                            **self.labelled(title, self.label_columns)})

    def end(self, name: str) -> None:
        self.survey.append({"type": "end group", "name": name})

    def question(self, f: Field) -> None:
        qtype = _question_type(f)
        self._choices(f)
        hint = _hint(f)
        row = {"type": qtype, "name": f.name, "required": "yes" if f.required else "",
               "constraint": _constraint(f),
               "appearance": "autocomplete" if qtype.endswith(COUNTRY_LIST) else "",
               **self.labelled(lambda lang: lang.text(f.label), self.label_columns)}
        if hint:
            row.update(self.labelled(lambda lang: lang.text(hint), self.hint_columns))
        messages = _constraint_messages(f)
        if messages:
            row.update(self.labelled(lambda lang: " ".join(lang.text(m) % args for m, args in messages),
                                     self.message_columns))
        if f.name == "reporting_org" and self.org:
            row["default"] = self.org
        self.survey.append(row)
        self.questions += 1

    def _choices(self, f: Field) -> None:
        if f.type is FieldType.BOOLEAN and BOOLEAN_LIST not in self.lists:
            self.lists[BOOLEAN_LIST] = [(YES, [lang.text("Yes") for lang in self.languages]),
                                        (NO, [lang.text("No") for lang in self.languages])]
        elif f.type in (FieldType.COUNTRY, FieldType.COUNTRIES) and COUNTRY_LIST not in self.lists:
            self.lists[COUNTRY_LIST] = [(code, [lang.country(code) for lang in self.languages])
                                        for code in sorted(countries())]
        elif f.codelist is not None and f.codelist.name not in self.lists:
            self.lists[f.codelist.name] = [(v.code, [lang.text(v.label) for lang in self.languages])
                                           for v in f.codelist.values]

    def subgroup(self, group: str, fields: list[Field]) -> None:
        name = f"{SECTION}{group}"
        self.begin(name, lambda lang: lang.group(group), CHILD_RELEVANT if group == CHILD_GROUP else "")
        for f in fields:
            self.question(f)
        self.end(name)

    def entity(self, entity: Entity, *, subgroups: bool) -> None:
        """``entity``'s questions in a group of its own, in the standard's subgroups when ``subgroups``."""
        self.begin(entity.name, lambda lang: lang.text(entity.label))
        fields = [f for f in entity.fields.values() if f.name not in IMPORT_FILLED]
        if not subgroups:
            for f in fields:
                self.question(f)
        else:
            for f in fields:
                if not f.group:
                    self.question(f)
            for group in entity.groups:
                self.subgroup(group, [f for f in fields if f.group == group])
        self.end(entity.name)


def encryption_key(pem: bytes, source: Path | str = "public key") -> str:
    """The form setting ``public_key`` for an RSA public key in PEM form (base64 DER, no armour).

    ODK Collect then encrypts each finished submission on the device, so a
    lost or seized phone holds no readable victim data, and only the holder
    of the private key can read exports (ODK Central asks for it on export).
    """
    import base64

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    try:
        key = load_pem_public_key(pem)
    except ValueError:
        raise ConfigError(f"{source}: not a PEM public key (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, RSAPublicKey) or key.key_size < 2048:
        raise ConfigError(f"{source}: ODK encrypts submissions with RSA keys of 2048 bits or more")
    return base64.b64encode(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()


def write_xlsform(out: Path, *, languages: Sequence[FormLabels] = (ENGLISH,), org: str | None = None,
                  public_key: str | None = None, model: Model | None = None, force: bool = False) -> FormSummary:
    """Write the case form to ``out`` (XLSX) with labels in ``languages`` (the first is the default).

    ``org`` pre-fills the reporting organisation, so a team's devices file
    every case under their organisation without anyone typing it.
    ``public_key`` (:func:`encryption_key`) makes the form encrypt its
    submissions on the device. The form is
    converted with pyxform (:func:`check_xlsform`) before it replaces ``out``,
    so a form the servers would refuse is never left where one is expected;
    an existing ``out`` is kept unless ``force``.
    """
    if not languages:
        raise ConfigError("name at least one language for the form's labels")
    check_output(out, force=force)
    partial = out.with_name(f".{out.name}.partial.xlsx")
    try:
        summary = _write(partial, languages, org, public_key, model or get_model())
        xform = check_xlsform(partial)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return replace(summary, xform=xform)


def _write(out: Path, languages: Sequence[FormLabels], org: str | None, public_key: str | None,
           model: Model) -> FormSummary:
    from openpyxl import Workbook

    from tipsom.core.cells import text_cell

    build = _Builder(languages, org)
    build.survey.append({"type": "start", "name": "start"})
    build.survey.append({"type": "end", "name": "end"})
    build.entity(model["case"], subgroups=False)
    build.entity(model["person"], subgroups=True)
    survey_header = ["type", "name", *build.label_columns, *build.hint_columns, "required", "relevant",
                     "constraint", *build.message_columns, "appearance", "default"]
    survey_rows = [[row.get(h, "") for h in survey_header] for row in build.survey]
    choice_rows = [[name, code, *texts] for name, items in build.lists.items() for code, texts in items]
    digest = hashlib.sha256(repr((survey_rows, choice_rows)).encode()).hexdigest()[:8]
    version = f"{model.version}-{digest}"
    default = _column("label", languages[0]).removeprefix("label::")
    sheets: dict[str, tuple[list[str], Iterable[list[str]]]] = {
        "survey": (survey_header, survey_rows),
        "choices": (["list_name", "name", *build.label_columns], choice_rows),
        "settings": (["form_title", "form_id", "version", "default_language", "public_key"],
                     [[f"tipsom case ({model.version})", FORM_ID, version, default, public_key or ""]]),
    }
    wb = Workbook(write_only=True)
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(header)
        for values in rows:
            ws.append([text_cell(ws, v) if v else None for v in values])
    wb.save(out)
    return FormSummary(version, build.questions, tuple(lang.language.value for lang in languages))


def check_xlsform(path: Path) -> str:
    """The XForm (XML) that ODK Central or KoboToolbox would make of ``path``; a form they would refuse is an error.

    pyxform is the converter both servers run, so a form it converts is a
    form they accept.
    """
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        xform: str = convert(xlsform=str(path)).xform
    except PyXFormError as exc:
        raise InputError(f"not a valid XLSForm: {exc}", file=path) from None
    return xform
