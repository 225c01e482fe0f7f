"""Options and helpers every command shares: the one vocabulary, exit codes, the store, progress.

One meaning, one spelling, in every command: ``-o/--out`` for the file or folder
a command writes, ``--json`` only as the flag that prints JSON, ``--on-error
fail|skip`` wherever records are read, ``--engine duckdb|spark`` wherever an
engine is chosen, ``--lang`` for a language; the option types are the enums of
:mod:`tipsom.core.vocab`. ``tests/cli/test_vocabulary.py`` walks the command
tree and holds every command to it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from tipsom.core.errors import ConfigError, ExitCode, printable
from tipsom.core.vocab import Engine, Language, OnError

if TYPE_CHECKING:
    from tipsom.store.db import Store

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: TIPSOM_DB_URL or the SQLite file under TIPSOM_HOME)."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OnErrorOption = Annotated[
    OnError,
    typer.Option("--on-error", help="fail: refuse the input on any bad record, writing nothing; skip: go on "
                                    "with the good records, reporting each bad one."),
]
EngineOption = Annotated[
    Engine, typer.Option("--engine", help="Where the work runs: duckdb in this process, or spark.")
]
LangOption = Annotated[Language, typer.Option("--lang", help="Language.")]

#: Option names (without their dashes) that older releases used where the common name now stands. They keep
#: working, so scripts written against them still run, but ``--help`` shows only the common name.
RENAMED_OPTIONS = {"output": "out", "backend": "engine", "language": "lang"}


def common_spelling(token: str) -> str:
    """The common name of an option the user spelled the old way.

    Click's ``token_normalize_func``: it is given option names without their
    dashes (and choice values and command names, which never collide with the
    old option names).
    """
    return RENAMED_OPTIONS.get(token, token)


def deprecated(old: str, new: str) -> None:
    """One line on stderr saying that ``old`` still works but ``new`` is the spelling to use."""
    print(f"tipsom: {old} is deprecated; use {new}", file=sys.stderr)


def fail(message: str, code: ExitCode = ExitCode.INVALID_INPUT) -> NoReturn:
    """Print ``message`` to stderr as ``tipsom: message`` and exit with ``code``.

    The same shape as the refusals the root command prints for raised
    :class:`~tipsom.core.errors.TipsomError`, so scripts and users read one form.
    """
    print(f"tipsom: {printable(message)}", file=sys.stderr)
    raise typer.Exit(int(code))


@contextmanager
def progress_bar(quiet: bool, label: str) -> Iterator[Callable[[int], None]]:
    """A counter on stderr for long work; silent with ``--quiet``."""
    if quiet:
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description} {task.completed:,}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.update(task, completed=n)


def check_output_path(path: Path) -> None:
    """Refuse, before any work, an output file that could not be written at the end.

    A scan of millions of rows that fails on its last step because the output
    folder does not exist wastes the user's time; a folder given where a file
    is expected is caught here too.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{path}: the folder {folder} does not exist; create it or choose another output path")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give a file name for the output")


def open_store(db: str | None, *, verify_key: bool = True, upgrade: bool = False) -> Store:
    """Open the store for a command: the one way every command opens it.

    Only ``tipsom init`` and ``tipsom serve`` pass ``upgrade``, which creates
    the store or brings an older one to this tipsom's schema; every other
    command refuses a store that is not current (exit 2, nothing written) and
    says to run ``tipsom init``.

    The data key is verified before the command reads or writes anything: a
    missing, malformed or wrong key is a ``DataKeyError`` (a configuration
    error) that the root command prints as one line with exit 2. Commands that
    never touch personal values (``init``, which makes the key; ``key
    check`` and ``key rotate``, which judge the keys themselves; the audit
    chain, context data, aggregates) pass ``verify_key=False`` so they run
    where no key is set, as they did before.
    """
    from tipsom.store.db import Store

    store = Store.init(db) if upgrade else Store.open(db)
    if verify_key:
        store.cipher  # noqa: B018  (fail early, before any work, when the key is missing or not this store's)
    return store
