"""Telegram Desktop's machine-readable export, ``result.json``, bare or zipped with its media folders.

Two shapes: one chat (``name``, ``type``, ``id``, ``messages``) or the whole
account (``chats.list``, each a chat). A message's ``text`` is a string or a
list of plain strings and entity objects (``{"type": "link", "text": ...}``);
``from``/``from_id`` name the author, ``actor``/``actor_id`` the author of a
service message. Newer exports give ``date_unixtime`` (UTC): it is preferred,
and only exports without it are read in the assumed zone.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from tipsom.core.errors import InputError
from tipsom.core.identifiers import canonical_phone
from tipsom.evidence.chats.reading import People, ReadOptions, decode_text
from tipsom.evidence.chats.records import (
    Attachment,
    AttachmentState,
    ChatExport,
    ChatFormat,
    Message,
    MessageKind,
    Thread,
)

#: What Telegram writes instead of a path when media were not exported.
NOT_INCLUDED = "(File not included"
_MEDIA_KEYS = (("photo", "photo"), ("file", ""))


def read_telegram(path: Path, options: ReadOptions) -> ChatExport:
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                inner = [n for n in archive.namelist() if PurePosixPath(n).name == "result.json"]
                if len(inner) != 1:
                    raise InputError(f"expected one result.json in the ZIP, found {len(inner)}", file=path)
                data = archive.read(inner[0])
                names = frozenset(archive.namelist())
                prefix = str(PurePosixPath(inner[0]).parent)
        except zipfile.BadZipFile as exc:
            raise InputError(f"damaged ZIP: {exc}", file=path) from None
        media = frozenset(n.removeprefix(prefix + "/") if prefix != "." else n for n in names)
        where = f"{path}!{inner[0]}"
    else:
        data, media, where = path.read_bytes(), frozenset(), str(path)
    return parse_telegram(decode_text(data, where), where, options, media)


def parse_telegram(text: str, where: str, options: ReadOptions, media: frozenset[str] = frozenset()) -> ChatExport:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON (cut or damaged export?): {exc.msg} at column {exc.colno}",
                         file=where, row=exc.lineno) from None
    if not isinstance(document, dict):
        raise InputError("the top level is not an object", file=where, field="$")
    if isinstance(document.get("chats"), dict):
        chats = _list(document["chats"], "list", where, "chats")
        paths = [f"chats.list[{n}]" for n in range(len(chats))]
    elif "messages" in document:
        chats, paths = [document], [""]
    else:
        raise InputError("neither a chat (messages) nor a full export (chats.list)", file=where, field="$")
    export = ChatExport(ChatFormat.TELEGRAM, timezone=options.timezone)
    people = People()
    naive = 0
    for chat, base in zip(chats, paths, strict=True):
        if not isinstance(chat, dict):
            raise InputError("a chat is not an object", file=where, field=base)
        key = str(chat.get("id", len(export.threads)))
        export.threads.append(Thread(key, str(chat.get("name") or chat.get("type") or key)))
        for n, item in enumerate(_list(chat, "messages", where, base)):
            element = f"{base + '.' if base else ''}messages[{n}]"
            if not isinstance(item, dict):
                raise InputError("a message is not an object", file=where, field=element)
            message, assumed = _message(item, key, element, where, people, options, media)
            naive += assumed
            export.messages.append(message)
    if naive:
        export.assumptions.append(f"{options.zone_assumption()} ({naive} messages without date_unixtime)")
    else:
        export.assumptions.append("every message carries date_unixtime (UTC); no zone assumed")
    export.participants = people.list()
    return export


def _list(container: Mapping[str, Any], key: str, where: str, base: str) -> list[Any]:
    value = container.get(key)
    if not isinstance(value, list):
        raise InputError(f"{key!r} is missing or not a list", file=where, field=base or "$")
    return value


def _message(item: Mapping[str, Any], thread: str, element: str, where: str, people: People,
             options: ReadOptions, media: frozenset[str]) -> tuple[Message, bool]:
    sent_at, assumed = _date(item, element, where, options)
    service = item.get("type") == "service"
    name_key, id_key = ("actor", "actor_id") if service else ("from", "from_id")
    sender = None
    if item.get(id_key) or item.get(name_key):
        key = str(item.get(id_key) or item.get(name_key))
        name = str(item.get(name_key) or key)
        phone = canonical_phone(str(item["phone_number"]), options.region or None) if item.get("phone_number") else ""
        sender = people.add(key, name, phone)
    body = flatten_text(item.get("text", ""), element, where)
    if service and not body:
        body = " ".join(str(item[k]) for k in ("action", "title", "members") if item.get(k))
    attachments = tuple(
        Attachment(_media_name(str(item[key])), _state(str(item[key]), media),
                   str(item.get("media_type") or kind or item.get("mime_type") or ""))
        for key, kind in _MEDIA_KEYS if item.get(key)
    )
    forwarded = item.get("forwarded_from")
    reply = item.get("reply_to_message_id")
    return Message(thread, sent_at, sender, body, MessageKind.SYSTEM if service else MessageKind.TEXT, element,
                   attachments, str(item.get("id", "")), "" if reply is None else str(reply),
                   "" if forwarded is None else str(forwarded)), assumed


def flatten_text(value: Any, element: str, where: str) -> str:
    """A message's text as one string: a list of pieces and entities joined as displayed."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        pieces = []
        for piece in value:
            if isinstance(piece, str):
                pieces.append(piece)
            elif isinstance(piece, dict) and isinstance(piece.get("text"), str):
                pieces.append(piece["text"])
            else:
                raise InputError("a text entity has no text", file=where, field=f"{element}.text")
        return "".join(pieces)
    raise InputError("text is neither a string nor a list of entities", file=where, field=f"{element}.text")


def _date(item: Mapping[str, Any], element: str, where: str, options: ReadOptions) -> tuple[datetime, bool]:
    try:
        if "date_unixtime" in item:
            return datetime.fromtimestamp(int(item["date_unixtime"]), UTC), False
        written = datetime.fromisoformat(str(item["date"]))
    except KeyError:
        raise InputError("no date", file=where, field=element) from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"unreadable date: {exc}", file=where, field=f"{element}.date") from None
    if written.tzinfo is not None:
        return written, False
    return options.localise(written), True


def _media_name(value: str) -> str:
    return "" if value.startswith(NOT_INCLUDED) else value


def _state(value: str, media: frozenset[str]) -> AttachmentState:
    if value.startswith(NOT_INCLUDED):
        return AttachmentState.OMITTED
    return AttachmentState.INCLUDED if value in media else AttachmentState.NAMED
