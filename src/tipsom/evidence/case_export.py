"""CASE/UCO 1.5.0 JSON-LD: the exchange format forensic tools read.

The graph states, in the ontology's own terms, what a court needs from the
custody log: each exhibit as a ``uco-observable:File`` with its hashes, one
``InvestigativeAction`` per custody event (who, when, where, with what tool),
``ProvenanceRecord``s carrying exhibit numbers, and the ``Investigation`` with
its legal authorisations. Node identifiers are UUIDv5 derived from tipsom ids,
so exporting the same state twice gives the same graph.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import select

from tipsom.evidence.chats.timeline import StoredChat, open_chat
from tipsom.evidence.custody import CustodyAction
from tipsom.evidence.locker import EvidenceItem, EvidenceLocker, ItemKind
from tipsom.evidence.tables import captures, chat_exports
from tipsom.store import audit
from tipsom.store.tables import REGISTRY

NAMESPACE = uuid.UUID("4f0d7c1e-6a53-4c59-9a5e-7469707330e6")
CONTEXT = {
    "kb": "urn:tipsom:kb:",
    "co": "http://purl.org/co/",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-location": "https://ontology.unifiedcyberontology.org/uco/location/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
#: UCO HashNameVocab spellings.
HASH_METHODS = (("SHA256", "sha256"), ("SHA1", "sha1"), ("MD5", "md5"))


def node_id(kind: str, key: str) -> str:
    return f"kb:{kind}-{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


def ref(identifier: str) -> dict[str, str]:
    return {"@id": identifier}


def timestamp(value: str) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": value}


class _Graph:
    """Accumulates nodes once each (people, places and authorisations recur)."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}

    def add(self, node: dict[str, Any]) -> str:
        self.nodes.setdefault(node["@id"], node)
        return str(node["@id"])

    def person(self, name: str) -> str:
        return self.add({"@id": node_id("person", name), "@type": "uco-identity:Person",
                         "uco-core:name": name})

    def location(self, name: str) -> str:
        return self.add({"@id": node_id("location", name), "@type": "uco-location:Location",
                         "uco-core:name": name})


def _file_node(item: EvidenceItem) -> dict[str, Any]:
    file_facet: dict[str, Any] = {
        "@id": node_id("file-facet", item.id), "@type": "uco-observable:FileFacet",
        "uco-observable:fileName": item.original_name, "uco-observable:filePath": item.original_path,
        "uco-observable:sizeInBytes": item.size,
    }
    extension = PurePath(item.original_name).suffix.lstrip(".")
    if extension:
        file_facet["uco-observable:extension"] = extension
    if item.file_modified_at:
        file_facet["uco-observable:modifiedTime"] = timestamp(item.file_modified_at)
    hashes = [
        {"@id": node_id(f"hash-{method}", item.id), "@type": "uco-types:Hash",
         "uco-types:hashMethod": method,
         "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": getattr(item, attr)}}
        for method, attr in HASH_METHODS
    ]
    content = {
        "@id": node_id("content-data-facet", item.id), "@type": "uco-observable:ContentDataFacet",
        "uco-observable:mimeType": item.mime_type, "uco-observable:sizeInBytes": item.size,
        "uco-observable:hash": hashes,
    }
    return {"@id": node_id("file", item.id), "@type": "uco-observable:File",
            "uco-core:hasFacet": [file_facet, content]}


def _describe(event: Mapping[str, Any]) -> str:
    parts = [f"Custody log event {event['seq']} ({event['action']}), SHA-256 {event['hash']}."]
    for label, key in (("Purpose", "purpose"), ("Note", "note"), ("Received by", "recipient"),
                       ("Authorised by", "authorisation"), ("Corrects event", "corrects")):
        if event[key]:
            parts.append(f"{label}: {event[key]}.")
    return " ".join(parts)


