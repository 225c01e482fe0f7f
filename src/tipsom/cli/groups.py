"""Command groups shared by several modules.

``tipsom synth``, ``tipsom import`` and ``tipsom export`` gather commands from
different modules (cases, transactions, ads, microdata); each module adds its own
command to the shared group here, so no module has to know the others.
"""

from __future__ import annotations

import typer

synth_app = typer.Typer(help="Generate seeded synthetic data (never real people).", no_args_is_help=True)
import_app = typer.Typer(help="Import data into the store.", no_args_is_help=True)
export_app = typer.Typer(help="Export data from the store.", no_args_is_help=True)
