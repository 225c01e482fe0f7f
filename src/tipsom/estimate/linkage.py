"""Link records of the same person across agency lists.

Multiple systems estimation counts people, not records: someone identified
by the police and by an NGO must be one row with a 1 in both list columns, and
two different people must never be merged, or the overlaps (and so the dark
figure) are wrong. Two kinds of evidence are combined:

* **exact**: records carrying the same keyed pseudonym (an HMAC the registry
  stores for each identity) are the same person. The pseudonym is compared
  as-is, so nothing is decrypted;
* **probabilistic**: Splink (Fellegi-Sunter, trained without labels) scores
  pairs on names, date of birth or age, sex and citizenship. Names are folded
  to ASCII and reduced to a consonant skeleton, so transliterations such as
  Olena / Yelena or Mohammed / Muhammad block together and still score as
  similar.

Pairs scoring at or above ``threshold`` are links; pairs between
``review_floor`` and ``threshold`` go to a clerical-review queue instead of
being decided by the machine. People are the connected components of the
links.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tipsom.core.engines import Engine, splink_api
from tipsom.core.errors import InputError

DEFAULT_THRESHOLD = 0.8
DEFAULT_REVIEW_FLOOR = 0.5
REQUIRED = ("record_id", "list_name", "given_name", "family_name")
OPTIONAL = ("birth_date", "age", "sex", "citizenship", "pseudonym", "year")


class LinkDecision(enum.Enum):
    EXACT = "exact"
    MATCH = "match"
    REVIEW = "review"


class LinkageInputError(InputError):
    """Records that cannot be linked, with the row and field at fault."""


@dataclass(frozen=True)
class LinkageResult:
    """Who is who: a person id for every record, and the pairs behind it."""

    #: ``record_id`` -> ``person`` (a cluster number).
    persons: pd.Series
    #: Scored pairs at or above the review floor: record_id_l, record_id_r, match_probability, decision.
    pairs: pd.DataFrame

    def review_queue(self) -> pd.DataFrame:
        """Uncertain pairs for a person to decide, most likely matches first."""
        q = self.pairs[self.pairs["decision"] == LinkDecision.REVIEW.value]
        return q.sort_values("match_probability", ascending=False).reset_index(drop=True)


_SKELETON_RULES = (("kh", "h"), ("ph", "f"), ("x", "ks"), ("w", "v"), ("j", "y"), ("q", "k"), ("ck", "k"))


def fold(name: object) -> str:
    """Lower-case ASCII letters only: 'Ševčenko' -> 'sevcenko', 'Al-Hassan' -> 'alhassan'."""
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z]", "", text)


def skeleton(name: object) -> str:
    """Consonants after common transliteration rewrites, doubled letters collapsed.

    Olena, Elena, Yelena and Alena all give 'ln'; Mohammed, Muhammad and
    Mohamed give 'mhmd'. Used for blocking and as a comparison level.
    """
    text = fold(name)
    for old, new in _SKELETON_RULES:
        text = text.replace(old, new)
    text = re.sub(r"[aeiouy]", "", text)
    return re.sub(r"(.)\1+", r"\1", text)


def prepare(records: pd.DataFrame, source: str = "records") -> pd.DataFrame:
    """Validate and add the derived columns the linkage model compares."""
    missing = [c for c in REQUIRED if c not in records.columns]
    if missing:
        raise LinkageInputError(f"{source}: missing columns {missing}")
    df = records.copy()
    for col in OPTIONAL:
        if col not in df.columns:
            df[col] = None
    dup = df["record_id"].duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise LinkageInputError(
            f"{source}: row {row + 1}: field 'record_id': duplicate id {df['record_id'].iloc[row]!r}")
    for col in ("record_id", "list_name"):
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise LinkageInputError(f"{source}: row {row + 1}: field '{col}': empty")
    df["record_id"] = df["record_id"].astype(str)
    df["unique_id"] = df["record_id"]
    df["given_fold"] = df["given_name"].map(fold)
    df["family_fold"] = df["family_name"].map(fold)
    df["given_skel"] = df["given_name"].map(skeleton)
    df["family_skel"] = df["family_name"].map(skeleton)
    df["family_initial"] = df["family_fold"].str[:1]
    dob = pd.to_datetime(df["birth_date"], errors="coerce", format="%Y-%m-%d")
    bad = df["birth_date"].notna() & dob.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise LinkageInputError(f"{source}: row {row + 1}: field 'birth_date': "
                                f"{df['birth_date'].iloc[row]!r} is not a YYYY-MM-DD date")
    df["dob"] = dob.dt.strftime("%Y-%m-%d").where(dob.notna(), None)
    age = pd.to_numeric(df["age"], errors="coerce")
    year = pd.to_numeric(df["year"], errors="coerce")
    approx = (year - age).where(age.notna() & year.notna())
    df["birth_year"] = dob.dt.year.where(dob.notna(), approx).astype("Int64")
    for col in ("sex", "citizenship", "pseudonym"):
        df[col] = df[col].where(df[col].notna() & (df[col].astype(str).str.strip() != ""), None)
    return df


def _settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def name_comparison(col: str) -> Any:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(f"{col}_fold"),
                cll.ExactMatchLevel(f"{col}_fold"),
                cll.ExactMatchLevel(f"{col}_skel"),
                cll.JaroWinklerLevel(f"{col}_fold", 0.92),
                cll.JaroWinklerLevel(f"{col}_fold", 0.8),
                cll.ElseLevel(),
            ],
        )

    birth = cl.CustomComparison(
        output_column_name="birth",
        comparison_levels=[
            cll.And(cll.NullLevel("dob"), cll.NullLevel("birth_year")),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(
                "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) and substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
                "and substr(dob_l, 9, 2) = substr(dob_r, 6, 2)",
                label_for_charts="day and month swapped",
            ),
            cll.ExactMatchLevel("birth_year"),
            cll.AbsoluteDifferenceLevel("birth_year", 1),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            name_comparison("given"),
            name_comparison("family"),
            birth,
            cl.ExactMatch("sex"),
            cl.ExactMatch("citizenship"),
        ],
        blocking_rules_to_generate_predictions=[
            # each rule keeps blocks small at a million records; together they catch a typo or a
            # transliteration in any one field, and an age given instead of a date of birth
            block_on("family_skel", "given_skel"),
            block_on("dob"),
            block_on("family_skel", "birth_year"),
            block_on("given_skel", "birth_year", "family_initial"),
            block_on("family_skel", "sex", "citizenship"),
            block_on("given_skel", "sex", "citizenship", "family_initial"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["list_name"],
    )


def score_pairs(
    df: pd.DataFrame, review_floor: float, engine: Engine = Engine.DUCKDB, spark: Any = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Train a Splink model without labels and score candidate pairs above ``review_floor``."""
    from splink import Linker, block_on

    columns = ["unique_id", "list_name", "given_fold", "family_fold", "given_skel", "family_skel",
               "family_initial", "dob", "birth_year", "sex", "citizenship"]
    frame = df[columns].copy()
    db_api = splink_api(engine, spark)
    table = frame if engine is Engine.DUCKDB else db_api.spark.createDataFrame(frame.astype(object))
    sdf = db_api.register(table, dataset_display_name="agency_records")
    linker = Linker(sdf, _settings(), log_level="WARNING")
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("family_fold", "given_fold", "dob")], recall=0.6)
    training.estimate_u_using_random_sampling(max_pairs=min(2e6, max(1e5, len(df) * 20.0)), seed=seed)
    sample = min(1.0, 200_000 / max(1, len(df)))
    for rule in (block_on("dob"), block_on("family_skel", "given_skel")):
        try:
            training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=sample)
        except ValueError:
            # small inputs: a comparison level never seen among matches drives an m-probability to 0,
            # which Splink refuses; the other session (or Splink's priors) then set those m values
            continue
    predictions = linker.inference.predict(threshold_match_probability=review_floor)
    out: pd.DataFrame = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    return out[["unique_id_l", "unique_id_r", "match_probability"]].rename(
        columns={"unique_id_l": "record_id_l", "unique_id_r": "record_id_r"})


