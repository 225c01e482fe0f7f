"""Partial, accent-insensitive name search without clear names in the database.

Names are stored encrypted, with one keyed pseudonym of the whole name for
exact matching. A caseworker searching for "jose" must also find "José
Martínez", and "mar" must find "María", so each name word is normalised
(NFKD, accents dropped, case-folded, the same canonical form as the
pseudonyms) and a keyed hash (HMAC under the store's pseudonym key, a
domain of its own) of the word and of each of its prefixes of at least
:data:`MIN_PREFIX` characters is indexed. A query word is hashed the same way
and looked up; a person matches when every query word matches one of their
tokens. The database never holds a name or a fragment of one in clear, and the
hashes are useless without the data key.

The index is derived from the stored ciphertext, whatever wrote it (an import,
the web form, a key rotation, a retention erasure): each person's tokens are
stamped with the row hash they were built from, and :func:`refresh_name_index`
rebuilds those of persons whose row changed, was added or removed, or whose
names were emptied (an erasure) even where the row hash was left as it was. Searching
refreshes first, so an existing store is indexed on its first name search
after the upgrade, and again, under the new key, after ``tipsom key rotate``
(which changes every row hash).

The same keyed values point at possible duplicates of a case's persons in
other cases (:func:`possible_duplicates`), again without decrypting anything.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, delete, exc, func, insert, or_, select

from tipsom.store import audit
from tipsom.store.crypto import FieldCipher, normalise
from tipsom.store.db import Store
from tipsom.store.tables import PERSON_KEY, REGISTRY, ROW_HASH, name_search_person, name_search_token

#: Shortest prefix indexed: two letters would match a large part of any population.
MIN_PREFIX = 3
#: Longest prefix indexed; longer query words are cut to it (a word this long is nearly unique already).
MAX_PREFIX = 12
#: Domain of the token hashes, so a token never equals a whole-name pseudonym.
TOKEN_KIND = "name_token"
#: The pseudonym kind of the fields whose words are indexed (given and family names).
NAME_KIND = "name"
#: Persons rebuilt per statement batch.
CHUNK = 2000


def name_words(text: str) -> list[str]:
    """The words of a name in the canonical form pseudonyms use (no accents, case-folded)."""
    return normalise(NAME_KIND, text).split()


def word_prefixes(word: str) -> list[str]:
    """What is indexed for one word: a short word whole, a longer one by its prefixes."""
    if len(word) < MIN_PREFIX:
        return [word]
    return [word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)]


def _token(cipher: FieldCipher, fragment: str) -> str:
    token = cipher.pseudonym(TOKEN_KIND, fragment)
    if token is None:  # a fragment is never empty: it comes from a non-empty word
        raise AssertionError("empty name fragment")
    return token


def person_tokens(cipher: FieldCipher, names: Iterable[str]) -> set[str]:
    """The keyed tokens of a person's names (every word and its prefixes)."""
    return {_token(cipher, p) for name in names for word in name_words(name) for p in word_prefixes(word)}


def query_tokens(cipher: FieldCipher, query: str) -> set[str]:
    """One token per query word; a word longer than :data:`MAX_PREFIX` is cut to its indexed prefix."""
    return {_token(cipher, word[:MAX_PREFIX]) for word in name_words(query)}


