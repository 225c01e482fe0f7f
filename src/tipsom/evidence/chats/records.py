"""The records every chat reader gives, whatever app or tool wrote the export.

Times are always aware: an export that writes local times without a zone is
read in the zone the examiner names (``--tz``), and that assumption travels
with the records (:attr:`ChatExport.assumptions`) into the store, because a
message's hour can decide whether a victim was where she said.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class ChatFormat(enum.StrEnum):
    """The export formats read; ``auto`` decides from the file's name and content."""

    AUTO = "auto"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    LEAPP = "leapp"
    CSV = "csv"


class MessageKind(enum.StrEnum):
    """What a timeline entry is: written by a person, written by the app, or a call."""

    TEXT = "text"
    SYSTEM = "system"
    CALL = "call"


class AttachmentState(enum.StrEnum):
    """Whether the attached file came with the export (a ZIP or a media folder) or only its mention."""

    INCLUDED = "included"
    OMITTED = "omitted"
    NAMED = "named"


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone who wrote or received a message; ``key`` is how the export names them."""

    key: str
    name: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    state: AttachmentState
    media_type: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    """One entry of a conversation; ``origin`` says where in the export it was read (line, element)."""

    thread: str
    sent_at: datetime
    sender: str | None
    text: str
    kind: MessageKind = MessageKind.TEXT
    origin: str = ""
    attachments: tuple[Attachment, ...] = ()
    message_id: str = ""
    reply_to: str = ""
    forwarded_from: str = ""
    recipient: str = ""


@dataclass(frozen=True, slots=True)
class Thread:
    key: str
    title: str


@dataclass
class ChatExport:
    """Everything read from one export, with the assumptions made reading it."""

    format: ChatFormat
    threads: list[Thread] = field(default_factory=list)
    participants: list[Participant] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    #: The zone naive times were read in (IANA name).
    timezone: str = "UTC"
    #: Each a sentence: what was assumed and why (date order, zone).
    assumptions: list[str] = field(default_factory=list)

    @property
    def attachments(self) -> int:
        return sum(len(m.attachments) for m in self.messages)
