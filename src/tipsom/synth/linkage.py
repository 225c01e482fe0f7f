"""Seeded agency lists of synthetic people with a known linkage truth.

Each synthetic person may be identified by several agencies (police, NGOs,
labour inspectors...). Every identification becomes a record written the way
that agency would write it: names with typing errors or a different
transliteration (Mohammed / Muhammad / Mohamed, Olena / Elena / Yelena), a
date of birth sometimes missing and replaced by an approximate age, the day
and month sometimes swapped. ``person_id`` is the truth the linkage is scored
against; it is never given to the linker. Nobody here is real.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

#: Transliteration families: every spelling in a tuple names the same person.
GIVEN_NAMES: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohamed", "Mohamad"), ("Ahmed", "Ahmad", "Akhmed"),
    ("Olena", "Elena", "Yelena", "Alena"), ("Oleksandr", "Aleksandr", "Alexander", "Olexandr"),
    ("Yusuf", "Youssef", "Yousef", "Jusuf"), ("Fatima", "Fatma", "Fatimah"),
    ("Aisha", "Ayesha", "Aysha"), ("Nguyen", "Nguyễn"), ("Svetlana", "Swetlana"),
    ("Natalia", "Natalya", "Nataliya"), ("Dmitri", "Dmitry", "Dmytro"), ("Iryna", "Irina", "Irena"),
    ("Hussein", "Husein", "Hussain", "Husain"), ("Ibrahim", "Ebrahim", "Ibraheem"),
    ("Mariam", "Maryam", "Miriam"), ("Khadija", "Khadijah", "Hadiza"), ("Grace",), ("Blessing",),
    ("Precious",), ("Joy",), ("Chinwe", "Chinwe"), ("Amina", "Aminah"), ("Samuel",), ("Daniel",),
    ("Ana", "Anna"), ("Maria",), ("Elena",), ("Mihai",), ("Ioana",), ("Andrei", "Andrey"),
    ("Tetiana", "Tatiana", "Tatyana"), ("Yuliia", "Yulia", "Julia"), ("Sergii", "Sergey", "Serhiy"),
    ("Thi Lan",), ("Van Minh",), ("Mai",), ("Linh",), ("Somchai",), ("Siriporn",), ("Kofi",),
    ("Abena",), ("Esther",), ("Ruth",), ("Omar", "Umar"), ("Karim", "Kareem"), ("Layla", "Leila", "Laila"),
    ("Zainab", "Zaynab", "Zeynep"), ("Bilal",), ("Hamza", "Hamzah"), ("Nadia", "Nadiya"),
)
FAMILY_NAMES: tuple[tuple[str, ...], ...] = (
    ("Abdullahi", "Abdallah", "Abdulahi"), ("Okafor",), ("Adeyemi",), ("Mensah",), ("Boateng",),
    ("Kovalenko", "Kowalenko"), ("Shevchenko", "Schewtschenko", "Ševčenko"), ("Bondarenko",),
    ("Tkachenko", "Tkatschenko"), ("Ivanova", "Ivanova"), ("Petrova",), ("Popescu",), ("Ionescu",),
    ("Nguyen", "Nguyễn", "Ngyuen"), ("Tran", "Trần"), ("Pham", "Phạm"), ("Le", "Lê"), ("Hoang", "Hoàng"),
    ("Al-Hassan", "Alhassan", "El Hassan"), ("Haddad", "Hadad"), ("Khalil", "Halil"),
    ("Mahmoud", "Mahmud", "Mahmood"), ("Rahman", "Rehman"), ("Hussain", "Hussein", "Husain"),
    ("Yilmaz", "Yılmaz"), ("Demir",), ("Kaya",), ("Suleiman", "Sulaiman", "Suleyman"),
    ("Osei",), ("Owusu",), ("Eze",), ("Nwosu",), ("Chukwu",), ("Balogun",), ("Diallo",), ("Traore", "Traoré"),
    ("Kone", "Koné"), ("Camara",), ("Sow",), ("Ba",), ("Garcia", "García"), ("Rodriguez", "Rodríguez"),
    ("Santos",), ("Silva",), ("Kumar",), ("Singh",), ("Begum",), ("Akter", "Akhter"), ("Islam",),
    ("Sokolova",), ("Morozova",), ("Volkova", "Wolkowa"), ("Lebedeva",), ("Novak", "Nowak"),
    ("Horvat",), ("Kowalski",), ("Wisniewska", "Wiśniewska"), ("Melnyk", "Melnik"), ("Kravets", "Kravec"),
)
CITIZENSHIPS = ("NGA", "UKR", "VNM", "ROU", "ALB", "ERI", "SYR", "AFG", "GHA", "PHL", "THA", "MDA", "SDN",
                "IRQ")
REGIONS = ("North", "South", "East", "West", "Capital")
#: Syllables of generated family names: large populations need more names than the lists above.
SYLLABLES = ("ba", "ko", "ne", "ri", "sa", "tu", "mi", "lo", "da", "ve", "shi", "an", "or", "el", "ka", "zu",
             "pe", "ho", "ya", "gu", "ren", "dim", "tal", "bor")
#: Above this many persons, one extra family name is generated per this many persons.
PERSONS_PER_EXTRA_NAME = 40
AGENCIES = ("police", "ngo_shelter", "labour_inspection", "border_guard", "health", "immigration")


@dataclass(frozen=True)
class LinkageRecord:
    """One agency's record of one identification."""

    record_id: str
    list_name: str
    person_id: int
    given_name: str
    family_name: str
    birth_date: str | None
    age: int | None
    sex: str
    citizenship: str | None
    region: str
    year: int


