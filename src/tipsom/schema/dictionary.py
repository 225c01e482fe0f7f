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