def refresh_name_index(store: Store, *, actor: str) -> int:
    """Rebuild the tokens of persons added, changed or removed since they were indexed; returns how many.

    The names are decrypted to be hashed, so a rebuild that touched anyone
    writes one audit event (the number of persons, never their names). Two
    sessions refreshing at once on PostgreSQL may collide on the same person:
    the loser's transaction is rolled back and the winner's tokens stand.
    """
    persons = REGISTRY["person"]
    fields = [f.name for f in store.model["person"].fields.values() if f.pseudonym == NAME_KIND]
    stale_q = (select(persons.c[PERSON_KEY], persons.c[ROW_HASH], name_search_person.c.row_hash.label("indexed"),
                      *(persons.c[f"{f}_enc"] for f in fields))
               .outerjoin(name_search_person, name_search_person.c.person_key == persons.c[PERSON_KEY])
               .where(or_(name_search_person.c.row_hash.is_(None),
                          name_search_person.c.row_hash != persons.c[ROW_HASH],
                          and_(name_search_person.c.named.is_(True),
                               *(persons.c[f"{f}_enc"].is_(None) for f in fields)))))
    try:
        with store.begin() as conn:
            stale = conn.execute(stale_q).all()
            removed = 0
            if _some_removed(conn, missing=sum(1 for r in stale if r.indexed is None)):
                gone = select(name_search_person.c.person_key).where(
                    name_search_person.c.person_key.not_in(select(persons.c[PERSON_KEY])))
                keys = list(conn.scalars(gone))
                removed = len(keys)
                for i in range(0, len(keys), CHUNK):
                    part = keys[i : i + CHUNK]
                    conn.execute(delete(name_search_token).where(name_search_token.c.person_key.in_(part)))
                    conn.execute(delete(name_search_person).where(name_search_person.c.person_key.in_(part)))
            if not stale:
                return removed
            cipher = store.cipher
            for i in range(0, len(stale), CHUNK):
                chunk = stale[i : i + CHUNK]
                rebuilt = [r[0] for r in chunk]
                conn.execute(delete(name_search_token).where(name_search_token.c.person_key.in_(rebuilt)))
                conn.execute(delete(name_search_person).where(name_search_person.c.person_key.in_(rebuilt)))
                tokens: list[dict[str, str]] = []
                stamps: list[dict[str, Any]] = []
                for row in chunk:
                    m = row._mapping
                    names = [cipher.open(f, m[f"{f}_enc"]) for f in fields if m[f"{f}_enc"] is not None]
                    tokens.extend({"person_key": row[0], "token": t} for t in person_tokens(cipher, names))
                    stamps.append({"person_key": row[0], "row_hash": row[1], "named": bool(names)})
                if tokens:
                    conn.execute(insert(name_search_token), tokens)
                conn.execute(insert(name_search_person), stamps)
            audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="person",
                         purpose="name search index",
                         detail={"fields": fields, "persons_indexed": len(stale), "persons_removed": removed})
    except exc.IntegrityError:
        return 0
    return len(stale) + removed


def _some_removed(conn: Connection, *, missing: int) -> bool:
    """Whether persons indexed earlier are gone (more indexed than present and not yet indexed)."""
    n_persons = conn.scalar(select(func.count()).select_from(REGISTRY["person"])) or 0
    n_indexed = conn.scalar(select(func.count()).select_from(name_search_person)) or 0
    return n_indexed > n_persons - missing


def cases_matching_name(cipher: FieldCipher, query: str) -> Select[tuple[str]] | None:
    """Ids of cases with a person whose names contain every word of ``query`` (as words or word beginnings).

    None when the query has no word. Call :func:`refresh_name_index` first so
    recent changes are found.
    """
    wanted = query_tokens(cipher, query)
    if not wanted:
        return None
    persons = REGISTRY["person"]
    having_all = (select(name_search_token.c.person_key).where(name_search_token.c.token.in_(wanted))
                  .group_by(name_search_token.c.person_key)
                  .having(func.count(name_search_token.c.token.distinct()) == len(wanted)))
    return select(persons.c.case_id).where(persons.c[PERSON_KEY].in_(having_all))


class DuplicateReason(enum.Enum):
    """Why two persons in different cases may be the same person, strongest first.

    Every comparison is between keyed pseudonyms or keyed name tokens, so
    finding duplicates decrypts nothing. A date of birth alone, or a
    citizenship alone, is shared by too many people to be a reason.
    """

    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME_AND_BIRTH_DATE = "name_birth_date"
    NAME_AND_CITIZENSHIP = "name_citizenship"
    BIRTH_DATE_CITIZENSHIP_AND_NAME_WORD = "birth_date_citizenship_name_word"
    NAME = "name"


