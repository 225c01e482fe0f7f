"""Follow the money: read transactions, detect laundering typologies, trace, aggregate, export.

Entry points: :func:`tipsom.money.readers.load_transactions`, :func:`tipsom.money.scan.scan`,
:func:`tipsom.money.trace.trace`, :func:`tipsom.money.corridors.corridors`,
:func:`tipsom.money.risk.risk_scores` and the writers in :mod:`tipsom.money.export`.
See ``docs/money.md``.
"""