def _components(ids: Sequence[str], edges: Iterable[tuple[str, str]]) -> pd.Series:
    """Connected components by union-find (path halving); cheap at millions of records."""
    index = {rid: i for i, rid in enumerate(ids)}
    parent = np.arange(len(ids))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for a, b in edges:
        ra, rb = find(index[a]), find(index[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(len(ids))])
    _, person = np.unique(roots, return_inverse=True)
    return pd.Series(person, index=pd.Index(ids, name="record_id"), name="person")


def exact_pairs(df: pd.DataFrame) -> pd.DataFrame:
    """Pairs of records sharing a keyed pseudonym (chained, so n records give n-1 pairs)."""
    keyed = df[df["pseudonym"].notna()][["record_id", "pseudonym"]]
    first = keyed.groupby("pseudonym")["record_id"].transform("first")
    linked = keyed[keyed["record_id"] != first]
    return pd.DataFrame({"record_id_l": first[linked.index].to_numpy(),
                         "record_id_r": linked["record_id"].to_numpy(),
                         "match_probability": 1.0, "decision": LinkDecision.EXACT.value})


def link(
    records: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    review_floor: float = DEFAULT_REVIEW_FLOOR,
    engine: Engine = Engine.DUCKDB,
    spark: Any = None,
    probabilistic: bool = True,
    source: str = "records",
) -> LinkageResult:
    """Assign a person to every record: exact pseudonym links plus Splink links."""
    if not 0 < review_floor <= threshold <= 1:
        raise ValueError(f"need 0 < review_floor ({review_floor}) <= threshold ({threshold}) <= 1")
    df = prepare(records, source)
    pairs = [exact_pairs(df)]
    if probabilistic and len(df) > 1:
        scored = score_pairs(df, review_floor, engine, spark)
        scored["decision"] = np.where(scored["match_probability"] >= threshold,
                                      LinkDecision.MATCH.value, LinkDecision.REVIEW.value)
        pairs.append(scored)
    all_pairs = pd.concat([p for p in pairs if len(p)], ignore_index=True) if any(len(p) for p in pairs) \
        else pairs[0]
    accepted = all_pairs[all_pairs["decision"] != LinkDecision.REVIEW.value]
    persons = _components(df["record_id"].tolist(),
                          zip(accepted["record_id_l"], accepted["record_id_r"], strict=True))
    return LinkageResult(persons, all_pairs.reset_index(drop=True))


def pairwise_quality(persons: pd.Series, truth: pd.Series) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the true person of each record."""
    joined = pd.DataFrame({"pred": persons, "true": truth.reindex(persons.index)})

    def pairs(counts: pd.Series) -> int:
        c = counts.to_numpy(dtype=np.int64)
        return int((c * (c - 1) // 2).sum())

    both = pairs(joined.groupby(["pred", "true"]).size())
    predicted = pairs(joined.groupby("pred").size())
    actual = pairs(joined.groupby("true").size())
    precision = both / predicted if predicted else 1.0
    recall = both / actual if actual else 1.0
    return precision, recall
