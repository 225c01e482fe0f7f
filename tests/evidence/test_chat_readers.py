"""Acceptance: every chat format, written as the app or tool writes it, is read exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.evidence import chat_exports as ex
from tipsom.core.errors import ConfigError, InputError
from tipsom.evidence.chats.reading import DateOrder, ReadOptions, read_chat
from tipsom.evidence.chats.records import AttachmentState, ChatFormat, Message, MessageKind

N = 240
PARIS = ReadOptions(timezone="Europe/Paris")


def _first_last(n: int, zone: str = "Europe/Paris") -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    return ex.START.replace(tzinfo=tz), (ex.START + timedelta(minutes=n - 1)).replace(tzinfo=tz)


def _text_messages(export_messages: list[Message]) -> list[Message]:
    return [m for m in export_messages if m.kind is MessageKind.TEXT]


@pytest.mark.parametrize(("layout", "twelve_hour", "order"), [
    ("android", False, "dmy"), ("android", True, "mdy"), ("android", False, "ymd"), ("ios", True, "dmy"),
    ("ios", False, "dmy"),
])
def test_whatsapp_layouts(tmp_path: Path, layout: str, twelve_hour: bool, order: str) -> None:
    text = (ex.whatsapp_android(N, twelve_hour=twelve_hour, order=order) if layout == "android"
            else ex.whatsapp_ios(N, twelve_hour=twelve_hour))
    path = tmp_path / "WhatsApp Chat with Amina K.txt"
    path.write_text(text, encoding="utf-8")
    export = read_chat(path, ChatFormat.AUTO, PARIS)
    assert export.format is ChatFormat.WHATSAPP
    messages = _text_messages(export.messages)
    assert len(messages) == N
    assert len(export.messages) == N + 1  # the encryption notice is a system message without author
    assert export.messages[0].sender is None
    assert export.messages[0].kind is MessageKind.SYSTEM
    assert [p.name for p in export.participants] == list(ex.PEOPLE)
    assert export.participants[1].phone == "+33612345678"
    first, last = _first_last(N)
    assert (messages[0].sent_at, messages[-1].sent_at) == (first, last)
    assert messages[3].text == ex.body(3)  # a three-line message keeps its lines
    assert sum(len(m.attachments) for m in messages) == len(range(5, N, ex.MEDIA_EVERY))
    assert any(order in a for a in export.assumptions)
    assert "Europe/Paris" in " ".join(export.assumptions)


def test_ambiguous_dates_follow_the_option_or_the_locale(tmp_path: Path) -> None:
    start = datetime(2024, 3, 4, 9, 0)
    path = tmp_path / "chat.txt"
    path.write_text(ex.whatsapp_android(20, order="dmy", start=start), encoding="utf-8")
    as_dmy = read_chat(path, options=ReadOptions())
    assert as_dmy.messages[1].sent_at == start.replace(tzinfo=ZoneInfo("UTC"))
    assert "no date in the file decides" in " ".join(as_dmy.assumptions)
    as_mdy = read_chat(path, options=ReadOptions(date_order=DateOrder.MDY))
    assert as_mdy.messages[1].sent_at.month == 4
    assert as_mdy.messages[1].sent_at.day == 3
    us = read_chat(path, options=ReadOptions(region="US"))
    assert us.messages[1].sent_at.month == 4
    assert "mdy" in " ".join(us.assumptions)


def test_whatsapp_zip_with_media(tmp_path: Path) -> None:
    export = read_chat(ex.whatsapp_zip(tmp_path / "WhatsApp Chat - Amina K.zip", N), options=PARIS)
    assert len(_text_messages(export.messages)) == N
    states = {a.state for m in export.messages for a in m.attachments}
    assert states == {AttachmentState.INCLUDED}
    assert export.threads[0].title == "Amina K"


@pytest.mark.parametrize("full", [False, True])
def test_telegram(tmp_path: Path, full: bool) -> None:
    path = tmp_path / "result.json"
    path.write_text(ex.telegram(N, full=full), encoding="utf-8")
    export = read_chat(path, options=PARIS)
    messages = _text_messages(export.messages)
    assert len(messages) == N
    assert len(export.messages) == N + 1
    assert len(export.participants) == 2
    assert export.participants[0].key == "user101"
    first, last = _first_last(N, "UTC")  # date_unixtime wins over the assumed zone
    assert (messages[0].sent_at, messages[-1].sent_at) == (first, last)
    assert messages[0].text.startswith("see https://example.org/job")
    assert messages[4].reply_to == "5"
    assert messages[6].forwarded_from == "Job offers channel"
    assert sum(len(m.attachments) for m in messages) == len(range(5, N, ex.MEDIA_EVERY))
    assert export.messages[0].kind is MessageKind.SYSTEM
    assert export.messages[0].sender == "user101"


def test_telegram_without_unixtime_uses_the_zone(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(ex.telegram(3).replace('"date_unixtime"', '"unused"'), encoding="utf-8")
    export = read_chat(path, options=PARIS)
    assert export.messages[1].sent_at == ex.START.replace(tzinfo=ZoneInfo("Europe/Paris"))
    assert "Europe/Paris" in export.assumptions[0]


def test_leapp_report(tmp_path: Path) -> None:
    export = read_chat(ex.leapp_zip(tmp_path / "aleapp_tsv.zip", N), options=PARIS)
    texts = [m for m in export.messages if m.kind is MessageKind.TEXT]
    calls = [m for m in export.messages if m.kind is MessageKind.CALL]
    assert len(texts) == N
    assert len(calls) == 1
    assert calls[0].text == "Incoming call 00:02:13"
    assert {p.name for p in export.participants} == {"Amina K", "Recruiter"}  # named from Contacts.tsv
    first, last = _first_last(N, "UTC")  # the column title says UTC
    assert (texts[0].sent_at, texts[-1].sent_at) == (first, last)
    assert sum(len(m.attachments) for m in texts) == len(range(5, N, ex.MEDIA_EVERY))


def test_generic_csv(tmp_path: Path) -> None:
    export = read_chat(ex.messages_csv(tmp_path / "messages.csv", N), options=PARIS)
    assert len(export.messages) == N
    assert len(export.participants) == 2
    first, last = _first_last(N)
    assert (export.messages[0].sent_at, export.messages[-1].sent_at) == (first, last)
    assert export.messages[3].text == ex.body(3)
    assert export.messages[0].recipient == ex.PEOPLE[1]
    assert export.attachments == len(range(5, N, ex.MEDIA_EVERY))


@pytest.mark.parametrize(("name", "content", "where"), [
    ("chat.txt", "14/03/2024, 21:05 - A: hi\n14/03/2024, 21:0x - B: broken\n", "row 2"),
    ("chat.txt", "14/03/2024, 21:05 - A: hi\n31/02/2024, 21:06 - B: no such day\n", "row 2"),
    ("chat.txt", "14/03/2024, 21:05 - A: hi\nrest of it\n\x00\x01binary\n", "row 3"),
    ("chat.txt", "garbage first line\n14/03/2024, 21:05 - A: hi\n", "row 1"),
    ("result.json", '{"name": "x", "messages": [{"id": 1, "date": "2024-03-14T21:05:00", "text": "a"},', "row 1"),
    ("result.json", '{"name": "x", "messages": [{"id": 1, "text": "a"}]}', "messages[0]"),
    ("messages.csv", "timestamp,sender,text\nyesterday,A,hi\n", "row 2"),
])
def test_unreadable_exports_name_where(tmp_path: Path, name: str, content: str, where: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(where)):
        read_chat(path, options=PARIS)


def test_bad_zone_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(ex.whatsapp_android(3), encoding="utf-8")
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        read_chat(path, options=ReadOptions(timezone="Mars/Olympus"))
    assert read_chat(path).messages[1].sent_at.tzinfo is not None
    assert read_chat(path).messages[1].sent_at == ex.START.replace(tzinfo=UTC)


def test_crlf_and_byte_order_mark_do_not_change_the_reading(tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text(ex.whatsapp_android(30), encoding="utf-8")
    windows = tmp_path / "windows.txt"
    windows.write_bytes(b"\xef\xbb\xbf" + ex.whatsapp_android(30).replace("\n", "\r\n").encode())
    assert read_chat(windows, options=PARIS).messages == read_chat(plain, options=PARIS).messages
