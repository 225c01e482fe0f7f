"""Export of ads, identifiers and accounts as FollowTheMoney entities.

FtM is the exchange format of Aleph, OpenSanctions and many investigative
tools, so an analyst can load a cluster's selectors next to company and
sanctions data. Each ad becomes a ``Document`` (with its SHA-256, URL and
capture time); each phone, e-mail and handle a ``UserAccount``; each wallet a
``CryptoWallet``. Accounts point to the ads that mention them through
``proof``, and carry their cluster and its risk in ``description``: the export
records where a selector was seen, never who is behind it. Selectors take their
ids from :func:`tipsom.core.identifiers.ftm_id`, as the money export's do, so
a wallet or a phone in both exports is one entity in Aleph.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tipsom.core.identifiers import IdentifierKind, ftm_id
from tipsom.osint.profile import ClusterProfile
from tipsom.osint.scan import AdScan

_NAMESPACE = "tipsom-osint"
_CURRENCIES = {"bitcoin": "BTC", "ethereum": "ETH", "tron": "TRX"}


def _document(scan: AdScan) -> Any:
    from followthemoney import model

    ad = scan.ad
    doc = model.make_entity("Document")
    doc.make_id(_NAMESPACE, "ad", ad.ad_id)
    doc.add("title", ad.title or ad.ad_id)
    doc.add("fileName", ad.ad_id)
    doc.add("sourceUrl", ad.url or None)
    doc.add("contentHash", ad.raw_sha256 or None)
    doc.add("publishedAt", ad.posted_at.isoformat() if ad.posted_at else None)
    doc.add("retrievedAt", ad.captured_at.isoformat() if ad.captured_at else None)
    doc.add("detectedLanguage", scan.language if scan.language != "und" else None)
    doc.add("bodyText", scan.text)
    doc.add("publisher", ad.source or None)
    for ident in scan.identifiers:
        if ident.kind is IdentifierKind.PHONE:
            doc.add("phoneMentioned", ident.value)
        elif ident.kind is IdentifierKind.EMAIL:
            doc.add("emailMentioned", ident.value)
    return doc


def _account(kind: IdentifierKind, value: str, detail: str) -> Any:
    from followthemoney import model

    if kind is IdentifierKind.WALLET:
        chain, _, address = value.partition(":")
        entity = model.make_entity("CryptoWallet")
        entity.id = ftm_id(IdentifierKind.WALLET, value)
        entity.add("publicKey", address)
        entity.add("currency", _CURRENCIES.get(chain))
        entity.add("blockchain", chain)
        return entity
    entity = model.make_entity("UserAccount")
    entity.id = ftm_id(kind, value)
    if kind is IdentifierKind.PHONE:
        entity.add("service", detail or "telephone")
        entity.add("username", value)
        entity.add("phone", value)
    elif kind is IdentifierKind.EMAIL:
        entity.add("service", value.partition("@")[2])
        entity.add("username", value)
        entity.add("email", value)
    else:
        service, _, username = value.partition(":")
        entity.add("service", service)
        entity.add("username", username)
    return entity


def ftm_entities(profiles: Sequence[ClusterProfile], scans: dict[str, AdScan]) -> Iterator[dict[str, Any]]:
    """Entities (as FtM dicts) for the ads and selectors of ``profiles``."""
    accounts: dict[tuple[IdentifierKind, str], Any] = {}
    for profile in profiles:
        note = f"tipsom OSINT cluster {profile.cluster_id}: {len(profile.ad_ids)} ads, risk {profile.risk:.2f} " \
               f"({profile.level.value})"
        for ad_id in profile.ad_ids:
            scan = scans[ad_id]
            doc = _document(scan)
            yield doc.to_dict()
            for ident in scan.identifiers:
                if ident.kind is IdentifierKind.URL:
                    continue
                key = (ident.kind, ident.value)
                if key not in accounts:
                    accounts[key] = _account(ident.kind, ident.value, ident.detail)
                accounts[key].add("proof", doc.id)
                accounts[key].add("description", note)
    for entity in accounts.values():
        yield entity.to_dict()


def write_ftm(path: Path, profiles: Sequence[ClusterProfile], scans: dict[str, AdScan]) -> int:
    """Write FtM entities as JSON Lines; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for entity in ftm_entities(profiles, scans):
            fh.write(json.dumps(entity, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count
