"""One entry point for every context source: ``import_file(path, source)``."""

from __future__ import annotations

from pathlib import Path

from tipsom.context.boundaries import Boundaries
from tipsom.context.events import import_acled, import_emdat, import_idmc_disasters, import_ucdp
from tipsom.context.mmp import import_mmp
from tipsom.context.records import ImportResult
from tipsom.context.series import import_idmc, import_population, import_unhcr, import_wdi
from tipsom.context.sources import ContextInputError, Source

#: Sources whose rows carry coordinates, so admin-1 boundaries can be applied.
LOCATED = frozenset({Source.UCDP, Source.ACLED, Source.EMDAT})


def import_file(
    path: Path, source: Source, boundaries: Boundaries | None = None, encoding: str | None = None
) -> ImportResult:
    """Read ``path`` as ``source``; the result lists every row-level issue.

    Raises :class:`ContextInputError` when the file as a whole is unusable
    (unreadable, or a required column missing).
    """
    if not path.is_file():
        raise ContextInputError(f"{path}: no such file")
    if boundaries is not None and source not in LOCATED:
        located = ", ".join(sorted(s.value for s in LOCATED))
        raise ContextInputError(f"--boundaries applies to sources with coordinates ({located}), not {source}")
    if source is Source.UCDP:
        return import_ucdp(path, boundaries, encoding)
    if source is Source.ACLED:
        return import_acled(path, boundaries, encoding)
    if source is Source.EMDAT:
        return import_emdat(path, boundaries, encoding)
    if source is Source.IDMC_DISASTERS:
        return import_idmc_disasters(path, encoding)
    if source is Source.IDMC:
        return import_idmc(path, encoding)
    if source is Source.WDI:
        return import_wdi(path, encoding)
    if source is Source.UNHCR:
        return import_unhcr(path, encoding)
    if source is Source.POPULATION:
        return import_population(path, encoding)
    return import_mmp(path, encoding)
