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
rebuilds those of persons whose row changed, was added or removed. Searching
refreshes first, so an existing store is indexed on its first name search
after the upgrade, and again, under the new key, after ``tipsom key rotate``
(which changes every row hash).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, delete, exc, func, insert, or_, select

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
                          name_search_person.c.row_hash != persons.c[ROW_HASH])))
    try:
        with store.begin() as conn:
            stale = conn.execute(stale_q).all()
            missing = sum(1 for r in stale if r.indexed is None)
            n_persons = conn.scalar(select(func.count()).select_from(persons)) or 0
            n_indexed = conn.scalar(select(func.count()).select_from(name_search_person)) or 0
            removed = 0
            if n_indexed > n_persons - missing:  # some indexed persons are gone
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
                stamps: list[dict[str, str]] = []
                for row in chunk:
                    m = row._mapping
                    names = [cipher.open(f, m[f"{f}_enc"]) for f in fields if m[f"{f}_enc"] is not None]
                    tokens.extend({"person_key": row[0], "token": t} for t in person_tokens(cipher, names))
                    stamps.append({"person_key": row[0], "row_hash": row[1]})
                if tokens:
                    conn.execute(insert(name_search_token), tokens)
                conn.execute(insert(name_search_person), stamps)
            audit.record(conn, actor=actor, action=audit.AuditAction.READ, entity="person",
                         purpose="name search index",
                         detail={"fields": fields, "persons_indexed": len(stale), "persons_removed": removed})
    except exc.IntegrityError:
        return 0
    return len(stale) + removed


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
