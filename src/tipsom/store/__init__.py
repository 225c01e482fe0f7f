"""The store: one database for every module, its migrations, encryption, audit log and read API.

Public modules: ``db`` (:class:`~tipsom.store.db.Store`), ``view`` (the read API: the persons asked
for, only the named fields decrypted, one audit event), ``audit``, ``base`` (the one ``metadata``
every module's tables live on), ``tables`` (the registry), ``history`` (record versions), ``retention``,
``crypto``, ``keys``, ``reader``, ``search`` (name tokens) and ``writer``. The store imports no module above it:
each module owns its tables and migrations (see :mod:`tipsom.application`).
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["audit", "base", "crypto", "db", "history", "keys", "reader", "retention", "search", "tables", "view",
           "writer"]
