"""Approximate personalized PageRank by local push, touching only nodes near the seeds.

The graph has chunk nodes and entity nodes (undirected, weighted edges:
chunk–entity for a mention, entity–entity for a relation). PageRank with
restart distribution ``s`` and damping ``d`` is the fixed point of
``p = (1 - d) s + d W p`` with ``W`` the column-stochastic walk; a node
without edges gives its walk mass back to the seeds.

Push (Andersen, Chung and Lang 2006, "Local graph partitioning using
PageRank vectors") keeps an estimate ``p`` and a residual ``r``, starting at
``p = 0, r = s``. Pushing node ``u`` moves ``(1 - d) r(u)`` into ``p(u)`` and
spreads ``d r(u)`` over its neighbours by edge weight; only nodes with
``r(u) >= epsilon * deg(u)`` are pushed. The total work is bounded by
``1 / (epsilon (1 - d))`` pushes whatever the graph's size, and on return
every node's estimate is within ``epsilon * deg(u)`` of its PageRank. Nodes
are pushed in rounds (all those above the threshold at once), so the result
does not depend on how nodes are numbered. The returned scores add
``(1 - d) r`` (a lower bound of what the remaining residual contributes).

:class:`PushGraph` is all the push needs of a graph: the neighbours and
degrees of the nodes it pushes. The search index answers from its files
(:class:`retrieval.graph.EntityGraph`); a Neo4j base answers with Cypher.

>>> from retrieval.graph import EntityGraph
>>> g = EntityGraph.from_mentions(n_rows=2, mentions=[(0, 0), (0, 1), (1, 1)])
>>> (rows, scores), _ = push_ppr(g, entity_seeds={0: 1.0})
>>> rows.tolist()  # chunk 1 reached through the entity they share
[0, 1]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_EPSILON = 1e-5


class PushGraph(Protocol):
    """Neighbours and degrees of chunk rows and entity indices (dense integer ids).

    ``size()`` bounds the ids seen so far ``(n_rows, n_entities)``; a graph
    that discovers nodes as it is asked (Neo4j) may grow it after each call.
    """

    def size(self) -> tuple[int, int]: ...

    def chunk_degree(self, rows: NDArray[np.int64]) -> NDArray[np.float64]: ...

    def chunk_degree_bound(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """A lower bound of :meth:`chunk_degree`, cheaper to read (or the degree itself)."""
        ...

    def entity_degree(self, entities: NDArray[np.int64]) -> NDArray[np.float64]: ...

    def entity_degree_bound(self, entities: NDArray[np.int64]) -> NDArray[np.float64]:
        """A lower bound of :meth:`entity_degree`, cheaper to read (or the degree itself)."""
        ...

    def entities_of(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(owner, entity)`` for every entity mentioned by ``rows[owner]`` (weight 1)."""
        ...

    def chunks_of(
        self, entities: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(owner, row)`` for every live chunk mentioning ``entities[owner]`` (weight 1)."""
        ...

    def related(
        self, entities: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """``(owner, entity, weight)`` for every relation edge of ``entities[owner]``."""
        ...


def _grow(a: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    if len(a) >= n:
        return a
    out = np.zeros(max(n, 2 * len(a)), np.float64)
    out[: len(a)] = a
    return out


def _seeds(seeds: Mapping[int, float] | None) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    items = [(int(k), float(v)) for k, v in (seeds or {}).items() if v > 0]
    ids = np.asarray([k for k, _ in items], np.int64)
    return ids, np.asarray([v for _, v in items], np.float64)


def push_ppr(
    graph: PushGraph,
    entity_seeds: Mapping[int, float] | None = None,
    chunk_seeds: Mapping[int, float] | None = None,
    damping: float = 0.5,
    epsilon: float = DEFAULT_EPSILON,
    max_rounds: int = 100,
) -> tuple[tuple[NDArray[np.int64], NDArray[np.float32]], tuple[NDArray[np.int64], NDArray]]:
    """PageRank restarting on the seeds, ``((rows, scores), (entities, scores))``.

    Seeds are node weights, normalised to a distribution (entities by index,
    chunks by row). Only nodes that received mass are returned, ids
    ascending. No seeds -> empty arrays.
    """
    sc, wc = _seeds(chunk_seeds)
    se, we = _seeds(entity_seeds)
    total = wc.sum() + we.sum()
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    if total <= 0:
        return empty, empty
    wc, we = wc / total, we / total
    n_rows, n_ents = graph.size()
    r_c = _grow(np.zeros(0), max(n_rows, int(sc.max(initial=-1)) + 1))
    r_e = _grow(np.zeros(0), max(n_ents, int(se.max(initial=-1)) + 1))
    p_c, p_e = np.zeros(len(r_c)), np.zeros(len(r_e))  # calloc: pages only where touched
    np.add.at(r_c, sc, wc)
    np.add.at(r_e, se, we)
    cand_c, cand_e = np.unique(sc), np.unique(se)
    touched_c, touched_e = [cand_c], [cand_e]
    for _ in range(max_rounds):
        # a cheap lower bound of the degree rules most candidates out; the rest ask for it
        fc = cand_c[r_c[cand_c] >= epsilon * np.maximum(graph.chunk_degree_bound(cand_c), 1.0)]
        fc = fc[r_c[fc] >= epsilon * np.maximum(graph.chunk_degree(fc), 1.0)]
        fe = cand_e[r_e[cand_e] >= epsilon * np.maximum(graph.entity_degree_bound(cand_e), 1.0)]
        fe = fe[r_e[fe] >= epsilon * np.maximum(graph.entity_degree(fe), 1.0)]
        if not len(fc) and not len(fe):
            break
        mass_c, mass_e = r_c[fc], r_e[fe]
        r_c[fc] = 0.0
        r_e[fe] = 0.0
        p_c[fc] += (1 - damping) * mass_c
        p_e[fe] += (1 - damping) * mass_e
        deg_c, deg_e = graph.chunk_degree(fc), graph.entity_degree(fe)
        lost = damping * (mass_c[deg_c <= 0].sum() + mass_e[deg_e <= 0].sum())
        # chunk -> its entities, weight 1 each
        owner, ents = graph.entities_of(fc)
        # entity -> its chunks (weight 1) and related entities (relation weight)
        owner_c, rows = graph.chunks_of(fe)
        owner_r, others, weight = graph.related(fe)
        n_rows, n_ents = graph.size()
        r_c, p_c = _grow(r_c, n_rows), _grow(p_c, n_rows)
        r_e, p_e = _grow(r_e, n_ents), _grow(p_e, n_ents)
        share_c = damping * mass_c / np.maximum(deg_c, 1e-12)  # (|fc|,)
        share_e = damping * mass_e / np.maximum(deg_e, 1e-12)  # (|fe|,)
        np.add.at(r_e, ents, share_c[owner])
        np.add.at(r_c, rows, share_e[owner_c])
        np.add.at(r_e, others, share_e[owner_r] * weight)
        parts_c, parts_e = [rows], [ents, others]
        if lost > 0:  # isolated nodes give their walk mass back to the seeds
            np.add.at(r_c, sc, lost * wc)
            np.add.at(r_e, se, lost * we)
            parts_c.append(sc)
            parts_e.append(se)
        cand_c = np.unique(np.concatenate(parts_c))
        cand_e = np.unique(np.concatenate(parts_e))
        touched_c.append(cand_c)
        touched_e.append(cand_e)
    rows = np.unique(np.concatenate(touched_c))
    ents = np.unique(np.concatenate(touched_e))
    score_c = p_c[rows] + (1 - damping) * r_c[rows]
    score_e = p_e[ents] + (1 - damping) * r_e[ents]
    keep_c, keep_e = score_c > 0, score_e > 0
    return (
        (rows[keep_c], score_c[keep_c].astype(np.float32)),
        (ents[keep_e], score_e[keep_e].astype(np.float32)),
    )