@dataclass(frozen=True)
class PossibleDuplicate:
    """A person of this case and a person of another case who may be the same."""

    person_id: str
    other_case: str
    other_person: str
    reasons: tuple[DuplicateReason, ...]


#: The pseudonym columns a candidate may share with a person of the case.
_MATCHED = ("pseudo_id_number", "pseudo_phone", "pseudo_name", "pseudo_birth_date")


def _countries(value: str | None) -> set[str]:
    return set(value.split("|")) if value else set()


def _reasons(mine: Any, other: Any, shared_word: bool) -> tuple[DuplicateReason, ...]:
    same = {c: mine[c] is not None and mine[c] == other[c] for c in _MATCHED}
    citizenship = bool(_countries(mine["citizenship"]) & _countries(other["citizenship"]))
    found = []
    if same["pseudo_id_number"]:
        found.append(DuplicateReason.ID_NUMBER)
    if same["pseudo_phone"]:
        found.append(DuplicateReason.PHONE)
    if same["pseudo_name"] and same["pseudo_birth_date"]:
        found.append(DuplicateReason.NAME_AND_BIRTH_DATE)
    elif same["pseudo_name"] and citizenship:
        found.append(DuplicateReason.NAME_AND_CITIZENSHIP)
    elif same["pseudo_name"]:
        found.append(DuplicateReason.NAME)
    elif same["pseudo_birth_date"] and citizenship and shared_word:
        found.append(DuplicateReason.BIRTH_DATE_CITIZENSHIP_AND_NAME_WORD)
    return tuple(found)


def _candidates(conn: Connection, case_id: str, visible: ColumnElement[bool] | None,
                limit: int) -> tuple[list[Any], dict[str, Any]]:
    """The case's persons, and the persons of other visible cases sharing one of their pseudonyms."""
    persons, cases = REGISTRY["person"], REGISTRY["case"]
    wanted = [persons.c.person_id, persons.c[PERSON_KEY], persons.c.citizenship, *(persons.c[c] for c in _MATCHED)]
    mine = [m._mapping for m in conn.execute(select(*wanted).where(persons.c.case_id == case_id))]
    candidates: dict[str, Any] = {}
    for column in _MATCHED:
        values = {m[column] for m in mine} - {None}
        if not values:
            continue
        q = (select(persons.c.case_id, *wanted).join(cases, cases.c.id == persons.c.case_id)
             .where(persons.c[column].in_(values), persons.c.case_id != case_id,
                    *([visible] if visible is not None else [])).limit(limit * 4))
        for row in conn.execute(q):
            candidates[row._mapping[PERSON_KEY]] = row._mapping
    return mine, candidates


def possible_duplicates(conn: Connection, case_id: str, *, visible: ColumnElement[bool] | None = None,
                        limit: int = 50) -> list[PossibleDuplicate]:
    """Persons of other cases who may be persons of ``case_id``, strongest reason first.

    ``visible`` is a condition on the case table: the caller's need-to-know
    (a reader is never told that a case they may not see exists). The
    name-word comparison uses the tokens as last refreshed: every name search
    refreshes them, a case page does not (it would add a decryption to every view).
    """
    mine, candidates = _candidates(conn, case_id, visible, limit)
    if not candidates:
        return []
    keys = [m[PERSON_KEY] for m in mine] + list(candidates)
    words: dict[str, set[str]] = {}
    for key, token in conn.execute(select(name_search_token.c.person_key, name_search_token.c.token)
                                   .where(name_search_token.c.person_key.in_(keys))):
        words.setdefault(key, set()).add(token)
    found = []
    for me in mine:
        for key, other in candidates.items():
            shared = bool(words.get(me[PERSON_KEY], set()) & words.get(key, set()))
            reasons = _reasons(me, other, shared)
            if reasons:
                found.append(PossibleDuplicate(me["person_id"], other["case_id"], other["person_id"], reasons))
    order = list(DuplicateReason)
    found.sort(key=lambda d: (order.index(d.reasons[0]), d.other_case, d.other_person, d.person_id))
    return found[:limit]
