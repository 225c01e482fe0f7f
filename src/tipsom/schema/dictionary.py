"""The data dictionary (``docs/data-dictionary.md``), generated from the standard.

Generated, never hand-edited: a test regenerates it and fails if the file in
the repository differs, so the published dictionary always matches the YAML.
"""

from __future__ import annotations

from tipsom.schema.model import Model, get_model

HEADER = """# tipsom data dictionary

Generated from `src/tipsom/schema/` by `tipsom schema dictionary -o docs/data-dictionary.md`; do not edit by hand.
Standard version {version}. Codes that extend HTCDS v2.0 are marked *(extension)*.
Personal fields are encrypted at rest (AES-GCM); fields with a pseudonym kind also get a keyed HMAC
pseudonym for exact matching without decryption.

Checks every importer, the web form and the API apply (the same validator):

- **Identifiers** (type `id`: `case_id`, `person_id`) match `^[A-Za-z0-9][A-Za-z0-9._:-]{{0,63}}$` and
  hold no `..`: 1 to 64 letters, digits and `. _ : -`, starting with a letter or digit. No `/`, `?`,
  `#`, blanks or markup, so an identifier is safe in a URL, a file name and an HTML page as it is.
  Blanks around a value are removed before the check.
- **Dates** lie between 1900-01-01 and today (UTC, one day of slack for time zones), except fields marked
  *future allowed*; a **calendar year** is not after the current one; a person's `birth_date` is not
  after the case's `opened_on`.
- **E-mail** values have one `@`, no blanks and a dot in the domain; **phone** values hold an optional
  leading `+`, digits, blanks and `( ) . / -`, with 4 to 20 digits.
- A JSON object or list where text is expected is refused, never turned into its text form.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_dictionary(model: Model | None = None) -> str:
    model = model or get_model()
    out = [HEADER.format(version=model.version)]
    for entity in model.entities.values():
        out.append(f"## {entity.label} (`{entity.name}`, table `{entity.table}`)\n")
        if entity.parent:
            kind = "repeated records under" if entity.repeated else "belongs to"
            out.append(f"{kind.capitalize()} `{entity.parent}`. ")
        out.append(f"{entity.description}\n")
        out.append("| field | type | required | code list | personal | HTCDS | label | description |")
        out.append("|---|---|---|---|---|---|---|---|")
        for f in entity.fields.values():
            personal = ("yes" + (f" (pseudonym: {f.pseudonym})" if f.pseudonym else "")) if f.personal else ""
            bounds = ""
            if f.minimum is not None or f.maximum is not None:
                lo = "" if f.minimum is None else f.minimum
                hi = "" if f.maximum is None else f.maximum
                bounds = f" [{lo}..{hi}]"
            bounds += " (future allowed)" if f.future else ""
            bounds += " (calendar year)" if f.calendar_year else ""
            bounds += f" ({f.format} format)" if f.format else ""
            out.append(
                f"| `{f.name}` | {f.type}{bounds} | {'yes' if f.required else ''} | "
                f"{f'`{f.codelist.name}`' if f.codelist else ''} | {personal} | {f'`{f.htcds}`' if f.htcds else ''} | "
                f"{_cell(f.label)} | {_cell(f.description)} |"
            )
        out.append("")
    out.append("## Code lists\n")
    for cl in model.codelists.values():
        out.append(f"### `{cl.name}`: {cl.label}\n")
        out.append(f"Source: {cl.source}.\n")
        out.append("| code | label | note |")
        out.append("|---|---|---|")
        for v in cl.values:
            note = ("*(extension)* " if v.extension else "") + v.note
            out.append(f"| `{v.code}` | {_cell(v.label)} | {_cell(note)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
