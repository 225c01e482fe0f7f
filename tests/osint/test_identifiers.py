"""Emails, URLs, handles, prices and ages, including their disguised forms."""

from __future__ import annotations

from tipsom.core.identifiers import IdentifierKind
from tipsom.core.selectors import find_identifiers
from tipsom.core.textnorm import normalise_text, strip_html
from tipsom.osint.identifiers import find_ages, find_prices


def values(text: str, kind: IdentifierKind) -> list[str]:
    return [i.value for i in find_identifiers(normalise_text(text), ["US"]) if i.kind is kind]


def test_emails_plain_and_obfuscated() -> None:
    text = "write to Bob@Mail.ru or anna (at) gmail (dot) com or lea [at] proton [dot] me or sam at yahoo dot fr"
    assert values(text, IdentifierKind.EMAIL) == ["bob@mail.ru", "anna@gmail.com", "lea@proton.me", "sam@yahoo.fr"]


def test_defanged_urls_are_refanged() -> None:
    text = "pics at hxxps://Photos.Example[.]com/a/1, also www[.]escorts.example/x and https://ok.example/p."
    assert values(text, IdentifierKind.URL) == [
        "https://photos.example.com/a/1", "http://www.escorts.example/x", "https://ok.example/p"]


def test_messaging_links_and_handles() -> None:
    text = "t.me/Sweet_Anna or Telegram: @sweet_anna, snap: bunny.22, kik - lola99, IG @lola.vip, and @freehandle"
    assert values(text, IdentifierKind.HANDLE) == [
        "telegram:sweet_anna", "telegram:sweet_anna", "snapchat:bunny.22", "kik:lola99", "instagram:lola.vip",
        "unspecified:freehandle"]


def test_prices_with_currencies_and_code_words() -> None:
    text = normalise_text("200 roses/hr, $150 special, 80€ quick, 5000 руб, 1.500 euros, 2k USD")
    found = [(p.amount, p.currency) for p in find_prices(text, ["US"])]
    assert found == [(200.0, "USD"), (150.0, "USD"), (80.0, "EUR"), (5000.0, "RUB"), (1500.0, "EUR"),
                     (2000.0, "USD")]


def test_dollar_sign_follows_the_region() -> None:
    assert find_prices("Tarifa $500", ["MX"])[0].currency == "MXN"


def test_stated_ages_in_five_languages() -> None:
    text = normalise_text("I'm 19, 22 años, j'ai 20 ans, мне 21 год, عمري ٢٣, age: 17")
    assert [a.years for a in find_ages(text)] == [19, 22, 20, 21, 23, 17]


def test_html_is_stripped_with_scripts_and_entities() -> None:
    raw = "<html><head><style>p{}</style></head><body><p>Hi&nbsp;there</p><script>x=1</script>bye</body></html>"
    assert normalise_text(raw) == "Hi there\nbye"
    assert "x=1" not in strip_html(raw)


def test_nfkc_folds_fullwidth_and_circled_digits() -> None:
    assert normalise_text("９１７ ①②③") == "917 123"
