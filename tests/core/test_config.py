"""The typed configuration loader: coercion, closed keys, one line naming file and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import with_config

from tipsom.core.config import CLOSED, load_file, load_typed
from tipsom.core.errors import ConfigError


@with_config(CLOSED)
@dataclass(frozen=True)
class Window:
    hours: int = 72
    ratio: tuple[float, float] = (0.7, 1.05)


def test_unambiguous_text_is_coerced() -> None:
    assert load_typed({"hours": "48", "ratio": [0.5, 1]}, Window, where="w.yaml") == Window(48, (0.5, 1.0))


@pytest.mark.parametrize(("text", "expected"), [
    ("hours: abc\n", r"^w\.yaml: hours: Input should be a valid integer.*\(got 'abc'\)$"),
    ("houres: 5\n", r"^w\.yaml: houres: unknown key \(got 5\)$"),
    ("ratio: [1, 2, 3]\n", r"^w\.yaml: ratio: Tuple should have at most 2 items"),
    ("hours: [1\n", r"^w\.yaml: line 2: "),
])
def test_a_bad_file_is_one_line_naming_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("w.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as info:
        load_file(Path("w.yaml"), Window)
    assert "\n" not in str(info.value)
