"""The ``tipsom`` command: a thin layer over the library.

Each module's commands live in their own file under ``tipsom.cli`` and expose
``register(root)``; heavy libraries are imported inside the commands so that
``tipsom --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from tipsom.cli.common import common_spelling
from tipsom.cli.groups import export_app, import_app, synth_app
from tipsom.core.errors import ExitCode, TipsomError, printable


class TipsomGroup(TyperGroup):
    """The root command: the one place where errors become a line on stderr and an exit code.

    Every command below it raises :class:`~tipsom.core.errors.TipsomError`
    subclasses for bad input and configuration; they are printed as one line
    and mapped to the code their branch declares. A file the operating system
    refuses is bad input named by its path. Anything else is a defect in
    tipsom: the user still gets one line (exit 70) unless ``TIPSOM_DEBUG`` asks
    for the traceback.
    """

    def invoke(self, ctx: Any) -> Any:  # typer vendors click: its Context class is private
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except TipsomError as exc:
            _refuse(str(exc), exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _refuse(f"{where}{exc.strerror or exc}", ExitCode.INVALID_INPUT)
        except KeyboardInterrupt:
            _refuse("interrupted", ExitCode.INVALID_INPUT)
        except Exception as exc:
            if os.environ.get("TIPSOM_DEBUG"):
                raise
            _refuse(f"internal error ({type(exc).__name__}: {exc}); set TIPSOM_DEBUG=1 for the traceback "
                    "and please report it", ExitCode.INTERNAL)


def _refuse(message: str, code: ExitCode) -> None:
    print(f"tipsom: {printable(message)}", file=sys.stderr)
    raise typer.Exit(int(code))


app = typer.Typer(
    cls=TipsomGroup,
    name="tipsom",
    help="tipsom: case registry and analysis for trafficking in persons and smuggling of migrants.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Old option spellings (``--output`` ...) keep working in every command, hidden from --help.
    context_settings={"token_normalize_func": common_spelling},
)
app.add_typer(synth_app, name="synth")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

#: Modules whose ``register`` adds commands, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "registry",
    "key",
    "audit",
    "report",
    "screening",
    "evidence",
    "money",
    "osint",
    "context",
    "estimate",
    "web",
    "org",
    "casework",
    "retention",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"tipsom.cli.{_name}").register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