def _typo(name: str, rng: np.random.Generator) -> str:
    if len(name) < 3:
        return name
    i = int(rng.integers(1, len(name) - 1))
    kind = int(rng.integers(4))
    letter = str(rng.choice(list(string.ascii_lowercase)))
    if kind == 0:  # substitution
        return name[:i] + letter + name[i + 1 :]
    if kind == 1:  # deletion
        return name[:i] + name[i + 1 :]
    if kind == 2:  # insertion
        return name[:i] + letter + name[i:]
    return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]  # transposition


def _variant(family: tuple[str, ...], canonical: int, rng: np.random.Generator, p: float) -> str:
    if len(family) > 1 and rng.random() < p:
        return family[int(rng.integers(len(family)))]
    return family[canonical]


def _generated_families(n: int, rng: np.random.Generator) -> tuple[tuple[str, ...], ...]:
    """``n`` distinct invented family names, each with a second spelling (c/k, doubled letter)."""
    if n <= 0:
        return ()
    seen: dict[str, None] = {}
    while len(seen) < n:
        parts = rng.choice(SYLLABLES, size=int(rng.integers(2, 5)))
        seen.setdefault("".join(str(p) for p in parts).capitalize(), None)
    out = []
    for name in seen:
        alt = name.replace("k", "c", 1) if "k" in name else name[:2] + name[1] + name[2:]
        out.append((name, alt))
    return tuple(out)


def generate(
    persons: int = 2000,
    lists: int = 4,
    seed: int = 0,
    *,
    capture: tuple[float, ...] | None = None,
    typo_rate: float = 0.15,
    variant_rate: float = 0.3,
    missing_dob_rate: float = 0.15,
) -> list[LinkageRecord]:
    """Records of ``persons`` synthetic people across ``lists`` agencies.

    ``capture[i]`` is the chance that agency ``i`` identifies a person (people
    on no list are the dark figure and produce no record). Defaults give
    sparse, unequal lists like real ones.
    """
    if not 2 <= lists <= len(AGENCIES):
        raise ValueError(f"lists must be between 2 and {len(AGENCIES)}")
    rng = np.random.default_rng(seed)
    probs = capture or tuple(float(p) for p in np.linspace(0.35, 0.1, lists))
    if len(probs) != lists:
        raise ValueError("capture needs one probability per list")
    families = FAMILY_NAMES + _generated_families(persons // PERSONS_PER_EXTRA_NAME, rng)
    records: list[LinkageRecord] = []
    epoch = date(1960, 1, 1)
    for pid in range(persons):
        g = int(rng.integers(len(GIVEN_NAMES)))
        f = int(rng.integers(len(families)))
        g_can = int(rng.integers(len(GIVEN_NAMES[g])))
        f_can = int(rng.integers(len(families[f])))
        dob = epoch + timedelta(days=int(rng.integers(0, 365 * 50)))
        sex = "F" if rng.random() < 0.6 else "M"
        citizenship = str(rng.choice(CITIZENSHIPS))
        region = str(rng.choice(REGIONS))
        year = int(rng.integers(2019, 2024))
        # a person's visibility varies: heterogeneity makes the problem realistic
        visibility = float(rng.gamma(4.0, 0.25))
        for li in range(lists):
            if rng.random() >= min(0.95, probs[li] * visibility):
                continue
            given = _variant(GIVEN_NAMES[g], g_can, rng, variant_rate)
            family = _variant(families[f], f_can, rng, variant_rate)
            if rng.random() < typo_rate:
                given = _typo(given, rng)
            if rng.random() < typo_rate:
                family = _typo(family, rng)
            birth: str | None = dob.isoformat()
            age: int | None = None
            if rng.random() < missing_dob_rate:
                birth = None
                age = year - dob.year + int(rng.integers(-1, 2))
            elif rng.random() < 0.05 and dob.day <= 12:
                birth = date(dob.year, dob.day, dob.month).isoformat()
            records.append(
                LinkageRecord(
                    record_id=f"{AGENCIES[li]}-{len(records):07d}",
                    list_name=AGENCIES[li],
                    person_id=pid,
                    given_name=given,
                    family_name=family,
                    birth_date=birth,
                    age=age,
                    sex=sex,
                    citizenship=None if rng.random() < 0.05 else citizenship,
                    region=region,
                    year=year,
                )
            )
    return records
