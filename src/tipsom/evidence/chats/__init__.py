"""Chat exports and phone-extraction reports: read, store beside their exhibit, search, export.

A victim's WhatsApp export, a Telegram Desktop ``result.json``, the TSV
reports of ALEAPP/iLEAPP or any tool's CSV of messages become the same typed
records (:mod:`.records`); :mod:`.ingest` keeps the original file in the vault
as an exhibit and the parsed messages, sealed, in tables linked to it;
:mod:`.timeline` reads a conversation back, searchable. It lives inside
``evidence`` because a chat is evidence first: it needs the vault and the
custody log, and analyses on one layer may not import each other.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["findings", "ingest", "reading", "records", "timeline"]
