"""Linkage: identifier graph, verified near-duplicates, look-alikes, and both engines."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests.engines import over_engines
from tipsom.core.engines import Engine
from tipsom.osint.evaluate import pairwise_scores
from tipsom.osint.linkage import Clustering, LinkInput, link
from tipsom.osint.pipeline import cluster_ads, scan_all
from tipsom.osint.records import Ad
from tipsom.osint.textsim import jaccard

from .conftest import Generated

TEMPLATE_A = ("Golden Lotus VIP: Hello gentlemen, I'm {name}, a classy girl of 22 years old. New in town and "
              "happy to relax with you. Petite and fun, real photos only, always smiling. Hotel visits "
              "day and night in {city}. Ask for my manager to book.")
TEMPLATE_B = ("Velvet Star Club: Hey there, my name is {name}, an elegant lady. Just arrived and waiting to "
              "meet you tonight. Tall and slim, no fake pics, friendly and open minded. Private apartment "
              "from 10am to late near downtown {city}. Text my driver for details.")


def _clusters(ads: list[Ad]) -> dict[str, str]:
    run = cluster_ads(ads)
    return {run.clustering.ad_ids[i]: run.clustering.cluster_id(i) for i in range(len(ads))}


def test_shared_phone_links_ads_and_unrelated_ads_stay_apart() -> None:
    ads = [
        Ad("a1", "Sweet Mia in Houston, call 713-555-0101", location="Houston"),
        Ad("a2", "Completely different text, call 713 555 0101 now", location="Houston"),
        Ad("a3", "Someone else entirely, call 713-555-0188", location="Houston"),
    ]
    clusters = _clusters(ads)
    assert clusters["a1"] == clusters["a2"] == "cl-a1"
    assert clusters["a3"] == "cl-a3"


def test_near_duplicate_template_links_without_identifiers_and_pairs_are_verified() -> None:
    ads = [Ad(f"t{i}", TEMPLATE_A.format(name=n, city=c)) for i, (n, c) in
           enumerate([("Anna", "Miami"), ("Lola", "Dallas"), ("Nina", "Miami")])]
    ads.append(Ad("other", TEMPLATE_B.format(name="Zoe", city="Miami")))
    run = cluster_ads(ads)
    ids = {run.clustering.ad_ids[i]: run.clustering.cluster_id(i) for i in range(len(ads))}
    assert ids["t0"] == ids["t1"] == ids["t2"] != ids["other"]
    assert all(jac >= 0.6 for _, _, jac in run.clustering.text_edges)


def test_lookalike_poster_does_not_bridge_two_operations() -> None:
    # Two operations, each with its own phone, and a poster who copies half of each template.
    op_a = [Ad(f"a{i}", TEMPLATE_A.format(name="Anna", city="Miami") + " call 305-555-0101") for i in range(3)]
    op_b = [Ad(f"b{i}", TEMPLATE_B.format(name="Zoe", city="Miami") + " call 305-555-0177") for i in range(3)]
    half_a = TEMPLATE_A.format(name="Kim", city="Miami").split(". ")
    half_b = TEMPLATE_B.format(name="Kim", city="Miami").split(". ")
    copycat = ". ".join(half_a[:3] + half_b[3:])
    ads = [*op_a, *op_b, Ad("copy1", copycat + " call 305-555-0133"), Ad("copy2", copycat)]
    clusters = _clusters(ads)
    assert clusters["a0"] != clusters["b0"]
    assert len({clusters[a.ad_id] for a in op_a}) == 1
    assert len({clusters[b.ad_id] for b in op_b}) == 1


STOCK = ["Urgent hiring dancers for hotels abroad", "No experience needed and easy money monthly",
         "Plane ticket offered with free housing", "Registration fee paid for your papers",
         "We keep your passport safe during contract", "Write to our recruiter today for details",
         "Young girls wanted for work in restaurants", "Visa and travel arranged by our agency",
         "Salary paid in cash every single week"]


def test_posters_sharing_stock_phrases_do_not_chain_into_one_group() -> None:
    # Each poster reuses six consecutive stock sentences: neighbours in the chain
    # look alike, its ends do not, and no two posters share an identifier.
    ads = [Ad(f"p{i}", ". ".join(STOCK[i : i + 6]) + ".") for i in range(4)]
    scans, signatures = scan_all(ads)
    sim = [[jaccard(signatures[i].shingles, signatures[j].shingles) for j in range(4)] for i in range(4)]
    assert min(sim[0][1], sim[1][2], sim[2][3]) >= 0.6 > max(sim[0][2], sim[0][3], sim[1][3])
    clustering = link(LinkInput.build(scans, signatures))
    clusters = [clustering.cluster_id(i) for i in range(4)]
    assert clusters[0] == clusters[1] == clusters[2]  # all three are near-duplicates of the centre, p1
    assert clusters[3] != clusters[0]  # p3 only resembles p2, not the centre: the chain stops there
    assert len(clustering.text_edges) == 3  # every verified similarity is still reported


def test_one_template_posted_many_times_without_identifiers_stays_one_cluster() -> None:
    names = ["Anna", "Lola", "Nina", "Eva", "Mia", "Zoe", "Kim", "Lucy", "Vera", "Rosa", "Ines", "Sara"]
    ads = [Ad(f"t{i}", TEMPLATE_A.format(name=name, city="Miami")) for i, name in enumerate(names)]
    clusters = _clusters(ads)
    assert set(clusters.values()) == {"cl-t0"}


@pytest.mark.slow
def test_generated_ads_cluster_with_f1_above_090_and_no_merged_operations(generated_10k: Generated) -> None:
    clustering = link(generated_10k.link_input)
    predicted = {clustering.ad_ids[i]: clustering.cluster_id(i) for i in range(len(clustering.ad_ids))}
    scores = pairwise_scores(predicted, generated_10k.truth, generated_10k.organised)
    assert scores.ads == 10_000
    assert scores.f1 >= 0.9, scores.summary()
    assert scores.merged_operations == 0, scores.summary()
    # Look-alike posters exist in the data and none ends up joining two operations.
    ops_per_cluster: dict[str, set[str]] = defaultdict(set)
    for ad_id, cluster in predicted.items():
        operation = generated_10k.truth[ad_id]
        if operation in generated_10k.organised:
            ops_per_cluster[cluster].add(operation)
    assert max(len(ops) for ops in ops_per_cluster.values()) == 1


def _as_rows(clustering: Clustering) -> list[tuple[str, str, str]]:
    return [(ad, clustering.cluster_id(i), ";".join(clustering.link_reasons(i)))
            for i, ad in enumerate(clustering.ad_ids)]


@pytest.fixture(scope="module")
def on_duckdb(generated_10k: Generated) -> Clustering:
    """The reference: the 10,000 synthetic ads clustered on DuckDB."""
    clustering = link(generated_10k.link_input, Engine.DUCKDB)
    assert len(clustering.ad_ids) == 10_000
    assert len(clustering.members()) < 10_000  # there are clusters to compare, not only singletons
    return clustering


@over_engines
@pytest.mark.slow
def test_every_engine_gives_the_reference_clusters_on_10000_ads(generated_10k: Generated, engine: Engine,
                                                                engine_session: Any, on_duckdb: Clustering) -> None:
    """Spark gives DuckDB's clusters and reasons; DuckDB, which may reorder rows, gives them again."""
    data: LinkInput = generated_10k.link_input
    clustering = link(data, engine, engine_session)
    assert clustering.text_edges == on_duckdb.text_edges
    assert _as_rows(clustering) == _as_rows(on_duckdb)


