"""CTDC's k-anonymised global dataset (semicolon-separated, -99 for missing) as input.

Each CTDC row is one victim record with generalised fields (year, age band,
country). It becomes a case with one victim whose age is a band
(``age_basis = Banded``). CTDC rows have no identifiers and identical rows are
common (k-anonymity makes them so), so a case key is the row's content hash
plus its occurrence number in the file: re-importing the same file adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry

from tipsom.exchange.crosswalk import load_crosswalk
from tipsom.exchange.native import (
    CUT_UNTERMINATED,
    ReadError,
    Record,
    ends_inside_record,
    last_line,
    refuse_repeated_columns,
    short_row,
)
from tipsom.schema.document import PERSONS


def _iso3(alpha2: str) -> str:
    """ISO alpha-2 to alpha-3; an unknown code is passed on so validation names it."""
    country = pycountry.countries.get(alpha_2=alpha2.upper())
    return country.alpha_3 if country else alpha2


def ctdc_document(row: dict[str, str], key: str) -> dict[str, Any]:
    cw = load_crosswalk("ctdc")
    missing = set(cw["missing"])

    def val(name: str) -> str | None:
        v = (row.get(name) or "").strip()
        return None if v in missing else v

    person: dict[str, Any] = {"person_id": "P1", "role": "Victim",
                              "trafficking_status": "ActualVictimOfTrafficking"}
    if (g := val("gender")) is not None:
        person["sex"] = cw["sex"].get(g, "Unknown")
        person["gender"] = cw["gender"].get(g, "NonSpecifiedUnknown")
    band = cw["age_bands"].get(val("ageBroad") or "") or cw["majority_bands"].get(val("majorityStatus") or "")
    if band:
        person.update(age_basis="Banded", age_min=band[0], age_max=band[1])
    else:
        person["age_basis"] = "Unknown"
    if (c := val("citizenship")) is not None:
        person["citizenship"] = [_iso3(c)]
        person["origin_country"] = _iso3(c)
    if (c := val("CountryOfExploitation")) is not None:
        person["exploitation_country"] = _iso3(c)
    for field, flags in cw["flags"].items():
        codes = sorted({code for col, code in flags.items() if val(col) == "1"})
        if codes:
            person[field] = codes
    extra_forms = [code for col, code in cw["forms_from_labour"].items() if val(col) == "1"]
    if extra_forms:
        person["exploitation_forms"] = sorted(set(person.get("exploitation_forms", [])) | set(extra_forms))
    for col, sector in cw["sectors"].items():
        if val(col) == "1":
            person["exploitation_sector"] = sector
            break
    for col, relation in cw["recruiter_relationship"].items():
        if val(col) == "1":
            person["recruiter_relationship"] = relation
            break
    source = val("Datasource") or "unknown source"
    case: dict[str, Any] = {"case_id": key, "case_type": "TIP", "reporting_org": f"CTDC ({source})",
                            "source": "CTDC global k-anonymised dataset", PERSONS: [person]}
    if (y := val("yearOfRegistration")) is not None:
        case["year"] = y
    return case


def read_ctdc(path: Path) -> Iterator[Record]:
    cw = load_crosswalk("ctdc")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=cw["separator"])
        try:
            header = next(reader, None)
            if not header or "yearOfRegistration" not in header:
                raise ReadError("not a CTDC file (no yearOfRegistration column in the header)", file=path)
            refuse_repeated_columns(header, path)
            cut_line = last_line(path) if ends_inside_record(path) else None
            for record in _ctdc_rows(reader, header):
                yield record if record.row != cut_line else Record(record.row, record.original, {},
                                                                   defect=CUT_UNTERMINATED)
        except csv.Error as exc:
            raise ReadError(str(exc), file=path, row=reader.line_num + 1) from None


def _ctdc_rows(reader: Any, header: list[str]) -> Iterator[Record]:
    # The first column's header is CTDC's terms-of-use notice, not a field.
    names = ["" if h.startswith("By using this data") else h for h in header]
    seen: Counter[str] = Counter()
    for values in reader:
        row = {n: v for n, v in zip(names, values, strict=False) if n}
        if not any(v.strip() for v in row.values()):
            continue
        defect = short_row(values, len(names))
        if defect is not None:
            yield Record(reader.line_num, row, {}, defect=defect)
            continue
        digest = hashlib.sha256(";".join(values).encode()).hexdigest()[:16]
        seen[digest] += 1
        key = f"CTDC-{digest}-{seen[digest]}"
        yield Record(reader.line_num, row, ctdc_document(row, key))
