"""Seeded synthetic ads with known ground truth, behind ``tipsom synth ads``.

Real ads describe real people, so tests and benchmarks use generated ones.
Two populations are mixed, because telling them apart is the hard part:

* **organised operations** post one template (their own sentence choices)
  with slots that vary (name, age, city, price), rotate a pool of phones so
  that consecutive ads share one, sometimes add a shared handle, e-mail or
  wallet, move from city to city over time and may post in two languages;
* **independent posters** write look-alike ads from the same vocabulary, and
  some copy sentences from two different operations' templates, but share no
  identifier with anyone.

Phones are drawn from each country's numbering plan (phonenumbers' example
numbers with random subscriber digits, kept only when valid) and written in
the disguises posters use. The truth file gives each ad's operation.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tipsom.core.cells import neutral
from tipsom.core.config import parse_text
from tipsom.core.wallets import base58check_encode

Frames = list[list[list[str]]]


@lru_cache(maxsize=1)
def _banks() -> dict[str, dict[str, Frames]]:
    """Sentence frames per category and language (``osint/data/synthetic_ads.yaml``)."""
    text = resources.files("tipsom.osint").joinpath("data/synthetic_ads.yaml").read_text(encoding="utf-8")
    data = parse_text(text, "synthetic_ads.yaml")
    return {category: data[category] for category in ("sexual", "job", "smuggling")}


# Operations sign their ads with a brand ("Golden Lotus VIP"); posters copy wording, not brands.
_BRAND_WORDS = (
    "Golden", "Silver", "Royal", "Diamond", "Velvet", "Crystal", "Black", "White", "Red", "Blue", "Star",
    "Moon", "Sun", "Ocean", "Desert", "Lotus", "Rose", "Orchid", "Tiger", "Falcon", "Eagle", "Phoenix",
    "Angel", "Queen", "King", "Pearl", "Ruby", "Emerald", "Sapphire", "Amber", "Coral", "Ivory", "Onyx",
    "Jade", "Luna", "Nova", "Aurora", "Bella", "Dolce", "Vita", "Paradise", "Elite", "Prime", "Royalty",
)
_BRAND_KINDS = {"sexual": ["VIP", "Club", "Angels", "Models", "Escorts"], "job": ["Recruitment", "Agency",
                "Staffing", "Careers", "Consulting"], "smuggling": ["Travel", "Tours", "Transport", "Express"]}

_NAMES = ["Anna", "Maria", "Sofia", "Lina", "Nora", "Eva", "Mia", "Lola", "Nina", "Olga", "Katya", "Sara",
          "Amira", "Leila", "Yasmin", "Carla", "Rosa", "Paola", "Chloe", "Julie", "Kim", "Lucy", "Daria",
          "Alina", "Vera", "Rania", "Hana", "Elena", "Ines", "Zoe", "Omar", "Ali", "Karim", "Samir", "Yusuf"]
# Where each (category, language) operates: home region for phones and the cities it tours.
_ROUTES: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("sexual", "en"): ("US", ["New York", "Chicago", "Houston", "Miami", "Atlanta", "Las Vegas", "Dallas",
                              "Phoenix", "Seattle", "Los Angeles"]),
    ("sexual", "es"): ("ES", ["Madrid", "Barcelona", "Valencia", "Malaga"]),
    ("sexual", "fr"): ("FR", ["Paris", "Lyon", "Marseille", "Calais"]),
    ("sexual", "ru"): ("RU", ["Moscow", "Saint Petersburg"]),
    ("job", "en"): ("NG", ["Lagos", "Abuja", "Benin City"]),
    ("job", "es"): ("CO", ["Bogota", "Medellin"]),
    ("job", "ru"): ("UA", ["Kyiv", "Odesa"]),
    ("job", "fr"): ("SN", ["Dakar"]),
    ("smuggling", "ar"): ("LY", ["Tripoli", "Zuwara", "Benghazi", "Sabha"]),
    ("smuggling", "en"): ("TR", ["Istanbul", "Izmir", "Edirne"]),
    ("smuggling", "fr"): ("TN", ["Sfax", "Tunis"]),
    ("smuggling", "ru"): ("BY", ["Minsk"]),
}
_COUNTRY_NAMES = {"US": "USA", "ES": "Spain", "FR": "France", "RU": "Russia", "NG": "Nigeria", "CO": "Colombia",
                  "UA": "Ukraine", "SN": "Senegal", "LY": "Libya", "TR": "Turkey", "TN": "Tunisia",
                  "BY": "Belarus"}
_CATEGORY_MIX = (("sexual", 0.7), ("job", 0.18), ("smuggling", 0.12))
_SPELLED = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
    "fr": ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"],
    "ar": ["صفر", "واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة"],
}
_TRON_VERSION = 0x41
_CALL_WORDS = ("Call", "Tel", "☎", "WhatsApp:", "Tlf")
_SOURCES = {"sexual": "classifieds.example", "job": "jobs.example", "smuggling": "social.example"}


@dataclass
class _Operation:
    op_id: str
    category: str
    languages: list[str]
    template: dict[str, list[str]]  # language -> chosen sentence per frame
    region: str
    cities: list[str]
    phones: list[str]
    handle: str | None
    extra: str | None  # e-mail (recruitment) or wallet (smuggling)
    start: datetime
    size: int
    international: bool


def _choose_template(rng: random.Random, frames: Frames) -> list[str]:
    return [" ".join(rng.choice(part) for part in frame) for frame in frames]


def _valid_number(rng: random.Random, region: str, used: set[str]) -> str:
    """A valid mobile number of ``region`` not in ``used`` (one owner per number, as in the truth)."""
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if example is None:
        raise ValueError(f"no example mobile number for region {region}")
    national = str(example.national_number)
    keep = max(2, len(national) - 7)
    for _ in range(1000):
        candidate = national[:keep] + "".join(rng.choice("0123456789") for _ in range(len(national) - keep))
        number = phonenumbers.parse(f"+{example.country_code}{candidate}")
        e164 = str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
        if e164 not in used and phonenumbers.is_valid_number(number):
            used.add(e164)
            return e164
    raise RuntimeError(f"could not draw a valid {region} number")


def _written_phone(rng: random.Random, e164: str, language: str, international: bool) -> str:
    """The phone as a poster would write it, often disguised."""
    number = phonenumbers.parse(e164)
    fmt = PhoneNumberFormat.INTERNATIONAL if international else PhoneNumberFormat.NATIONAL
    shown = phonenumbers.format_number(number, fmt)
    digits = [ch for ch in shown if ch.isdigit()]
    style = rng.random()
    prefix = "+" if international else ""
    if style < 0.45:
        return shown
    if style < 0.6:
        return prefix + " ".join(digits)
    if style < 0.7:
        return prefix + " ➖ ".join("".join(digits[i:i + 3]) for i in range(0, len(digits), 3))
    if style < 0.8 and language in _SPELLED and not international:
        return " ".join(_SPELLED[language][int(d)] for d in digits)
    if style < 0.9 and language == "ar":
        return prefix + "".join(chr(0x0660 + int(d)) for d in digits)
    if style < 0.95:
        return prefix + "".join({"0": "o", "1": "l"}.get(d, d) if i > 0 else d for i, d in enumerate(digits))
    return prefix + "💋".join("".join(digits[i:i + 3]) for i in range(0, len(digits), 3))


def _fill(rng: random.Random, sentences: list[str], city: str, price: int, drop: bool) -> str:
    chosen = list(sentences)
    if drop and len(chosen) > 3:
        chosen.pop(rng.randrange(1, len(chosen)))
    text = " ".join(chosen)
    return text.format(name=rng.choice(_NAMES), age=rng.randint(18, 29), city=city, price=price)


class AdGenerator:
    """Builds operations and posters from one seed; iterate :meth:`ads` for records."""

    def __init__(self, n: int, seed: int, organised_share: float = 0.6, mean_operation_size: int = 25) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.organised_share = organised_share
        self.mean_size = mean_operation_size
        self.base = datetime(2025, 1, 1, tzinfo=UTC)
        self.operations: list[_Operation] = []
        self.used_phones: set[str] = set()

    def _category(self) -> str:
        r, acc = self.rng.random(), 0.0
        for category, share in _CATEGORY_MIX:
            acc += share
            if r < acc:
                return category
        return _CATEGORY_MIX[-1][0]

    def _operation(self, index: int, size: int) -> _Operation:
        rng = self.rng
        category = self._category()
        languages = list(_banks()[category])
        first = rng.choice(languages)
        langs = [first] + ([rng.choice([lang for lang in languages if lang != first])] if rng.random() < 0.2 else [])
        region, cities = _ROUTES[(category, first)]
        international = category == "smuggling" or rng.random() < 0.2
        pool = max(1, min(6, size // 8 + rng.randint(0, 2)))
        phones = [_valid_number(rng, region, self.used_phones) for _ in range(pool)]
        extra = None
        if category == "job" and rng.random() < 0.5:
            extra = f"{rng.choice(_NAMES).lower()}.{index}{rng.randint(10, 99)}@mail.example"  # unique per operation
        if category == "smuggling" and rng.random() < 0.5:
            extra = base58check_encode(bytes([_TRON_VERSION]) + rng.randbytes(20))
        handle = f"{rng.choice(_NAMES).lower()}_{index}{rng.randint(10, 99)}" if rng.random() < 0.4 else None
        return _Operation(
            op_id=f"op-{index:05d}", category=category, languages=langs,
            template={lang: self._branded(_choose_template(rng, _banks()[category][lang]), category)
                      for lang in langs},
            region=region, cities=rng.sample(cities, k=min(len(cities), rng.randint(1, 4))),
            phones=phones, handle=handle, extra=extra, start=self.base + timedelta(days=rng.randint(0, 300)),
            size=size, international=international,
        )

    def _branded(self, sentences: list[str], category: str) -> list[str]:
        rng = self.rng
        brand = f"{rng.choice(_BRAND_WORDS)} {rng.choice(_BRAND_WORDS)} {rng.choice(_BRAND_KINDS[category])}"
        motto = f"{rng.choice(_BRAND_WORDS).lower()} {rng.choice(_BRAND_WORDS).lower()}"
        return [f"{brand}:", *sentences, f"{brand} {motto}."]

    def _contact(self, phones: list[str], language: str, international: bool, handle: str | None,
                 extra: str | None) -> str:
        rng = self.rng
        parts = [f"{rng.choice(_CALL_WORDS)} {_written_phone(rng, p, language, international)}" for p in phones]
        if handle and rng.random() < 0.6:
            parts.append(f"Telegram @{handle}")
        if extra and rng.random() < 0.7:
            parts.append(extra if "@" in extra else f"USDT {extra}")
        return " ".join(parts)

    def ads(self) -> Iterator[tuple[dict[str, Any], dict[str, str]]]:
        """Yield (ad record, truth row) pairs, ``n`` in all, shuffled by time."""
        rng = self.rng
        organised = int(self.n * self.organised_share)
        sizes: list[int] = []
        while sum(sizes) < organised:
            sizes.append(min(organised - sum(sizes), max(2, int(rng.expovariate(1 / self.mean_size)) + 2)))
        self.operations = [self._operation(i + 1, s) for i, s in enumerate(sizes)]
        records: list[tuple[dict[str, Any], dict[str, str]]] = []
        for op in self.operations:
            for k in range(op.size):
                city = op.cities[min(len(op.cities) - 1, k * len(op.cities) // op.size)]
                pos = k * len(op.phones) // op.size
                used = [op.phones[pos]]
                if pos + 1 < len(op.phones) and rng.random() < 0.4:
                    used.append(op.phones[pos + 1])  # overlap while rotating to the next phone
                lang = op.languages[0] if len(op.languages) == 1 or rng.random() < 0.6 else op.languages[1]
                body = _fill(rng, op.template[lang], city, rng.choice([100, 150, 200, 250, 300, 500, 1500, 3000]),
                             drop=rng.random() < 0.3)
                text = f"{body} {self._contact(used, lang, op.international, op.handle, op.extra)}"
                when = op.start + timedelta(hours=6 * k + rng.randint(0, 5))
                records.append(self._record(text, op.category, city, op.region, when, op.op_id, "organised"))
        for i in range(self.n - organised):
            records.append(self._independent(i + 1))
        rng.shuffle(records)
        for n, (ad, truth) in enumerate(records, start=1):
            ad_id = f"ad-{n:07d}"
            ad["id"], truth["ad_id"] = ad_id, ad_id
            ad["url"] = f"https://{ad['source']}/{ad['location'].split(',')[0].lower().replace(' ', '-')}/{ad_id}"
            yield ad, truth

    def _independent(self, index: int) -> tuple[dict[str, Any], dict[str, str]]:
        rng = self.rng
        category = self._category()
        lang = rng.choice(list(_banks()[category]))
        region, cities = _ROUTES[(category, lang)]
        frames = _banks()[category][lang]
        same_bank = [op for op in self.operations if op.category == category and lang in op.template]
        if len(same_bank) >= 2 and rng.random() < 0.3:
            # A copycat: half of one operation's sentences, half of another's.
            a, b = rng.sample(same_bank, 2)
            sentences = [a.template[lang][i + 1] if i % 2 == 0 else b.template[lang][i + 1] for i in range(len(frames))]
        else:
            sentences = _choose_template(rng, frames)
        city = rng.choice(cities)
        phone = _valid_number(rng, region, self.used_phones)
        body = _fill(rng, sentences, city, rng.choice([80, 120, 150, 200, 400, 2000]), drop=rng.random() < 0.3)
        text = f"{body} {self._contact([phone], lang, rng.random() < 0.3, None, None)}"
        when = self.base + timedelta(days=rng.randint(0, 330), hours=rng.randint(0, 23))
        return self._record(text, category, city, region, when, f"ind-{index:06d}", "independent")

    def _record(self, text: str, category: str, city: str, region: str, when: datetime, owner: str,
                kind: str) -> tuple[dict[str, Any], dict[str, str]]:
        title = text.split(".", maxsplit=1)[0][:80]
        ad = {"id": "", "url": "", "source": _SOURCES[category], "posted_at": when.isoformat(),
              "title": title, "text": text, "location": f"{city}, {_COUNTRY_NAMES[region]}", "price": ""}
        return ad, {"ad_id": "", "operation_id": owner, "kind": kind, "category": category}


def truth_path_for(out: Path) -> Path:
    """Where the truth file goes by default: beside the ads, ``NAME.truth.csv``."""
    return out.with_name(out.name.split(".")[0] + ".truth.csv")


def write_synthetic_ads(out: Path, n: int, seed: int, truth: Path | None = None) -> tuple[Path, Path]:
    """Write ``n`` ads (JSON Lines, or CSV when ``out`` ends in .csv) and the truth file."""
    if n < 1:
        raise ValueError("n must be at least 1")
    truth = truth or truth_path_for(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fields = ["id", "url", "source", "posted_at", "title", "text", "location", "price"]
    as_csv = out.suffix.lower() == ".csv"
    with out.open("w", encoding="utf-8", newline="") as fh, truth.open("w", encoding="utf-8", newline="") as th:
        writer = csv.DictWriter(fh, fieldnames=fields) if as_csv else None
        if writer:
            writer.writeheader()
        truth_writer = csv.DictWriter(th, fieldnames=["ad_id", "operation_id", "kind", "category"])
        truth_writer.writeheader()
        for ad, row in AdGenerator(n, seed).ads():
            if writer:
                writer.writerow({key: neutral(value) if isinstance(value, str) else value for key, value in ad.items()})
            else:
                fh.write(json.dumps(ad, ensure_ascii=False) + "\n")
            truth_writer.writerow(row)
    return out, truth
