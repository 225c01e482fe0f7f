"""The columnar CSV path and the row-wise path give the same verdicts, messages and stored rows."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.registry_helpers import csv_rows, write_cases
from tipsom.exchange.flat import FlatPreparer
from tipsom.exchange.importer import ImportFailed, ImportReport, _Stage, import_file, import_records
from tipsom.exchange.native import Record, read_csv, read_csv_chunks
from tipsom.schema.model import get_model
from tipsom.store.crypto import load_master_key
from tipsom.store.db import Store
from tipsom.store.tables import REGISTRY

pytestmark = pytest.mark.usefixtures("data_key")

#: Columns that record when a row was written, not what it holds.
_WHEN = {"created_at", "updated_at"}


def _dirty_csv(tmp_path: Path) -> Path:
    """Synthetic cases with every kind of trouble a registry export has."""
    rows = csv_rows(write_cases(tmp_path / "clean.csv", 160, seed=21))
    with_legs = [i for i, r in enumerate(rows) if i > 40 and r["leg_origin"] and "|" not in r["leg_origin"]]
    edits: dict[int, dict[str, str]] = {
        3: {"sex": "Femal"},                                          # not in the code list
        5: {"opened_on": "2020-13-45"},                               # impossible date
        7: {"age": "forty"},                                          # not a number
        8: {"age": "230"},                                            # above the maximum
        9: {"case_type": ""},                                         # required case field missing
        10: {"role": "   "},                                          # required field only blanks
        11: {"citizenship": "KGZ|XXX"},                               # one bad code in a list
        13: {"exploitation_start": "2020-05-01", "exploitation_end": "2019-01-01"},  # out of order
        14: {"given_name": "x" * 300},                                # personal field too long
        15: {"phone": "  +44 20 7946 0958  "},                        # blanks around a personal value
        16: {"given_name": 'Zoë "Jo", Smith'},                        # quotes and a comma
        17: {"address": "Line one\nLine two"},                         # a line break inside a value
        20: {"age_min": "30", "age_max": "20"},                       # band upside down
        23: {"origin_country": "kgz", "has_identity_documents": "Yes"},  # folded code, yes/no words
        25: {"year": rows[25]["year"] + ".0", "smuggling_fee": "1500"},  # whole number written as decimal
        26: {"opened_on": rows[26]["opened_on"] + "T10:00:00"},       # date with a time
        27: {"person_id": ""},                                        # person without id
        28: {"trafficking_status": "  "},                             # optional field only blanks
        with_legs[0]: {"leg_origin": "AFG|ZZZ", "leg_destination": "IRN|TUR"},  # bad second leg
        with_legs[1]: {"leg_origin": "AFG|IRN", "leg_destination": "IRN|TUR", "leg_departed_on": "2019-01-02|",
                       "leg_arrived_on": "2019-01-01|2019-02-01"},   # first leg arrives before it leaves
        with_legs[2]: {"leg_origin": "AFG|IRN|TUR", "leg_destination": "IRN|TUR|GRC"},  # three good legs
        with_legs[3]: {"ident_agency": "Police|NGO", "ident_agency_type": "LawEnforcement|NGO",
                       "ident_services": "Legal;Shelter|Health"},    # two identifications, inner lists
        with_legs[4]: {"leg_crossing": " "},                          # a blank child cell
        with_legs[5]: {"ident_agency": "", "ident_agency_type": "NGO"},  # identification lacks agency
    }
    for i, change in edits.items():
        rows[i].update(change)
    rows[22] = {k: (v if k in get_model()["case"].fields else "") for k, v in rows[22].items()}  # case only
    rows[18] = dict(rows[19])                                         # the same person twice
    rows[21]["notes"] = "called twice"                                # a column outside the standard
    header = [*rows[0], "notes"]
    path = tmp_path / "dirty.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, restval="")
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow(row)
            if i == 30:
                fh.write(",,,\r\n\r\n")                               # blank rows
            if i == 31:
                fh.write("SHORT-1,TIP,Open,Org\r\n")                  # too few values
                fh.write(",".join(rows[40].values()) + ",,extra,values\r\n")  # too many values
    return path


def _contents(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every registry row, personal fields decrypted, sorted, without write times."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    cipher = store.cipher
    with store.engine.connect() as conn:
        for name, table in REGISTRY.items():
            rows = []
            for r in conn.execute(select(table).order_by(*table.primary_key.columns)):
                m = r._mapping
                serial = name in {c.name for c in get_model().children("person")}  # numbered by the database
                rows.append(tuple(
                    (k, cipher.open(k.removesuffix("_enc"), v) if k.endswith("_enc") and v is not None else v)
                    for k, v in m.items() if k not in _WHEN and not (serial and k == "id")))
            out[name] = sorted(rows, key=repr)
    return out


def _problems(report: ImportReport) -> list[tuple[int, str, str, str]]:
    return [(p.row, p.column, p.value, p.reason) for p in report.problems]


def _both(tmp_path: Path, src: Path, **kwargs: Any) -> tuple[tuple[ImportReport, Store], tuple[ImportReport, Store]]:
    results = []
    for name in ("columnar", "rowwise"):
        store = Store.init(f"sqlite:///{tmp_path / name}.db")
        rejects = tmp_path / f"{name}.rejects"
        if name == "columnar":
            report = import_file(store, src, actor="t", rejects_path=rejects, workers=0, **kwargs)
        else:
            report = import_records(store, read_csv(src), source=str(src), actor="t", rejects_path=rejects, **kwargs)
        results.append((report, store))
    return results[0], results[1]


def test_dirty_file_same_problems_rejects_and_store(tmp_path: Path) -> None:
    src = _dirty_csv(tmp_path)
    (fast, fast_store), (slow, slow_store) = _both(tmp_path, src, skip_invalid=True)
    assert _problems(fast) == _problems(slow)
    reasons = {p[3] for p in _problems(fast)}
    assert {"required", "not a field of the standard", "longer than 200 characters",
            "above the maximum 120"} <= reasons
    assert any("not in code list sex" in r for r in reasons)
    assert any("earlier than exploitation_start" in r for r in reasons)
    assert any("earlier than departed_on" in r for r in reasons)
    assert any("'ZZZ' is not an ISO 3166-1 alpha-3 country code" in r for r in reasons)
    beyond = {(p[2], p[3]) for p in _problems(fast) if "beyond the" in p[1]}
    assert beyond == {("extra", "not a field of the standard"), ("values", "not a field of the standard")}
    assert (fast.read, fast.accepted, fast.rejected) == (slow.read, slow.accepted, slow.rejected)
    assert fast.written == slow.written
    assert fast.written.persons_created > 140
    assert (tmp_path / "columnar.rejects").read_text() == (tmp_path / "rowwise.rejects").read_text()
    assert _contents(fast_store) == _contents(slow_store)


def test_dirty_file_refused_alike(tmp_path: Path) -> None:
    src = _dirty_csv(tmp_path)
    refused = []
    for name, run in (("columnar", lambda s: import_file(s, src, actor="t", workers=0)),
                      ("rowwise", lambda s: import_records(s, read_csv(src), source=str(src), actor="t"))):
        store = Store.init(f"sqlite:///{tmp_path / name}.db")
        with pytest.raises(ImportFailed) as info:
            run(store)
        refused.append(_problems(info.value.report))
        assert store.counts()["cases"] == 0
    assert refused[0] == refused[1]
    assert len(refused[0]) >= 15


def test_clean_file_is_prepared_column_wise_with_row_wise_hashes(tmp_path: Path) -> None:
    """Ordinary rows never fall back, and the stored rows (hashes included) match the row-wise ones."""
    src = write_cases(tmp_path / "clean.csv", 120, seed=4)
    stage = _Stage(load_master_key(Store.init(f"sqlite:///{tmp_path / 'x.db'}").settings), 1,
                   dt.datetime(2026, 1, 1), True)
    for chunk in read_csv_chunks(src):
        flat = FlatPreparer(chunk.header, stage.validator, stage.layout, stage.preparer)
        assert not [item for item in flat.run(chunk) if isinstance(item, Record)]
    (fast, fast_store), (slow, slow_store) = _both(tmp_path, src)
    assert fast.written == slow.written
    assert _contents(fast_store) == _contents(slow_store)
    again = import_file(fast_store, src, actor="t")
    assert again.written.unchanged == fast.written.persons_created


def test_file_without_repeated_columns(tmp_path: Path) -> None:
    """A narrow export (some case and person columns only) is prepared the same both ways."""
    rows = csv_rows(write_cases(tmp_path / "wide.csv", 40, seed=8))
    keep = ["case_id", "case_type", "status", "reporting_org", "opened_on", "person_id", "role", "sex", "age",
            "given_name", "phone"]
    src = tmp_path / "narrow.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (fast, fast_store), (slow, slow_store) = _both(tmp_path, src)
    assert fast.written == slow.written
    assert fast.written.persons_created == len(rows)
    assert _contents(fast_store) == _contents(slow_store)


def _dict_reader_records(path: Path) -> list[tuple[int, dict[str, str]]]:
    """What ``csv.DictReader`` yields, blank rows left out, values beyond the header named by position."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        out = []
        for row in reader:
            clean = {str(k): "" if v is None else str(v) for k, v in row.items() if k is not None}
            width = len(reader.fieldnames or ())
            for i, extra in enumerate(row.get(None) or [], start=width + 1):
                if extra.strip():
                    clean[f"(column {i}, beyond the {width}-column header)"] = extra
            if any(v.strip() for v in clean.values()):
                out.append((reader.line_num, clean))
        return out


@pytest.mark.parametrize("ending", ["\r\n", "\n"])
def test_chunked_reader_matches_dict_reader(tmp_path: Path, ending: str) -> None:
    src = _dirty_csv(tmp_path)
    text = src.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\n", ending)
    path = tmp_path / "endings.csv"
    path.write_text("\ufeff" + text, encoding="utf-8", newline="")
    expected = _dict_reader_records(path)
    assert [(r.row, r.original) for r in read_csv(path)] == expected
    small = [(r.row, r.original) for chunk in read_csv_chunks(path, rows=7) for r in chunk.records()]
    assert small == expected