def test_components_of_chains_and_separate_pieces() -> None:
    import numpy as np

    from tipsom.osint.linkage import _components

    chain = [(i, i + 1) for i in range(20, 40)]  # a path of 21 nodes
    edges = [(0, 3), (1, 3), (2, 4), (5, 6), *chain]
    labels = _components(np.array([a for a, _ in edges]), np.array([b for _, b in edges]), 45)
    expected = {0: 0, 1: 0, 3: 0, 2: 2, 4: 2, 5: 5, 6: 5, **dict.fromkeys(range(20, 41), 20)}
    assert labels.tolist() == [expected.get(node, node) for node in range(45)]  # the rest stand alone


def test_text_edge_similarity_is_the_exact_jaccard_of_the_linked_signatures() -> None:
    ads = [Ad(f"t{i}", TEMPLATE_A.format(name=n, city=c)) for i, (n, c) in
           enumerate([("Anna", "Miami"), ("Lola", "Dallas"), ("Nina", "Miami"), ("Eva", "Tampa")])]
    scans, signatures = scan_all(ads)
    clustering = link(LinkInput.build(scans, signatures))
    assert clustering.text_edges
    for a, b, jac in clustering.text_edges:
        assert jac == round(jaccard(signatures[a].shingles, signatures[b].shingles), 4)
