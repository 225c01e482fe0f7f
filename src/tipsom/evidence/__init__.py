"""Electronic evidence: a write-once vault, a signed hash-chained custody log, web captures, CASE/UCO.

Courts exclude digital evidence whose integrity and custody cannot be shown, so
every exhibit here is content-addressed by SHA-256 (:mod:`.vault`), every act on
it is a signed, chained event (:mod:`.custody`), and :mod:`.verify` names any
changed file or edited, deleted, reordered or rolled-back event. Entry point:
:class:`tipsom.evidence.locker.EvidenceLocker`.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["actions", "capture", "case_export", "chats", "custody", "locker", "report", "seals", "tables", "verify"]
