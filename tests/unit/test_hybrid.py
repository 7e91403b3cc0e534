"""Hybrid retrieval on a tiny hand-made base: vectors, BM25 and graph built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from kg.resolve import normalize
from retrieval.graph import EntityChunkGraph
from retrieval.hybrid import HybridRetriever, RetrievalConfig, Signals
from retrieval.lexical import BM25Index
from retrieval.linking import EntityLinker

QUESTION = "Where did the designer of Kestrel Station study?"
DIM = 6


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


def make_retriever(base=BASE, config: RetrievalConfig | None = None) -> HybridRetriever:
    keys = np.asarray([b[0] for b in base], dtype=np.int64)  # (C,)
    vectors = np.stack([b[2] for b in base]) if base else np.zeros((0, DIM), np.float32)  # (C, DIM)
    bm25 = BM25Index.build(keys.tolist(), [b[1] for b in base])
    mentions = [(b[0], e) for b in base for e in b[4]]
    graph = EntityChunkGraph.build(keys, mentions, [], about=[b[3] for b in base])
    linker = EntityLinker.build(graph.entity_ids, {}, graph.entity_df, normalize)
    return HybridRetriever(keys, vectors, bm25, graph, linker, config or RetrievalConfig())


@pytest.fixture(scope="module")
def retriever() -> HybridRetriever:
    return make_retriever()


def test_the_hand_made_base_is_what_the_test_claims(retriever):
    row2 = retriever.graph.chunk_row[P2]
    assert float(retriever.vectors[row2] @ Q_VEC) == pytest.approx(0.0, abs=1e-6)
    assert retriever.bm25.scores(QUESTION)[row2] == 0
    assert [lnk.entity_id for lnk in retriever.linker.link(QUESTION)] == ["kestrel station"]


def test_hybrid_finds_the_second_hop_that_vector_search_misses(retriever):
    vector = [r.key for r in retriever.retrieve(QUESTION, Q_VEC, [], mode="vector", top_k=2)]
    assert vector == [P1, 102]
    assert P2 not in [r.key for r in retriever.retrieve(QUESTION, Q_VEC, [], mode="vector")[:3]]
    hybrid = retriever.retrieve(QUESTION, Q_VEC, [], mode="hybrid", top_k=2)
    assert {r.key for r in hybrid} == {P1, P2}
    assert hybrid[0].score >= hybrid[1].score


def test_the_pair_step_records_the_bridge_path(retriever):
    hybrid = {r.key: r for r in retriever.retrieve(QUESTION, Q_VEC, [], mode="hybrid", top_k=5)}
    second = hybrid[P2]
    bridge = [p for p in second.paths if "mentions" in p]
    assert bridge == [(f"chunk:{P1}", "mentions", "adaeze nwosu", "mentioned in", f"chunk:{P2}")]
    # the first passage is explained by the linked entity it mentions
    assert ("kestrel station", "mentioned in", f"chunk:{P1}") in hybrid[P1].paths
    assert hybrid[P1].entities == ("kestrel station",)


def test_without_the_pair_step_the_second_hop_is_not_bridged():
    plain = make_retriever(config=RetrievalConfig(expand_from=0))
    ranked = plain.retrieve(QUESTION, Q_VEC, [], mode="hybrid", top_k=5)
    assert all("mentions" not in p for r in ranked for p in r.paths)
    # PageRank alone cannot reach P2: "about" is a seed of PageRank, not an edge
    assert P2 not in [r.key for r in ranked[:2]]


def test_fuse_gives_hand_computed_rrf_values():
    r = make_retriever(BASE[:4])
    sig = Signals(
        dense=np.asarray([0.9, 0.1, 0.5, -0.2], np.float32),  # ranks 0, 2, 1, 3 (all kept)
        lexical=np.asarray([0.0, 2.0, 1.0, 0.0], np.float32),  # ranks 1, 2 (zeros dropped)
        graph=np.asarray([0.3, 0.0, 0.0, 0.1], np.float32),  # ranks 0, 3
    )
    k = 20.0
    expected = [
        1 / (k + 1) + 1 / (k + 1),  # vector 1st, graph 1st
        1 / (k + 3) + 1 / (k + 1),  # vector 3rd, lexical 1st
        1 / (k + 2) + 1 / (k + 2),  # vector 2nd, lexical 2nd
        1 / (k + 4) + 1 / (k + 2),  # vector 4th, graph 2nd
    ]
    np.testing.assert_allclose(r.fuse(sig), expected, rtol=1e-6)

    weighted = make_retriever(
        BASE[:4],
        RetrievalConfig(rrf_k=10.0, weights={"vector": 2.0, "lexical": 0.5, "graph": 1.0}),
    )
    np.testing.assert_allclose(
        weighted.fuse(sig),
        [2 / 11 + 1 / 11, 2 / 13 + 0.5 / 11, 2 / 12 + 0.5 / 12, 2 / 14 + 1 / 12],
        rtol=1e-6,
    )
    sig.lexical = sig.graph = None  # signals a mode did not compute are skipped
    np.testing.assert_allclose(
        r.fuse(sig), [1 / (k + 1), 1 / (k + 3), 1 / (k + 2), 1 / (k + 4)], rtol=1e-6
    )


def test_rrf_fusion_mode_also_bridges():
    rrf = make_retriever(config=RetrievalConfig(fusion="rrf"))
    ranked = rrf.retrieve(QUESTION, Q_VEC, [], mode="hybrid", top_k=2)
    assert {r.key for r in ranked} == {P1, P2}


def test_retrieve_on_an_empty_base_returns_nothing():
    empty = make_retriever([])
    for mode in ("vector", "lexical", "graph", "hybrid"):
        assert empty.retrieve(QUESTION, Q_VEC, [], mode=mode, top_k=5) == []


@pytest.mark.parametrize(
    ("mode", "keys"),
    [
        ("vector", {"vector"}),
        ("lexical", {"vector", "lexical"}),
        ("graph", {"vector", "graph"}),
        ("hybrid", {"vector", "lexical", "graph"}),
    ],
)
def test_each_ranked_chunk_carries_the_scores_of_its_mode(retriever, mode, keys):
    ranked = retriever.retrieve(QUESTION, Q_VEC, [], mode=mode, top_k=5)
    assert 1 <= len(ranked) <= 5 and len({r.key for r in ranked}) == len(ranked)
    if mode in ("lexical", "graph"):  # chunks without any evidence are not hits
        assert all(r.scores[mode] > 0 for r in ranked)
    assert all(set(r.scores) == keys for r in ranked)
    row = retriever.graph.chunk_row
    for r in ranked:  # the per-signal scores are the raw signal values of that chunk
        assert r.scores["vector"] == pytest.approx(float(retriever.vectors[row[r.key]] @ Q_VEC))
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_unknown_mode_is_a_value_error(retriever):
    with pytest.raises(ValueError, match="'fuzzy'"):
        retriever.retrieve(QUESTION, Q_VEC, [], mode="fuzzy")


def test_mismatched_chunk_orders_raise():
    good = make_retriever()
    keys = good.keys
    shuffled_bm25 = BM25Index.build(keys[::-1].tolist(), [b[1] for b in BASE][::-1])
    with pytest.raises(ValueError, match="same chunks"):
        HybridRetriever(keys, good.vectors, shuffled_bm25, good.graph, good.linker, good.config)
    other_graph = EntityChunkGraph.build(keys[:-1], [], [])
    with pytest.raises(ValueError, match="same chunks"):
        HybridRetriever(keys, good.vectors, good.bm25, other_graph, good.linker, good.config)
