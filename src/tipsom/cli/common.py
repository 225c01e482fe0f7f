"""Options and helpers every command shares: ``--db``, ``--quiet``, exit codes, the store, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from tipsom.core.errors import ConfigError, ExitCode, printable

if TYPE_CHECKING:
    from tipsom.store.db import Store

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: TIPSOM_DB_URL or the SQLite file under TIPSOM_HOME)."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


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


def open_store(db: str | None) -> Store:
    """Open the store for a command, its data key verified before the command reads or writes anything.

    A missing, malformed or wrong key is a ``DataKeyError`` (a configuration
    error): the root command prints it as one line and exits 2.
    """
    from tipsom.store.db import Store

    store = Store.open(db)
    store.cipher  # noqa: B018  (fail early, before any work, when the key is missing or not this store's)
    return store