def case_graph(locker: EvidenceLocker, case_id: str, exhibit: str | None = None) -> dict[str, Any]:
    """The CASE/UCO graph of a case's evidence, or of one exhibit of it."""
    items = [locker.resolve(exhibit)] if exhibit else locker.items(case_id)
    if exhibit and items[0].case_id != case_id:
        raise LookupError(f"exhibit {items[0].exhibit_number} belongs to case {items[0].case_id}, "
                          f"not {case_id}")
    cases = REGISTRY["case"]
    with locker.engine.connect() as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).first()
        targets = dict(conn.execute(select(captures.c.item_id, captures.c.target)
                                    .where(captures.c.item_id.in_([i.id for i in items]))).tuples().all())
        chat_items = set(conn.scalars(select(chat_exports.c.item_id)
                                      .where(chat_exports.c.item_id.in_([i.id for i in items]))))
        # The data key is needed only when a chat's sealed messages go into the graph.
        chats = [chat for i in items if i.id in chat_items
                 and (chat := open_chat(conn, locker.store.cipher, i)) is not None]
    if case is None:
        raise LookupError(f"case {case_id!r} is not in the registry")
    graph = _Graph()
    tipsom_version = version("tipsom")
    tool = graph.add({"@id": node_id("tool", f"tipsom {tipsom_version}"), "@type": "uco-tool:Tool",
                      "uco-core:name": "tipsom", "uco-tool:version": tipsom_version})
    investigation_objects: list[dict[str, str]] = []
    authorisations: dict[str, str] = {}
    by_id = {i.id: i for i in items}
    last_action: dict[str, str] = {}
    for item in items:
        graph.add(_file_node(item))
        if item.authority:
            authorisations.setdefault(item.authority, node_id("authorization", item.authority))
    for chat in chats:
        investigation_objects.extend(ref(n) for n in _chat_nodes(graph, chat))
    for event in locker.events([i.id for i in items]):
        item = by_id[event["item_id"]]
        file_ref = ref(node_id("file", item.id))
        action: dict[str, Any] = {
            "@id": node_id("action", event["id"]), "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": event["action"], "uco-core:description": _describe(event),
            "uco-action:startTime": timestamp(event["occurred_at"]),
            "uco-action:performer": ref(graph.person(event["actor"])),
            "uco-action:instrument": [ref(tool)],
        }
        if event["place"]:
            action["uco-action:location"] = [ref(graph.location(event["place"]))]
        if event["recipient"]:
            action["uco-action:participant"] = [ref(graph.person(event["recipient"]))]
        if authorisation := event["authorisation"]:
            authorisations.setdefault(authorisation, node_id("authorization", authorisation))
        if event["action"] == CustodyAction.INTAKE.value:
            record = graph.add({
                "@id": node_id("provenance", item.id), "@type": "case-investigation:ProvenanceRecord",
                "uco-core:description": f"{item.original_name}, collected by {item.collector}"
                                        + (f" from {item.source}" if item.source else ""),
                "case-investigation:exhibitNumber": item.exhibit_number,
                "case-investigation:rootExhibitNumber": [item.exhibit_number],
                "uco-core:object": [file_ref],
            })
            action["uco-action:result"] = [file_ref, ref(record)]
            investigation_objects.append(ref(record))
            if item.kind is ItemKind.WEB_CAPTURE and item.id in targets:
                action["uco-action:object"] = [ref(_url_node(graph, targets[item.id]))]
        else:
            action["uco-action:object"] = [file_ref]
        if item.id in last_action:
            action["case-investigation:wasInformedBy"] = [ref(last_action[item.id])]
        last_action[item.id] = graph.add(action)
        investigation_objects.append(ref(action["@id"]))
    investigation: dict[str, Any] = {
        "@id": node_id("investigation", case_id), "@type": "case-investigation:Investigation",
        "uco-core:name": case_id, "uco-core:object": investigation_objects,
        "case-investigation:relevantAuthorization": [
            {"@id": identifier, "@type": "case-investigation:Authorization",
             "case-investigation:authorizationIdentifier": text}
            for text, identifier in authorisations.items()
        ],
    }
    if case.case_type:
        investigation["case-investigation:focus"] = [str(case.case_type)]
    if case.status:
        investigation["case-investigation:investigationStatus"] = str(case.status)
    return {"@context": CONTEXT, "@graph": [investigation, *graph.nodes.values()]}


