"""The ``tipsom`` command: a thin layer over the library.

Each module's commands live in their own file under ``tipsom.cli`` and expose
``register(root)``; heavy libraries are imported inside the commands so that
``tipsom --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

from tipsom.cli.groups import export_app, import_app, synth_app

app = typer.Typer(
    name="tipsom",
    help="tipsom: case registry and analysis for trafficking in persons and smuggling of migrants.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(synth_app, name="synth")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

#: Modules whose ``register`` adds commands, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "registry",
    "report",
    "screening",
    "evidence",
    "money",
    "osint",
    "context",
    "estimate",
    "web",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"tipsom.cli.{_name}").register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
