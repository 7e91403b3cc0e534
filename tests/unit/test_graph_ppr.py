"""The sparse entity–chunk graph and its personalized PageRank, on hand-made graphs."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.graph import EntityChunkGraph

# rows:      0 (key 10)          1 (key 11)        2 (key 12)   3 (key 13)
# mentions:  acme, maria         maria, porto      zeta         (none: isolated)
MENTIONS = [(10, "acme"), (10, "maria"), (11, "maria"), (11, "porto"), (12, "zeta")]


@pytest.fixture
def g():
    return EntityChunkGraph.build([10, 11, 12, 13], MENTIONS, relations=[])


def ent(g, name):
    return g.entity_index[name]


def total(chunks, entities):
    return float(chunks.sum(dtype=np.float64) + entities.sum(dtype=np.float64))


def test_answer_two_hops_away_beats_an_unrelated_chunk(g):
    # acme -> chunk 10 -> maria -> chunk 11 (the answer); chunk 12 shares nothing
    chunks, entities = g.ppr(entity_seeds={ent(g, "acme"): 1.0})
    assert chunks[1] > 0
    assert chunks[1] > chunks[2]
    assert chunks[2] == 0 and entities[ent(g, "zeta")] == 0
    assert chunks[0] > chunks[1]  # the one-hop chunk still leads
    assert entities[ent(g, "maria")] > entities[ent(g, "porto")] > 0


def test_scores_form_a_distribution_over_all_nodes(g):
    for seeds in ({ent(g, "acme"): 1.0}, {ent(g, "maria"): 2.0, ent(g, "zeta"): 0.5}):
        chunks, entities = g.ppr(entity_seeds=seeds, chunk_seeds={1: 3.0})
        assert chunks.shape == (4,) and entities.shape == (4,)
        assert (chunks >= 0).all() and (entities >= 0).all()
        assert total(chunks, entities) == pytest.approx(1.0, abs=1e-5)


def test_transition_is_column_stochastic(g):
    sums = np.asarray(g.transition.sum(axis=0)).ravel()  # (C+E,)
    isolated = 3  # chunk 13
    assert sums[isolated] == 0
    assert np.allclose(np.delete(sums, isolated), 1.0)


def test_damping_zero_returns_the_seed_distribution(g):
    chunks, entities = g.ppr(entity_seeds={ent(g, "acme"): 3.0}, chunk_seeds={2: 1.0}, damping=0.0)
    np.testing.assert_allclose(chunks, [0, 0, 0.25, 0], atol=1e-7)
    expected = np.zeros(4)
    expected[ent(g, "acme")] = 0.75
    np.testing.assert_allclose(entities, expected, atol=1e-7)


def test_no_seeds_gives_zeros(g):
    for kw in ({}, {"entity_seeds": {}, "chunk_seeds": {}}, {"entity_seeds": {0: 0.0}}):
        chunks, entities = g.ppr(**kw)
        assert chunks.shape == (4,) and entities.shape == (4,)
        assert not chunks.any() and not entities.any()


def test_isolated_nodes_do_not_leak_mass(g):
    # all the restart mass on the isolated chunk: it keeps it all
    chunks, entities = g.ppr(chunk_seeds={3: 1.0})
    assert chunks[3] == pytest.approx(1.0) and not entities.any()
    # shared with a connected seed: what reaches the isolated chunk goes back to the seeds
    chunks, entities = g.ppr(entity_seeds={ent(g, "acme"): 1.0}, chunk_seeds={3: 1.0})
    assert total(chunks, entities) == pytest.approx(1.0, abs=1e-5)
    # fixed point of p3 = (1-d)*0.5 + d*(0 + p3*0.5) with d = 0.5: p3 = 1/3
    assert chunks[3] == pytest.approx(1 / 3, abs=1e-5)


def test_relation_edges_connect_entities():
    # x and y share no chunk; only the relation joins them
    mentions = [(1, "x"), (2, "y")]
    plain = EntityChunkGraph.build([1, 2], mentions, relations=[])
    chunks, _ = plain.ppr(entity_seeds={plain.entity_index["x"]: 1.0})
    assert chunks[1] == 0
    g = EntityChunkGraph.build([1, 2], mentions, relations=[("x", "y", "works_at")])
    x, y = g.entity_index["x"], g.entity_index["y"]
    chunks, entities = g.ppr(entity_seeds={x: 1.0})
    assert chunks[1] > 0 and entities[y] > 0
    assert total(chunks, entities) == pytest.approx(1.0, abs=1e-5)
    assert g.related(x).tolist() == [y] and g.related(y).tolist() == [x]


def test_relation_weights_saturate_and_skip_unknown_or_self_edges():
    mentions = [(1, "x"), (1, "y"), (2, "z")]
    rels = [
        ("x", "y", "a"),
        ("y", "x", "b"),
        ("x", "y", "c"),  # third x–y relation: capped at 2 * relation_weight
        ("x", "z", "a"),
        ("x", "x", "self"),
        ("x", "nobody", "a"),
    ]
    g = EntityChunkGraph.build([1, 2], mentions, rels, relation_weight=0.5)
    x, y, z = (g.entity_index[e] for e in "xyz")
    r = g.relations.toarray()  # (E, E)
    assert r[x, y] == r[y, x] == pytest.approx(1.0)
    assert r[x, z] == r[z, x] == pytest.approx(0.5)
    assert r[x, x] == 0 and "nobody" not in g.entity_index
    assert sorted(g.related(x).tolist()) == sorted([y, z])


def test_about_maps_entities_to_the_chunks_about_them(g):
    about_g = EntityChunkGraph.build(
        [10, 11, 12, 13], MENTIONS, [], about=["acme", "", "acme", "nobody"]
    )
    assert about_g.about == {ent(about_g, "acme"): [0, 2]}
    assert g.about == {}


def test_entities_of_chunks_of_and_df():
    mentions = [*MENTIONS, (10, "acme"), (99, "ghost")]  # a repeat, and a chunk not in the graph
    g = EntityChunkGraph.build([10, 11, 12, 13], mentions, [])
    names = lambda idx: sorted(g.entity_ids[i] for i in idx)  # noqa: E731
    assert names(g.entities_of(0)) == ["acme", "maria"]
    assert names(g.entities_of(1)) == ["maria", "porto"]
    assert names(g.entities_of(3)) == []
    assert sorted(g.chunks_of(ent(g, "maria")).tolist()) == [0, 1]
    assert g.chunks_of(ent(g, "acme")).tolist() == [0]
    assert "ghost" not in g.entity_index and len(g.entity_ids) == 4
    assert g.entity_df[ent(g, "acme")] == 1  # two mentions in one chunk count once
    assert g.entity_df[ent(g, "maria")] == 2
    assert g.chunk_row == {10: 0, 11: 1, 12: 2, 13: 3} and g.n_chunks == 4
    assert g.related(ent(g, "acme")).tolist() == []


def test_empty_graph():
    g = EntityChunkGraph.build([], [], [])
    chunks, entities = g.ppr(chunk_seeds={})
    assert chunks.shape == (0,) and entities.shape == (0,)