def export_case(locker: EvidenceLocker, case_id: str, out: Path, actor: str,
                exhibit: str | None = None) -> dict[str, Any]:
    """Write the graph to ``out`` and log the export in the audit log (evidence left the system)."""
    graph = case_graph(locker, case_id, exhibit)
    out.write_text(json.dumps(graph, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with locker.store.begin() as conn:
        audit.record(conn, actor=actor, action=audit.AuditAction.EXPORT, entity="evidence_case",
                     entity_id=exhibit or case_id, purpose="CASE/UCO export",
                     detail={"case": case_id, "file": str(out.resolve()), "nodes": len(graph["@graph"])})
    return graph


def _url_node(graph: _Graph, target: str) -> str:
    """The captured page's address as a ``uco-observable:URL`` (saved files have none)."""
    return graph.add({
        "@id": node_id("url", target), "@type": "uco-observable:URL",
        "uco-core:hasFacet": [{"@id": node_id("url-facet", target), "@type": "uco-observable:URLFacet",
                               "uco-observable:fullValue": target}],
    })


def _chat_nodes(graph: _Graph, chat: StoredChat) -> list[str]:
    """A chat export's accounts, messages and threads as UCO observables, each contained in the exhibit's file.

    Participants become ``ApplicationAccount``s of the app that wrote the
    export; messages ``Message``s whose facet names sender, time and text;
    each thread a ``MessageThread`` holding its messages. A ``Contained_Within``
    relationship ties every message to the file it was read from.
    """
    key = chat.export_id
    app = graph.add({
        "@id": node_id("application", chat.format), "@type": "uco-observable:Application",
        "uco-core:hasFacet": [{"@id": node_id("application-facet", chat.format),
                               "@type": "uco-observable:ApplicationFacet",
                               "uco-observable:applicationIdentifier": chat.format}],
    })
    accounts: dict[int, str] = {}
    for p in chat.participants:
        facets: list[dict[str, Any]] = [
            {"@id": node_id("account-facet", f"{key}:{p.seq}"), "@type": "uco-observable:AccountFacet",
             "uco-observable:accountIdentifier": p.phone or p.key},
            {"@id": node_id("digital-account-facet", f"{key}:{p.seq}"),
             "@type": "uco-observable:DigitalAccountFacet", "uco-observable:displayName": p.name},
            {"@id": node_id("application-account-facet", f"{key}:{p.seq}"),
             "@type": "uco-observable:ApplicationAccountFacet", "uco-observable:application": ref(app)},
        ]
        accounts[p.seq] = graph.add({"@id": node_id("account", f"{key}:{p.seq}"),
                                     "@type": "uco-observable:ApplicationAccount", "uco-core:hasFacet": facets})
    file_ref = ref(node_id("file", chat.exhibit.id))
    by_thread: dict[str, list[str]] = {}
    senders: dict[str, dict[int, None]] = {}
    for m in chat.messages:
        facet: dict[str, Any] = {
            "@id": node_id("message-facet", f"{key}:{m.seq}"), "@type": "uco-observable:MessageFacet",
            "uco-observable:messageText": m.text, "uco-observable:sentTime": timestamp(m.sent_at),
            "uco-observable:application": ref(app), "uco-observable:messageType": m.kind,
        }
        if m.sender is not None:
            facet["uco-observable:from"] = ref(accounts[m.sender.seq])
            senders.setdefault(m.thread, {})[m.sender.seq] = None
        if m.message_id:
            facet["uco-observable:messageID"] = m.message_id
        message = graph.add({"@id": node_id("message", f"{key}:{m.seq}"), "@type": "uco-observable:Message",
                             "uco-core:description": f"{chat.exhibit.exhibit_number}, {m.origin}",
                             "uco-core:hasFacet": [facet]})
        graph.add({"@id": node_id("relationship", f"{key}:{m.seq}"), "@type": "uco-core:Relationship",
                   "uco-core:source": [ref(message)], "uco-core:target": file_ref,
                   "uco-core:kindOfRelationship": "Contained_Within", "uco-core:isDirectional": True})
        by_thread.setdefault(m.thread, []).append(message)
    threads = []
    for seq, title in chat.threads:
        members = by_thread.get(title, [])
        threads.append(graph.add({
            "@id": node_id("message-thread", f"{key}:{seq}"), "@type": "uco-observable:MessageThread",
            "uco-core:name": title,
            "uco-core:hasFacet": [{
                "@id": node_id("message-thread-facet", f"{key}:{seq}"), "@type": "uco-observable:MessageThreadFacet",
                "uco-observable:participant": [ref(accounts[s]) for s in senders.get(title, {})],
                "uco-observable:messageThread": {"@id": node_id("thread", f"{key}:{seq}"), "@type": "uco-types:Thread",
                                                 "co:element": [ref(m) for m in members]},
            }],
        }))
    return threads
