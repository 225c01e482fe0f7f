"""Decoding text and JSON offered by a user, with every failure turned into an :class:`InputError`.

Python's own failures here are not input errors: a file in Latin-1 raises
``UnicodeDecodeError`` and JSON nested a few thousand levels deep raises
``RecursionError``, and both would reach the user as a traceback. Every reader
of user files decodes through these functions, so the user reads the file, the
row and what to do instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tipsom.core.errors import InputError

#: Deepest nesting of arrays and objects accepted in a JSON document. The
#: native case format needs five levels (case, persons, person, records, record);
#: the bound leaves room for extensions and stops a hostile file long before
#: Python's recursion limit.
MAX_JSON_DEPTH = 64


def decode_utf8(data: bytes, *, file: str | Path, row: int | None = None) -> str:
    """``data`` as UTF-8 text, or an error naming the offending byte and how to convert."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         "save the file as UTF-8", file=file, row=row) from None


def read_utf8(path: Path) -> str:
    """The whole of ``path`` as UTF-8 text (``OSError`` is left to the CLI, which names the path)."""
    return decode_utf8(path.read_bytes(), file=path)


def parse_json(text: str | bytes, *, file: str | Path, row: int | None = None,
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """One JSON value, refused when malformed, not UTF-8 or nested deeper than ``max_depth``."""
    if isinstance(text, bytes):
        text = decode_utf8(text, file=file, row=row)
    if _nesting_exceeds(text, max_depth):
        raise InputError(f"JSON nested deeper than {max_depth} levels", file=file, row=row)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = row if row is not None else exc.lineno
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=file, row=where) from None
    except RecursionError:  # defence in depth: the scan above should have refused it
        raise InputError(f"JSON nested deeper than {max_depth} levels", file=file, row=row) from None


def _nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings nest deeper than ``max_depth``.

    Cheap when it can be: a text with fewer opening brackets than the bound
    cannot exceed it, which is every ordinary record. Otherwise one pass over
    the text that skips string literals (with their escapes).
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif ch in "]}":
            depth -= 1
    return False
