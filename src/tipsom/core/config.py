"""Typed configuration files: one loader, so a wrong value names its file and key.

Rule layers, lexicons, detector thresholds, context specs and catalogues are
YAML that an agency edits by hand. Each is read into a typed model (a
dataclass or a pydantic model) through :func:`load_typed`, which coerces what
is unambiguous (``"72"`` for an integer, a list for a tuple), refuses keys
the model does not have (a misspelt threshold would otherwise be silently
ignored and the default used) and turns every problem into one
:class:`~tipsom.core.errors.ConfigError` line such as
``scan.yaml: fan_window_hours: Input should be a valid integer (got 'abc')``.

Data that a deployment extends (a jurisdiction's screening rule layer, a
lexicon in another language) is found through :func:`data_files`, which looks
in the directories of ``TIPSOM_DATA_PATH`` before the package's own data, so an
agency adds a file without forking tipsom.

Dataclasses refuse unknown keys when decorated with ``@with_config(CLOSED)``;
pydantic models set ``model_config = CLOSED``. Models for rich data may stay
open where an extra key is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ConfigDict, TypeAdapter, ValidationError

from tipsom.core.errors import ConfigError, printable

T = TypeVar("T")

#: Configuration for models whose keys are a closed set: an unknown key is an error.
CLOSED = ConfigDict(extra="forbid")

#: Longest quoted value in a message, so one line stays readable.
_QUOTED = 60


def parse_text(text: str, where: str | Path) -> Any:
    """YAML (or JSON, which YAML reads too) from ``text``; a syntax error names ``where`` and the line."""
    # The C loader when libyaml is present: the same safe subset of YAML, read several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(f"{where}: {line}{problem}") from None


def read_file(path: Path) -> Any:
    """The parsed content of a YAML or JSON file; an unreadable one names the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    return parse_text(text, path)


def _key(loc: tuple[int | str, ...]) -> str:
    return "".join(f"{part}: " if i == len(loc) - 1 else f"{part}." for i, part in enumerate(loc))


def _quoted(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTED else text[: _QUOTED - 3] + "..."


def describe(exc: ValidationError, where: str | Path) -> str:
    """One line naming ``where`` and, for each problem, the key and the value refused."""
    problems = []
    for error in exc.errors(include_url=False):
        got = "" if error["type"] == "missing" else f" (got {_quoted(error.get('input'))})"
        message = "unknown key" if error["type"] in ("unexpected_keyword_argument", "extra_forbidden") \
            else error["msg"]
        problems.append(f"{_key(error['loc'])}{message}{got}")
    return printable(f"{where}: " + "; ".join(problems))


def load_typed(data: Any, model: type[T], *, where: str | Path) -> T:
    """``data`` (parsed YAML, or a mapping built in code) validated as ``model``."""
    if data is None:
        data = {}
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, where)) from None


def load_file(path: Path, model: type[T]) -> T:
    """A YAML or JSON file read as ``model``; every failure is one line naming the file and key."""
    return load_typed(read_file(path), model, where=path)


def data_files(area: str, shipped: Path, data_path: Sequence[Path], pattern: str = "*.yaml") -> list[Path]:
    """Files matching ``pattern`` in ``shipped`` and in ``<dir>/<area>`` of each ``data_path`` directory.

    ``area`` is the folder's place in the package (``screening/rules/jurisdictions``).
    A data-path file with the same name as a shipped one replaces it (an agency
    extends a shipped lexicon by copying it), and an earlier directory of the
    path wins over a later one. The result is sorted by file name, so the order
    does not depend on where a file came from. The caller passes the data path
    (``Settings.data_path``): core sits beneath the settings and does not read them.
    """
    found: dict[str, Path] = {}
    for directory in [*(d / area for d in data_path), shipped]:
        if directory.is_dir():
            for path in sorted(directory.glob(pattern)):
                found.setdefault(path.name, path)
    return [found[name] for name in sorted(found)]


def require_mapping(data: Any, where: str | Path) -> Mapping[str, Any]:
    """``data`` if it is a mapping: the top level of most files is one."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of keys to values, found {type(data).__name__}")
    return data
