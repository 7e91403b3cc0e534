"""Hybrid retrieval on a tiny hand-made base, indexed by the real search index."""

from __future__ import annotations

import numpy as np
import pytest

from kg.resolve import normalize
from kgqa.types import MENTIONED_IN, MENTIONS, ChunkRecord, ChunkStep, EntityStep, RelationStep
from retrieval.hybrid import HybridRetriever, RetrievalConfig, Signals, Sparse
from retrieval.index_writer import rebuild_index
from retrieval.search_index import IndexText, SearchIndex

QUESTION = "Where did the designer of Kestrel Station study?"
DIM = 6
TEXT = IndexText(normalize=normalize, lexical_text=lambda title, text: text)


def unit(*xs: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


# The question vector is axis 0. P2 is orthogonal to it (no vector overlap) and
# shares no word with it (no lexical overlap); it is only *about* Adaeze Nwosu,
# whom P1 mentions. The distractors are closer to the question than P2.
# (key, text, vector (DIM,), about (title entity), mentions)
BASE = [
    (100, "Kestrel Station was designed by Adaeze Nwosu.", unit(0.8, 0.6),
     "kestrel station", ["kestrel station", "adaeze nwosu"]),
    (101, "Graduated in Lagos in 2009 with honours.", unit(0, 0.6, 0.8),
     "adaeze nwosu", ["lagos"]),
    (102, "Nimbus Cloud stores the readings of buoys.", unit(0.6, 0, 0, 0.8),
     "nimbus cloud", ["nimbus cloud"]),
    (103, "The Porto office hosts the firmware team.", unit(0.5, 0, 0, 0, 0.866),
     "porto", ["porto"]),
    (104, "Zeta Labs sells weather gauges to farmers.", unit(0.3, 0, 0, 0, 0, 0.954),
     "zeta labs", ["zeta labs"]),
]  # fmt: skip
Q_VEC = unit(1.0)
P1, P2 = 100, 101


def make_index(tmp_path, base=BASE) -> SearchIndex:
    records = [
        ChunkRecord(key, about, text, vec, tuple((e, e) for e in mentions))
        for key, text, vec, about, mentions in base
    ]
    rebuild_index(tmp_path / "index", records, generation=1, dim=DIM, text=TEXT)
    index = SearchIndex.open(tmp_path / "index", TEXT)
    assert index is not None
    return index


def retrieve(index, mode="hybrid", top_k=5, config=None):
    return HybridRetriever(config).retrieve(index, QUESTION, Q_VEC, [], mode=mode, top_k=top_k)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> SearchIndex:
    return make_index(tmp_path_factory.mktemp("hybrid"))


def test_the_hand_made_base_is_what_the_test_claims(index):
    (row2,) = index.rows_of(np.array([P2]))
    assert float(index.vectors(np.array([row2]))[0] @ Q_VEC) == pytest.approx(0.0, abs=1e-6)
    rows, _ = index.lexical(QUESTION)
    assert row2 not in rows.tolist()
    assert [lnk.entity_id for lnk in index.link(QUESTION, [])] == ["kestrel station"]


def test_a_document_is_about_the_name_its_title_gives_after_a_category_or_before_brackets(
        tmp_path):
    base = [(200, "The railway runs trains in Yorkshire.", unit(1.0), "Customer: Harrowgate Rail",
             ["harrowgate rail"]),
            (201, "The office has a roof terrace.", unit(0, 1.0), "Porto Office (Headquarters)",
             ["porto office"]),
            (202, "Harrowgate Rail bought gauges.", unit(0, 0, 1.0), "Sales", ["harrowgate rail"])]
    idx = make_index(tmp_path, base)
    ents = np.array([idx.entity_index("harrowgate rail"), idx.entity_index("porto office")])
    owner, rows = idx.graph.about(ents)
    pairs = zip(owner.tolist(), idx.keys_of(rows).tolist(), strict=True)
    assert sorted(pairs) == [(0, 200), (1, 201)]


def test_hybrid_finds_the_second_hop_that_vector_search_misses(index):
    assert [r.key for r in retrieve(index, "vector", top_k=2)] == [P1, 102]
    assert P2 not in [r.key for r in retrieve(index, "vector")[:3]]
    hybrid = retrieve(index, "hybrid", top_k=2)
    assert {r.key for r in hybrid} == {P1, P2}
    assert hybrid[0].score >= hybrid[1].score


def test_the_pair_step_records_the_bridge_path(index):
    hybrid = {r.key: r for r in retrieve(index, top_k=5)}
    bridge = [p for p in hybrid[P2].paths if RelationStep(MENTIONS) in p]
    assert bridge == [(
        ChunkStep(P1, "", ""), RelationStep(MENTIONS),
        EntityStep("adaeze nwosu", "adaeze nwosu"), RelationStep(MENTIONED_IN),
        ChunkStep(P2, "", ""),
    )]  # fmt: skip
    # the first passage is explained by the linked entity it mentions
    first = (
        EntityStep("kestrel station", "kestrel station"), RelationStep(MENTIONED_IN),
        ChunkStep(P1, "", ""),
    )  # fmt: skip
    assert first in hybrid[P1].paths
    assert hybrid[P1].entities == ("kestrel station",)


def test_without_the_pair_step_the_second_hop_is_not_bridged(index):
    ranked = retrieve(index, config=RetrievalConfig(expand_from=0))
    assert all(RelationStep(MENTIONS) not in p for r in ranked for p in r.paths)
    # PageRank alone cannot reach P2: "about" is a seed of PageRank, not an edge
    assert P2 not in [r.key for r in ranked[:2]]


def test_fuse_gives_hand_computed_rrf_values(index):
    rows = index.rows_of(np.array([100, 101, 102, 103]))
    sig = Signals(
        dense=Sparse(rows, [0.9, 0.1, 0.5, -0.2]),  # ranks 0, 2, 1, 3 (all kept)
        lexical=Sparse(rows, [0.0, 2.0, 1.0, 0.0]),  # ranks 1, 2 (zeros dropped)
        graph=Sparse(rows, [0.3, 0.0, 0.0, 0.1]),  # ranks 0, 3
    )
    k = 20.0
    expected = [
        1 / (k + 1) + 1 / (k + 1),  # vector 1st, graph 1st
        1 / (k + 3) + 1 / (k + 1),  # vector 3rd, lexical 1st
        1 / (k + 2) + 1 / (k + 2),  # vector 2nd, lexical 2nd
        1 / (k + 4) + 1 / (k + 2),  # vector 4th, graph 2nd
    ]
    np.testing.assert_allclose(HybridRetriever().fuse(index, sig).get(rows), expected, rtol=1e-6)
    weighted = HybridRetriever(
        RetrievalConfig(rrf_k=10.0, weights={"vector": 2.0, "lexical": 0.5, "graph": 1.0})
    )
    np.testing.assert_allclose(
        weighted.fuse(index, sig).get(rows),
        [2 / 11 + 1 / 11, 2 / 13 + 0.5 / 11, 2 / 12 + 0.5 / 12, 2 / 14 + 1 / 12],
        rtol=1e-6,
    )
    sig.lexical = sig.graph = None  # signals a mode did not compute are skipped
    np.testing.assert_allclose(
        HybridRetriever().fuse(index, sig).get(rows),
        [1 / (k + 1), 1 / (k + 3), 1 / (k + 2), 1 / (k + 4)],
        rtol=1e-6,
    )


def test_rrf_fusion_mode_also_bridges(index):
    ranked = retrieve(index, top_k=2, config=RetrievalConfig(fusion="rrf"))
    assert {r.key for r in ranked} == {P1, P2}


def test_retrieve_on_an_empty_base_returns_nothing(tmp_path):
    empty = make_index(tmp_path, [])
    for mode in ("vector", "lexical", "graph", "hybrid"):
        assert retrieve(empty, mode) == []


@pytest.mark.parametrize(
    ("mode", "keys"),
    [
        ("vector", {"vector"}),
        ("lexical", {"vector", "lexical"}),
        ("graph", {"vector", "graph"}),
        ("hybrid", {"vector", "lexical", "graph"}),
    ],
)
def test_each_ranked_chunk_carries_the_scores_of_its_mode(index, mode, keys):
    ranked = retrieve(index, mode)
    assert 1 <= len(ranked) <= 5 and len({r.key for r in ranked}) == len(ranked)
    if mode in ("lexical", "graph"):  # chunks without any evidence are not hits
        assert all(r.scores[mode] > 0 for r in ranked)
    assert all(set(r.scores) == keys for r in ranked)
    vectors = {b[0]: b[2] for b in BASE}
    for r in ranked:  # the per-signal scores are the raw signal values of that chunk
        assert r.scores["vector"] == pytest.approx(float(vectors[r.key] @ Q_VEC))
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
