"""Follow the money: read transactions, detect laundering typologies, trace, aggregate, export.

Entry points: :func:`tipsom.money.readers.load_transactions`, :func:`tipsom.money.scan.scan`,
:func:`tipsom.money.trace.trace`, :func:`tipsom.money.corridors.corridors`,
:func:`tipsom.money.risk.risk_scores` and the writers in :mod:`tipsom.money.export`.
See ``docs/money.md``.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = [
    "config", "corridors", "evaluate", "export", "goaml", "holders", "links", "model", "readers", "risk", "scan",
    "trace", "typologies",
]
