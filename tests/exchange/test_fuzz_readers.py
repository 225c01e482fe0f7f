"""Every case reader meets random bytes, truncations and deep nesting with a clean refusal (issue 14, section 4).

Each property starts from a file already imported, so the store holds its
cases: whatever the reader is given, it either raises a :class:`TipsomError`
with exit code 1 or 2, or finishes having changed nothing (a truncation at a
record boundary holds only unchanged records). Any other exception fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.exchange.helpers import contents
from tests.registry_helpers import write_cases
from tipsom.core.errors import ExitCode, TipsomError
from tipsom.exchange.export import export_cases
from tipsom.exchange.importer import import_file
from tipsom.store.db import Store

pytestmark = pytest.mark.usefixtures("data_key")

#: Examples per reader: enough to reach every kind of damage, few enough to stay within seconds.
EXAMPLES = 30


def _damage(base: bytes, nesting: Callable[[int], bytes]) -> st.SearchStrategy[bytes]:
    """A truncation, random bytes, the start of the file followed by random bytes, or deep nesting."""
    cut = st.integers(0, len(base))
    return st.one_of(
        cut.map(lambda n: base[:n]),
        st.binary(max_size=600),
        st.tuples(cut, st.binary(min_size=1, max_size=200)).map(lambda t: base[: t[0]] + t[1]),
        st.integers(20, 20_000).map(nesting),
    )


def _check(store: Store, path: Path, fmt: str, before: dict[str, Any], data: bytes) -> None:
    path.write_bytes(data)
    code = ExitCode.OK
    try:
        import_file(store, path, fmt=fmt, actor="fuzz", workers=0)
    except TipsomError as exc:
        code = exc.exit_code
    assert code in (ExitCode.OK, ExitCode.INVALID_INPUT, ExitCode.USAGE)
    assert contents(store) == before


def _run(tmp_path: Path, source: Path, fmt: str, nesting: Callable[[int], bytes]) -> None:
    store = Store.init()
    import_file(store, source, fmt=fmt, actor="setup")
    before = contents(store)
    base = source.read_bytes()
    target = tmp_path / f"fuzzed{source.suffix}"

    @given(data=_damage(base, nesting))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def prop(data: bytes) -> None:
        _check(store, target, fmt, before, data)

    prop()


def _quotes(n: int) -> bytes:
    return b"case_id,persons\n" + b'"' * n + b"," + b"[" * n + b"\n"


def _json_depth(n: int) -> bytes:
    return b'{"case_id":"C1","persons":' + b"[" * n + b"]" * n + b"}\n" + b"[" * n + b"\n"


def test_native_csv_reader(tmp_path: Path) -> None:
    _run(tmp_path, write_cases(tmp_path / "cases.csv", 6), "native", _quotes)


def test_jsonl_reader(tmp_path: Path) -> None:
    _run(tmp_path, write_cases(tmp_path / "cases.jsonl", 6), "native", _json_depth)


def test_xlsx_reader(tmp_path: Path) -> None:
    source = write_cases(tmp_path / "cases.xlsx", 6)
    _run(tmp_path, source, "native", lambda n: source.read_bytes()[:40] + b"[" * n)


def test_htcds_reader(tmp_path: Path) -> None:
    seed = Store.init(f"sqlite:///{tmp_path / 'seed.db'}")
    import_file(seed, write_cases(tmp_path / "cases.jsonl", 6), actor="setup")
    source = tmp_path / "htcds.xlsx"
    export_cases(seed, source, fmt="htcds", include_personal=True, actor="setup")
    _run(tmp_path, source, "htcds", lambda n: source.read_bytes()[:40] + b"<a>" * n)


def test_ctdc_reader(tmp_path: Path, reference: Path) -> None:
    sample = reference / "standards" / "ctdc" / "the_global_k_anon_dataset_SAMPLE_header_and_rows.csv"
    source = tmp_path / "ctdc.csv"
    shutil.copyfile(sample, source)
    header = sample.read_bytes().split(b"\n", 1)[0]
    _run(tmp_path, source, "ctdc", lambda n: header + b"\n" + b'"' * n + b";" * n + b"\n")
