"""Chat exports written for the tests, in the layouts the apps and tools produce.

Each writer makes ``n`` messages between two people, alternating, one minute
apart from ``START``, with every seventh message spanning three lines and every
eleventh an attachment, so a reader that drops continuation lines or media
lines changes the counts the tests check.
"""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2024, 3, 14, 21, 5)  # a day above 12 decides the date order
PEOPLE = ("Amina K", "+33 6 12 34 56 78")
MULTILINE_EVERY = 7
MEDIA_EVERY = 11


def times(n: int, start: datetime = START) -> list[datetime]:
    return [start + timedelta(minutes=i) for i in range(n)]


def body(i: int) -> str:
    if i % MULTILINE_EVERY == 3:
        return f"message {i} first line\nsecond line of {i}\nthird line of {i}"
    return f"message {i} about the job in the city"


def whatsapp_android(n: int, *, twelve_hour: bool = False, order: str = "dmy", media: str = "omitted",
                     start: datetime = START) -> str:
    """Android layout: ``14/03/2024, 21:05 - Name: text``, system line first."""
    lines = [f"{_date(start, order)}, {_clock(start, twelve_hour)} - Messages and calls are end-to-end encrypted. "
             "No one outside of this chat can read them."]
    for i, when in enumerate(times(n, start)):
        who = PEOPLE[i % 2]
        if i % MEDIA_EVERY == 5:
            text = "<Media omitted>" if media == "omitted" else f"IMG-2024031{i % 10}-WA{i:04d}.jpg (file attached)"
        else:
            text = body(i)
        lines.append(f"{_date(when, order)}, {_clock(when, twelve_hour)} - {who}: {text}")
    return "\n".join(lines) + "\n"


def whatsapp_ios(n: int, *, twelve_hour: bool = True, start: datetime = START) -> str:
    """iOS layout: ``[14/03/2024, 9:05:00 PM] Name: text``, with U+200E marks and U+202F before PM."""
    lines = [f"[{_date(start, 'dmy')}, {_clock(start, twelve_hour, seconds=True)}] Amina K: \u200eMessages and "
             "calls are end-to-end encrypted."]
    for i, when in enumerate(times(n, start)):
        who = PEOPLE[i % 2]
        stamp = f"[{_date(when, 'dmy')}, {_clock(when, twelve_hour, seconds=True)}]"
        if i % MEDIA_EVERY == 5:
            lines.append(f"\u200e{stamp} {who}: \u200e<attached: 000000{i:02d}-PHOTO-2024-03-14.jpg>")
        else:
            lines.append(f"{stamp} {who}: {body(i)}")
    return "\n".join(lines) + "\n"


def _date(when: datetime, order: str) -> str:
    return {"dmy": when.strftime("%d/%m/%Y"), "mdy": when.strftime("%m/%d/%y"),
            "ymd": when.strftime("%Y-%m-%d")}[order]


def _clock(when: datetime, twelve_hour: bool, seconds: bool = False) -> str:
    if not twelve_hour:
        return when.strftime("%H:%M:%S" if seconds else "%H:%M")
    hour = when.hour % 12 or 12
    rest = when.strftime(":%M:%S" if seconds else ":%M")
    return f"{hour}{rest}\u202f{'PM' if when.hour >= 12 else 'AM'}"


def whatsapp_zip(path: Path, n: int) -> Path:
    """The app's ZIP: ``WhatsApp Chat with Amina K.txt`` plus the attached photos it names."""
    text = whatsapp_android(n, media="attached")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("WhatsApp Chat with Amina K.txt", text)
        for i in range(n):
            if i % MEDIA_EVERY == 5:
                archive.writestr(f"IMG-2024031{i % 10}-WA{i:04d}.jpg", b"\xff\xd8\xff" + bytes(16))
    return path


def telegram(n: int, *, full: bool = False) -> str:
    """Telegram Desktop ``result.json``: entities, replies, forwards, photos, a service message."""
    messages: list[dict[str, object]] = [{
        "id": 1, "type": "service", "date": START.isoformat(), "actor": PEOPLE[0], "actor_id": "user101",
        "action": "create_group", "title": "work", "text": "",
    }]
    for i, when in enumerate(times(n)):
        item: dict[str, object] = {
            "id": i + 2, "type": "message", "date": when.isoformat(),
            "date_unixtime": str(int(when.replace(tzinfo=UTC).timestamp())),
            "from": PEOPLE[i % 2], "from_id": f"user{101 + i % 2}",
            "text": ["see ", {"type": "link", "text": "https://example.org/job"}, f" {body(i)}"]
            if i % 5 == 0 else body(i),
        }
        if i % MEDIA_EVERY == 5:
            item["photo"] = f"photos/photo_{i}@14-03-2024_21-05-00.jpg"
        if i % 13 == 4:
            item["reply_to_message_id"] = i + 1
        if i % 17 == 6:
            item["forwarded_from"] = "Job offers channel"
        messages.append(item)
    chat = {"name": "work", "type": "private_group", "id": 4242, "messages": messages}
    document = {"about": "Telegram Desktop export", "chats": {"about": "", "list": [chat]}} if full else chat
    return json.dumps(document, ensure_ascii=False, indent=1)


def leapp_zip(path: Path, n: int) -> Path:
    """An xLEAPP ``_TSV Exports`` folder zipped: SMS messages, contacts, call logs."""
    numbers = ("+33612345678", "+33698765432")
    rows = ["Message Timestamp (UTC)\tMessage\tFrom\tTo\tThread ID\tAttachment Name"]
    for i, when in enumerate(times(n)):
        text = body(i).replace("\n", " ")
        attachment = f"IMG_{i:04d}.HEIC" if i % MEDIA_EVERY == 5 else ""
        rows.append(f"{when:%Y-%m-%d %H:%M:%S}\t{text}\t{numbers[i % 2]}\t{numbers[1 - i % 2]}\t7\t{attachment}")
    contacts = ["Name\tPhone Number", f"Amina K\t{numbers[0]}", f"Recruiter\t{numbers[1]}"]
    calls = ["Call Date (UTC)\tPhone Number\tCall Type\tDuration",
             f"{START:%Y-%m-%d %H:%M:%S}\t{numbers[1]}\tIncoming\t00:02:13"]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_TSV Exports/SMS messages.tsv", "\n".join(rows) + "\n")
        archive.writestr("_TSV Exports/Contacts.tsv", "\n".join(contacts) + "\n")
        archive.writestr("_TSV Exports/Call logs.tsv", "\n".join(calls) + "\n")
    return path


def messages_csv(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "sender", "recipient", "thread", "text", "attachment"])
        for i, when in enumerate(times(n)):
            writer.writerow([when.isoformat(), PEOPLE[i % 2], PEOPLE[1 - i % 2], "t1", body(i),
                             f"doc_{i}.pdf" if i % MEDIA_EVERY == 5 else ""])
    return path
