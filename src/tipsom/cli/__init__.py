"""The command line: one Typer application over the public library functions."""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["main"]
