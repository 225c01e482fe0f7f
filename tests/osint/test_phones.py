"""Phone extraction through every obfuscation the issue lists, in each language."""

from __future__ import annotations

import pytest

from tipsom.core.identifiers import IdentifierKind
from tipsom.core.selectors import find_identifiers
from tipsom.core.textnorm import normalise_text
from tipsom.osint.places import gazetteer, region_hints


def phones(text: str, regions: list[str]) -> list[str]:
    norm = normalise_text(text)
    return [i.value for i in find_identifiers(norm, regions) if i.kind is IdentifierKind.PHONE]


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        # English: spelled out, "oh" for zero, look-alike letters, spaced, dotted, emoji-separated
        ("Call me: nine one seven five five five zero one two three", "US", "+19175550123"),
        ("text nine one seven five five five oh one two three", "US", "+19175550123"),
        ("9l7-555-Ol23 ask for Kim", "US", "+19175550123"),
        ("my number 9 1 7 5 5 5 0 1 2 3", "US", "+19175550123"),
        ("917.555.0123 anytime", "US", "+19175550123"),
        ("9 1 7 ➖ 5 5 5 ➖ 0 1 2 3", "US", "+19175550123"),
        ("917💋555💋0123", "US", "+19175550123"),
        ("9️⃣1️⃣7️⃣5️⃣5️⃣5️⃣0️⃣1️⃣2️⃣3️⃣", "US", "+19175550123"),
        # Spanish
        ("llámame: seis uno dos tres cuatro cinco seis siete ocho", "ES", "+34612345678"),
        ("whatsapp 6 1 2 ➖ 3 4 5 ➖ 6 7 8", "ES", "+34612345678"),
        # French
        ("appelle zéro six un deux trois quatre cinq six sept huit", "FR", "+33612345678"),
        ("tel 06.12.34.56.78 bisous", "FR", "+33612345678"),
        ("tél o6 l2 34 56 78", "FR", "+33612345678"),
        # Arabic: spelled out, Arabic-Indic digits
        ("اتصل صفر خمسة صفر واحد اثنان ثلاثة أربعة خمسة ستة سبعة", "AE", "+971501234567"),
        ("للتواصل ٠٥٠١٢٣٤٥٦٧", "AE", "+971501234567"),
        # Persian (Extended Arabic-Indic) digits
        ("تماس ۰۹۱۲۳۴۵۶۷۸۹", "IR", "+989123456789"),
        # Russian text with an international number in disguise
        ("звони +7 9 1 6 ➖ 1 2 3 ➖ 4 5 ➖ 6 7", "RU", "+79161234567"),
    ],
)
def test_obfuscated_phone_is_extracted(text: str, region: str, expected: str) -> None:
    assert phones(text, [region]) == [expected]


def test_region_hint_comes_from_the_ads_location() -> None:
    norm = normalise_text("Nouvelle en ville, appelle 06 12 34 56 78")
    hints = region_hints("Lyon, France", gazetteer().find(norm))
    assert hints[0] == "FR"
    assert phones("Nouvelle en ville, appelle 06 12 34 56 78", hints) == ["+33612345678"]


def test_national_number_without_any_hint_is_not_guessed() -> None:
    assert phones("call 06 12 34 56 78", []) == []


def test_digit_run_inside_ethereum_address_is_not_a_phone() -> None:
    # The address holds the 10-digit run 9175550123, which is a valid US number on its own.
    text = "send deposit to 0x9175550123aBcDeF0123456789abcdef01234567 then call"
    assert phones(text, ["US"]) == []
    assert phones("9175550123", ["US"]) == ["+19175550123"]


def test_two_numbers_written_back_to_back_are_split() -> None:
    assert phones("917-555-0123 646-555-0199", ["US"]) == ["+19175550123", "+16465550199"]


def test_number_inside_a_url_is_not_a_phone() -> None:
    assert phones("see https://ads.example/9175550123/photos", ["US"]) == []


def test_wa_me_link_gives_the_phone() -> None:
    norm = normalise_text("WhatsApp wa.me/447911123456")
    found = find_identifiers(norm, [])
    assert [(i.kind, i.value, i.detail) for i in found] == [(IdentifierKind.PHONE, "+447911123456", "whatsapp")]


def test_spelled_number_after_a_service_name_is_not_a_handle() -> None:
    norm = normalise_text("WhatsApp: two zero one five five five zero one two three")
    kinds = [(i.kind, i.value) for i in find_identifiers(norm, ["US"])]
    assert kinds == [(IdentifierKind.PHONE, "+12015550123")]


def test_disguise_is_flagged_and_plain_numbers_are_not() -> None:
    norm = normalise_text("call +1 (917) 555-0123 or nine one seven five five five zero one nine nine")
    found = [i for i in find_identifiers(norm, ["US"]) if i.kind is IdentifierKind.PHONE]
    assert [i.obfuscated for i in found] == [False, True]
    assert norm[found[1].start : found[1].end].startswith("nine")
