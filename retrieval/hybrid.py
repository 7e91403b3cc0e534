"""Hybrid retrieval: dense + BM25 + graph (personalized PageRank) + passage pairs.

Modes, all over the same chunks:

- ``vector``: cosine similarity of the question and chunk embeddings.
- ``lexical``: BM25.
- ``graph``: personalized PageRank over the entity–chunk graph, restarting on
  the question's linked entities, the chunks *about* them (by title), and the
  top dense chunks (HippoRAG's recipe).
- ``hybrid``: PageRank restarting on all of the above plus the top BM25
  chunks, fused with the dense and BM25 rankings, then a multi-hop step that
  scores passage *pairs*: for each of the best first passages, the passages
  about (or mentioning) its entities are re-scored against the question moved
  towards that first passage, and the best pairs lead the ranking.

Every ranked chunk keeps its per-signal scores, the linked entities that
reached it, and readable paths (entity -> relation -> entity -> chunk) that
explain it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from retrieval.graph import EntityChunkGraph
from retrieval.lexical import BM25Index
from retrieval.linking import EntityLinker, LinkedEntity

if TYPE_CHECKING:
    from numpy.typing import NDArray

MODES = ("vector", "lexical", "graph", "hybrid")


@dataclass(frozen=True)
class RetrievalConfig:
    """Settings of the hybrid retriever (defaults measured with ``kgqa eval``; see README).

    ``candidates``: depth of each signal's list that enters fusion.
    ``rrf_k`` / ``weights``: reciprocal-rank fusion constant and per-signal weights.
    ``damping``: PageRank's probability of following an edge (HippoRAG: 0.5).
    ``dense_seeds`` / ``lexical_seeds``: top chunks of each signal that seed
    PageRank; ``prior_mass``: their share of the restart mass next to the
    linked entities; ``about_weight``: restart weight of the chunks about a
    linked entity, relative to the entity.
    ``expand_from``: first passages of the pair step; ``pair_alpha``: weight of
    the first passage in the second hop's query; ``max_entity_df``: entities
    mentioned in more chunks than this are hubs, not bridges.
    ``min_dense``: the relevance floor. A question that links no entity and
    shares no word (stop words aside) with any chunk gets hits, in any mode,
    only when some chunk's cosine similarity reaches this. Measured with
    all-MiniLM-L6-v2 on the hotpotqa and musique corpora: questions about
    nothing in them ("???", invented names) reach at most 0.44, and every
    development question shares words with its corpus.
    """

    candidates: int = 50
    rrf_k: float = 20.0
    weights: dict[str, float] = field(
        default_factory=lambda: {"vector": 1.0, "lexical": 1.0, "graph": 1.0}
    )
    fusion: str = "ppr"  # "ppr" (PageRank scores) or "rrf" (rank fusion of the three)
    damping: float = 0.5
    dense_seeds: int = 10
    lexical_seeds: int = 10
    prior_mass: float = 0.5
    about_weight: float = 1.0
    expand_from: int = 3
    pair_alpha: float = 0.5
    pair_weight: float = 1.0
    about_bonus: float = 0.5
    max_entity_df: int = 50
    min_dense: float = 0.5


@dataclass(frozen=True)
class Ranked:
    key: int
    score: float
    scores: dict[str, float]
    entities: tuple[str, ...] = ()
    paths: tuple[tuple[str, ...], ...] = ()


@dataclass
class Signals:
    """Per-question scores over all chunks, ``(C,)`` each, and the linked entities."""

    dense: NDArray[np.float32]
    lexical: NDArray[np.float32] | None = None
    graph: NDArray[np.float32] | None = None
    links: list[LinkedEntity] = field(default_factory=list)
    bridges: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> (p1 row, entity)


def _top(scores: NDArray, k: int) -> NDArray[np.int64]:
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, np.int64)
    idx = np.argpartition(-scores, k - 1)[:k]
    return idx[np.argsort(-scores[idx], kind="stable")]


class HybridRetriever:
    """See the module docstring. Rows index chunks in ``chunk_keys`` order."""

    def __init__(
        self,
        chunk_keys: NDArray[np.int64],
        vectors: NDArray[np.float32],
        bm25: BM25Index,
        graph: EntityChunkGraph,
        linker: EntityLinker,
        config: RetrievalConfig,
    ) -> None:
        if not np.array_equal(bm25.keys, chunk_keys) or not np.array_equal(
            graph.chunk_keys, chunk_keys
        ):
            raise ValueError("vectors, BM25 and graph must index the same chunks in one order")
        self.keys = chunk_keys  # (C,)
        self.vectors = vectors  # (C, dim)
        self.bm25 = bm25
        self.graph = graph
        self.linker = linker
        self.config = config

    # -- signals -------------------------------------------------------------
    def signals(
        self, question: str, q_vec: NDArray[np.float32], surfaces: list[str], mode: str
    ) -> Signals:
        sig = Signals(dense=self.vectors @ q_vec)  # (C,)
        if mode in ("lexical", "hybrid"):
            sig.lexical = self.bm25.scores(question)
        if mode in ("graph", "hybrid"):
            sig.links = self.linker.link(question, surfaces)
            sig.graph = self.ppr(sig, use_lexical=mode == "hybrid")
        return sig

    def ppr(self, sig: Signals, use_lexical: bool = True) -> NDArray[np.float32]:
        """PageRank restarting on linked entities, the chunks about them, and top chunks."""
        cfg = self.config
        g = self.graph
        ent_seeds: dict[int, float] = {}
        chunk_seeds: dict[int, float] = {}
        for link in sig.links:
            i = g.entity_index.get(link.entity_id)
            if i is None:
                continue
            w = link.score * link.weight
            ent_seeds[i] = max(ent_seeds.get(i, 0.0), w)
            for row in g.about.get(i, ()):
                chunk_seeds[row] = max(chunk_seeds.get(row, 0.0), cfg.about_weight * w)
        linked_mass = sum(ent_seeds.values()) + sum(chunk_seeds.values())
        prior: dict[int, float] = {}
        lists = [(sig.dense, cfg.dense_seeds)]
        if use_lexical and sig.lexical is not None:
            lists.append((sig.lexical, cfg.lexical_seeds))
        for scores, k in lists:
            top = _top(scores, k)
            top = top[scores[top] > 0]
            if not len(top):
                continue
            w = np.exp((scores[top] / max(float(scores[top[0]]), 1e-9) - 1.0) * 5.0)
            for r, x in zip(top.tolist(), (w / w.sum()).tolist(), strict=True):
                prior[r] = prior.get(r, 0.0) + x
        if prior:
            total = sum(prior.values())
            mass = cfg.prior_mass
            share = linked_mass * mass / (1 - mass) if linked_mass > 0 and mass < 1 else 1.0
            for r, x in prior.items():
                chunk_seeds[r] = chunk_seeds.get(r, 0.0) + x * share / total
        scores, _ = g.ppr(ent_seeds, chunk_seeds, damping=cfg.damping)
        return scores

    # -- ranking -------------------------------------------------------------
    def rank(self, sig: Signals, mode: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Rows in rank order and their scores."""
        single = {"vector": sig.dense, "lexical": sig.lexical, "graph": sig.graph}
        if mode in single:
            scores = single[mode]
            assert scores is not None
            rows = _top(scores, self.config.candidates)
            if mode != "vector":
                rows = rows[scores[rows] > 0]  # no evidence at all is no hit
            return rows, scores[rows]
        if self.config.fusion == "ppr":
            assert sig.graph is not None
            fused = sig.graph
        else:
            fused = self.fuse(sig)
        rows = _top(fused, self.config.candidates)
        return self.pairs(sig, rows, fused)

    def fuse(self, sig: Signals) -> NDArray[np.float32]:
        """Weighted reciprocal-rank fusion over the signals' top candidates, ``(C,)``."""
        cfg = self.config
        fused = np.zeros(len(self.keys), dtype=np.float32)
        for name, scores in (("vector", sig.dense), ("lexical", sig.lexical), ("graph", sig.graph)):
            if scores is None:
                continue
            rows = _top(scores, cfg.candidates)
            rows = rows[scores[rows] > 0] if name != "vector" else rows
            fused[rows] += cfg.weights.get(name, 1.0) / (cfg.rrf_k + np.arange(1, len(rows) + 1))
        return fused

    def pairs(
        self, sig: Signals, rows: NDArray[np.int64], fused: NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Re-rank ``rows`` so that the best (first passage, bridged passage) pairs lead.

        For each of the ``expand_from`` best first passages p1, the candidate
        second passages p2 are those about an entity of p1, or mentioning one
        that is not a hub. ``hop(p2) = base(p2) / 2 + q2(p2) + about_bonus``,
        with ``q2 = dense(p2) + pair_alpha * sim(p1, p2)`` scaled to at most 1;
        a pair scores ``base(p1) + pair_weight * hop(p2)``. Each passage keeps
        the best of its own base score and the pairs it is in.
        """
        cfg = self.config
        if cfg.expand_from <= 0 or not len(rows):
            return rows, fused[rows]
        g = self.graph
        base = fused / max(float(fused.max()), 1e-9)  # (C,) in [0, 1]
        best: dict[int, float] = {int(r): float(base[r]) for r in rows}
        norm = 1.0 + cfg.pair_weight * (1.5 + cfg.about_bonus)
        for r1 in rows[: cfg.expand_from].tolist():
            via: dict[int, int] = {}
            about: set[int] = set()
            for e in g.entities_of(r1).tolist():
                for r in g.about.get(e, ()):
                    about.add(r)
                    via.setdefault(r, e)
                if g.entity_df[e] <= cfg.max_entity_df:
                    for r in g.chunks_of(e).tolist():
                        via.setdefault(r, e)
            via.pop(r1, None)
            if not via:
                continue
            c = np.fromiter(via, dtype=np.int64)
            q2 = sig.dense[c] + cfg.pair_alpha * (self.vectors[c] @ self.vectors[r1])  # (n,)
            hop = 0.5 * base[c] + q2 / max(float(q2.max()), 1e-9)
            hop += cfg.about_bonus * np.isin(c, list(about))
            pair = (base[r1] + cfg.pair_weight * hop) / norm
            for x, s in zip(c.tolist(), pair.tolist(), strict=True):
                if s > best.get(x, -1.0):
                    best[x] = s
                    sig.bridges[x] = (r1, via[x])
            first = (base[r1] + cfg.pair_weight * float(hop.max())) / norm
            best[r1] = max(best[r1], first)
        order = sorted(best, key=lambda r: -best[r])
        return np.asarray(order, dtype=np.int64), np.asarray(
            [best[r] for r in order], dtype=np.float32
        )

    # -- public ----------------------------------------------------------------
    def retrieve(
        self,
        question: str,
        q_vec: NDArray[np.float32],
        surfaces: list[str],
        *,
        mode: str = "hybrid",
        top_k: int = 5,
    ) -> list[Ranked]:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if not len(self.keys):
            return []
        sig = self.signals(question, q_vec, surfaces, mode)
        if not self.relevant(question, sig):
            return []
        rows, scores = self.rank(sig, mode)
        return [
            self.explain(sig, int(r), float(s))
            for r, s in zip(rows[:top_k], scores[:top_k], strict=False)
        ]

    def relevant(self, question: str, sig: Signals) -> bool:
        """Is anything in the base about ``question``: a linked entity, a shared word,
        or a chunk at least ``min_dense`` similar (the relevance floor)?"""
        if sig.links:
            return True
        if sig.lexical is not None and float(sig.lexical.max(initial=0.0)) > 0:
            return True
        if sig.lexical is None and self.bm25.has_terms(question):
            return True
        return float(sig.dense.max(initial=-1.0)) >= self.config.min_dense

    def explain(self, sig: Signals, row: int, score: float) -> Ranked:
        """Per-signal scores and up to three paths that led to ``row``."""
        scores = {"vector": float(sig.dense[row])}
        if sig.lexical is not None:
            scores["lexical"] = float(sig.lexical[row])
        if sig.graph is not None:
            scores["graph"] = float(sig.graph[row])
        g = self.graph
        mine = set(g.entities_of(row).tolist())
        linked = [lnk for lnk in sig.links if lnk.entity_id in g.entity_index]
        chunk = f"chunk:{int(self.keys[row])}"
        paths: list[tuple[str, ...]] = [
            (lnk.entity_id, "mentioned in", chunk)
            for lnk in linked
            if g.entity_index[lnk.entity_id] in mine
        ]
        if row in sig.bridges:  # reached from a first passage through a shared entity
            r1, e = sig.bridges[row]
            paths.append(
                (f"chunk:{int(self.keys[r1])}", "mentions", g.entity_ids[e], "mentioned in", chunk)
            )
        if not paths:  # one hop: linked entity -> related entity mentioned here
            for lnk in linked[:5]:
                e0 = g.entity_index[lnk.entity_id]
                for e1 in sorted(set(g.related(e0).tolist()) & mine)[:2]:
                    paths.append(
                        (lnk.entity_id, "related to", g.entity_ids[e1], "mentioned in", chunk)
                    )
        entities = tuple(lnk.entity_id for lnk in linked if any(lnk.entity_id in p for p in paths))
        return Ranked(int(self.keys[row]), score, scores, entities, tuple(paths[:3]))
