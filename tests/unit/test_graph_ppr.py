"""The entity–chunk graph and its local-push personalized PageRank, on hand-made graphs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from retrieval.graph import EntityGraph
from retrieval.ppr import push_ppr

# rows:      0                   1                 2            3
# mentions:  acme(0), maria(1)   maria, porto(2)   zeta(3)      (none: isolated)
ACME, MARIA, PORTO, ZETA = range(4)
MENTIONS = [(0, ACME), (0, MARIA), (1, MARIA), (1, PORTO), (2, ZETA)]
EXACT = 1e-12  # an epsilon that pushes until PageRank has converged


@pytest.fixture
def g():
    return EntityGraph.from_mentions(4, MENTIONS)


def dense(result, n):
    ids, scores = result
    out = np.zeros(n)
    out[ids] = scores
    return out


def ppr(g, entity_seeds=None, chunk_seeds=None, **kw):
    eps = kw.pop("epsilon", EXACT)
    chunks, entities = push_ppr(g, entity_seeds, chunk_seeds, epsilon=eps, **kw)
    n_rows, n_ents = g.size()
    return dense(chunks, n_rows), dense(entities, n_ents)


def power_iteration(g, entity_seeds, chunk_seeds, damping=0.5, iterations=200):
    """Reference PageRank on the dense adjacency: p = (1-d) s + d (W p + lost * s)."""
    n_rows, n_ents = g.size()
    n = n_rows + n_ents
    adj = np.zeros((n, n))
    owner, ents = g.entities_of(np.arange(n_rows))
    for r, e in zip(owner, ents, strict=True):
        adj[r, n_rows + e] = adj[n_rows + e, r] = 1.0
    owner, others, weight = g.related(np.arange(n_ents))
    for a, b, w in zip(owner, others, weight, strict=True):
        adj[n_rows + a, n_rows + b] = w
    deg = adj.sum(axis=0)
    walk = adj / np.where(deg > 0, deg, 1.0)
    s = np.zeros(n)
    for e, w in entity_seeds.items():
        s[n_rows + e] += w
    for r, w in chunk_seeds.items():
        s[r] += w
    s /= s.sum()
    p = s.copy()
    for _ in range(iterations):
        walked = walk @ p
        p = (1 - damping) * s + damping * (walked + (p.sum() - walked.sum()) * s)
    return p[:n_rows], p[n_rows:]


def test_answer_two_hops_away_beats_an_unrelated_chunk(g):
    # acme -> chunk 0 -> maria -> chunk 1 (the answer); chunk 2 shares nothing
    chunks, entities = ppr(g, {ACME: 1.0})
    assert chunks[1] > 0
    assert chunks[1] > chunks[2]
    assert chunks[2] == 0 and entities[ZETA] == 0
    assert chunks[0] > chunks[1]  # the one-hop chunk still leads
    assert entities[MARIA] > entities[PORTO] > 0


def test_scores_form_a_distribution(g):
    for seeds in ({ACME: 1.0}, {MARIA: 2.0, ZETA: 0.5}):
        chunks, entities = ppr(g, seeds, {1: 3.0})
        assert (chunks >= 0).all() and (entities >= 0).all()
        assert chunks.sum() + entities.sum() == pytest.approx(1.0, abs=1e-6)


def test_damping_zero_returns_the_seed_distribution(g):
    chunks, entities = ppr(g, {ACME: 3.0}, {2: 1.0}, damping=0.0)
    np.testing.assert_allclose(chunks, [0, 0, 0.25, 0], atol=1e-7)
    np.testing.assert_allclose(entities, [0.75, 0, 0, 0], atol=1e-7)


def test_no_seeds_gives_nothing(g):
    for kw in ({}, {"entity_seeds": {}, "chunk_seeds": {}}, {"entity_seeds": {0: 0.0}}):
        (rows, scores), (ents, _) = push_ppr(g, **kw)
        assert len(rows) == len(scores) == len(ents) == 0


def test_isolated_nodes_do_not_leak_mass(g):
    # all the restart mass on the isolated chunk: it keeps it all
    chunks, entities = ppr(g, chunk_seeds={3: 1.0})
    assert chunks[3] == pytest.approx(1.0) and not entities.any()
    # shared with a connected seed: what reaches the isolated chunk goes back to the seeds
    chunks, entities = ppr(g, {ACME: 1.0}, {3: 1.0})
    assert chunks.sum() + entities.sum() == pytest.approx(1.0, abs=1e-6)
    # fixed point of p3 = (1-d)*0.5 + d*(0 + p3*0.5) with d = 0.5: p3 = 1/3
    assert chunks[3] == pytest.approx(1 / 3, abs=1e-6)


def test_relation_edges_connect_entities():
    # x (0) and y (1) share no chunk; only the relation joins them
    plain = EntityGraph.from_mentions(2, [(0, 0), (1, 1)])
    chunks, _ = ppr(plain, {0: 1.0})
    assert chunks[1] == 0
    g = EntityGraph.from_mentions(2, [(0, 0), (1, 1)], relations=[(0, 0, 1)])
    chunks, entities = ppr(g, {0: 1.0})
    assert chunks[1] > 0 and entities[1] > 0
    assert chunks.sum() + entities.sum() == pytest.approx(1.0, abs=1e-6)
    assert g.related(np.array([0]))[1].tolist() == [1]
    assert g.related(np.array([1]))[1].tolist() == [0]


def test_relation_weights_saturate_and_skip_self_edges():
    x, y, z = 0, 1, 2
    rels = [(0, x, y), (0, y, x), (0, x, y), (1, x, z), (0, x, x)]  # three x–y: capped
    g = EntityGraph.from_mentions(2, [(0, x), (0, y), (1, z)], relations=rels)
    owner, others, weight = g.related(np.array([x, y, z]))
    got = {(int(o), int(b)): float(w) for o, b, w in zip(owner, others, weight, strict=True)}
    assert got == {(x, y): 1.0, (x, z): 0.5, (y, x): 1.0, (z, x): 0.5}
    # an entity's degree is its chunks plus its relation weights, read without its edges
    np.testing.assert_allclose(g.entity_degree(np.array([x, y, z])), [1 + 1.5, 1 + 1.0, 1 + 0.5])


def test_about_entities_of_chunks_of_and_df():
    g = EntityGraph.from_mentions(4, [*MENTIONS, (0, ACME)], about=[(0, ACME), (2, ACME)])
    assert g.about(np.array([ACME]))[1].tolist() == [0, 2]
    assert g.about(np.array([MARIA]))[1].tolist() == []
    owner, ents = g.entities_of(np.array([0, 1, 3]))
    assert list(zip(owner.tolist(), ents.tolist(), strict=True)) == [
        (0, ACME), (0, MARIA), (1, MARIA), (1, PORTO),
    ]  # fmt: skip
    assert g.chunks_of(np.array([MARIA]))[1].tolist() == [0, 1]
    assert g.entity_df(np.array([ACME, MARIA])).tolist() == [1, 2]  # a repeat counts once
    assert g.chunk_degree(np.array([0, 3])).tolist() == [2.0, 0.0]


def test_deleted_rows_leave_the_graph():
    g = EntityGraph.from_mentions(4, MENTIONS)
    g.live = np.array([True, False, True, True])
    assert g.chunks_of(np.array([MARIA]))[1].tolist() == [0]


def test_push_matches_exact_pagerank_within_its_bound():
    rng = np.random.default_rng(3)
    n_rows, n_ents = 300, 200
    mentions, relations = [], []
    for r in range(n_rows):
        ents = sorted(set(rng.zipf(1.6, rng.integers(1, 6)).clip(1, n_ents) - 1))
        mentions += [(r, int(e)) for e in ents]
        relations += [(r, int(a), int(b)) for a, b in itertools.pairwise(ents)]
    g = EntityGraph.from_mentions(n_rows, mentions, relations)
    seeds_e, seeds_c = {0: 1.0, 7: 0.5}, {5: 0.3, 42: 0.2}
    exact_c, exact_e = power_iteration(g, seeds_e, seeds_c)
    for eps in (1e-4, 1e-6):
        chunks, entities = ppr(g, seeds_e, seeds_c, epsilon=eps)
        bound_c = eps * np.maximum(g.chunk_degree(np.arange(n_rows)), 1)
        bound_e = eps * np.maximum(g.entity_degree(np.arange(n_ents)), 1)
        assert np.all(np.abs(chunks - exact_c) <= bound_c + 1e-9)
        assert np.all(np.abs(entities - exact_e) <= bound_e + 1e-9)
    top = np.argsort(-exact_c)[:10]
    np.testing.assert_array_equal(np.argsort(-chunks)[:10], top)


def test_push_touches_only_the_neighbourhood():
    # two components: seeds in the first never reach the second
    mentions = [(r, r % 5) for r in range(50)] + [(50 + r, 5 + r % 5) for r in range(50)]
    g = EntityGraph.from_mentions(100, mentions)
    (rows, _), (ents, _) = push_ppr(g, {0: 1.0}, epsilon=1e-6)
    assert set(rows.tolist()) <= set(range(50)) and set(ents.tolist()) == {0}
