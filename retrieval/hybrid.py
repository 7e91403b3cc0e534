"""Hybrid retrieval: dense + BM25 + graph (personalized PageRank) + multi-hop expansion.

Modes, all over the same chunks:

- ``vector``: cosine similarity of the question and chunk embeddings.
- ``lexical``: BM25.
- ``graph``: personalized PageRank over the entity–chunk graph, restarting on
  the question's linked entities and on the top dense chunks (HippoRAG).
- ``hybrid``: reciprocal-rank fusion of the three, then a multi-hop step that
  scores passage *pairs*: for each of the best first passages, the passages
  reachable through its entities are re-scored against the question plus that
  passage, and the best pairs lead the ranking.

Every ranked chunk keeps its per-signal scores, the linked entities that
reached it and the graph paths (entity -> relation -> entity -> chunk) that
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
    """Settings of the hybrid retriever (defaults chosen by ``kgqa eval``; see README).

    ``candidates``: depth of each signal's list that enters fusion.
    ``rrf_k``: the constant of reciprocal-rank fusion.
    ``weights``: per-signal weights in fusion.
    ``damping``: PageRank's probability of following an edge (HippoRAG: 0.5).
    ``dense_seeds`` / ``dense_seed_mass``: how many top dense chunks seed
    PageRank, and their share of the restart mass.
    ``expand_from``: first passages of the pair step; ``pair_alpha``: weight
    of the first passage in the second hop's query; ``max_entity_df``: bridge
    entities mentioned in more chunks than this are hubs and not followed.
    """

    candidates: int = 50
    rrf_k: float = 20.0
    weights: dict[str, float] = field(
        default_factory=lambda: {"vector": 1.0, "lexical": 1.0, "graph": 1.0}
    )
    damping: float = 0.5
    dense_seeds: int = 5
    dense_seed_mass: float = 0.5
    expand_from: int = 3
    pair_alpha: float = 0.5
    pair_weight: float = 1.0
    max_entity_df: int = 50


@dataclass(frozen=True)
class Ranked:
    key: int
    score: float
    scores: dict[str, float]
    entities: tuple[str, ...] = ()
    paths: tuple[tuple[str, ...], ...] = ()


@dataclass
class Signals:
    """Per-question scores over all chunks, ``(C,)`` each."""

    dense: NDArray[np.float32]
    lexical: NDArray[np.float32] | None = None
    graph: NDArray[np.float32] | None = None
    links: list[LinkedEntity] = field(default_factory=list)


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
            sig.graph = self.ppr(sig.dense, sig.links)
        return sig

    def ppr(self, dense: NDArray[np.float32], links: list[LinkedEntity]) -> NDArray[np.float32]:
        cfg = self.config
        ent_seeds: dict[int, float] = {}
        for link in links:
            i = self.graph.entity_index.get(link.entity_id)
            if i is not None:
                ent_seeds[i] = max(ent_seeds.get(i, 0.0), link.score * link.weight)
        chunk_seeds: dict[int, float] = {}
        top = _top(dense, cfg.dense_seeds)
        if len(top):
            w = np.exp((dense[top] - dense[top].max()) * 20.0)
            mass = cfg.dense_seed_mass if ent_seeds else 1.0
            ent_total = sum(ent_seeds.values())
            scale = mass / w.sum() * (ent_total / (1 - mass) if ent_seeds and mass < 1 else 1.0)
            chunk_seeds = {int(r): float(x * scale) for r, x in zip(top, w, strict=False)}
        scores, _ = self.graph.ppr(ent_seeds, chunk_seeds, damping=cfg.damping)
        return scores

    # -- ranking -------------------------------------------------------------
    def rank(self, sig: Signals, mode: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Rows in rank order and their scores."""
        if mode == "vector":
            rows = _top(sig.dense, self.config.candidates)
            return rows, sig.dense[rows]
        if mode == "lexical":
            assert sig.lexical is not None
            rows = _top(sig.lexical, self.config.candidates)
            return rows, sig.lexical[rows]
        if mode == "graph":
            assert sig.graph is not None
            rows = _top(sig.graph, self.config.candidates)
            return rows, sig.graph[rows]
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
        """Re-rank ``rows`` so that the best (first passage, bridged passage) pairs lead."""
        cfg = self.config
        if cfg.expand_from <= 0 or not len(rows):
            return rows, fused[rows]
        g = self.graph
        base = fused / max(float(fused.max()), 1e-9)  # (C,) in [0, 1]
        best: dict[int, float] = {}
        for r1 in rows[: cfg.expand_from]:
            bridge = [e for e in g.entities_of(int(r1)) if g.entity_df[e] <= cfg.max_entity_df]
            cand = set(rows.tolist())
            for e in bridge:
                cand.update(g.chunks_of(int(e)).tolist())
            cand.discard(int(r1))
            if not cand:
                continue
            cand_rows = np.fromiter(cand, dtype=np.int64)
            second = self.vectors[cand_rows] @ self.vectors[r1]  # (n,) similarity to p1
            hop = sig.dense[cand_rows] + cfg.pair_alpha * second
            hop = hop / max(float(hop.max()), 1e-9)
            pair = base[r1] + cfg.pair_weight * hop + base[cand_rows]
            j = int(np.argmax(pair))
            score = float(pair[j])
            for r, s in ((int(r1), score), (int(cand_rows[j]), score)):
                if s > best.get(r, -1.0):
                    best[r] = s
        order = sorted(best, key=lambda r: -best[r])
        rest = [int(r) for r in rows if int(r) not in best]
        out = np.asarray(order + rest, dtype=np.int64)
        top = max(best.values()) if best else 1.0
        scores = np.asarray([best.get(int(r), 0.0) for r in out], dtype=np.float32)
        scores[len(order) :] = base[out[len(order) :]] * 0.5 * top
        return out, scores

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
        rows, scores = self.rank(sig, mode)
        return [
            self.explain(sig, int(r), float(s))
            for r, s in zip(rows[:top_k], scores[:top_k], strict=False)
        ]

    def explain(self, sig: Signals, row: int, score: float) -> Ranked:
        scores = {"vector": float(sig.dense[row])}
        if sig.lexical is not None:
            scores["lexical"] = float(sig.lexical[row])
        if sig.graph is not None:
            scores["graph"] = float(sig.graph[row])
        g = self.graph
        mine = set(g.entities_of(row).tolist())
        linked = [lnk for lnk in sig.links if g.entity_index.get(lnk.entity_id) is not None]
        direct = tuple(lnk.entity_id for lnk in linked if g.entity_index[lnk.entity_id] in mine)
        chunk = f"chunk:{int(self.keys[row])}"
        paths: list[tuple[str, ...]] = [(e, "mentioned in", chunk) for e in direct]
        if not direct:  # one hop: linked entity -> neighbour entity mentioned here
            for lnk in linked[:5]:
                e0 = g.entity_index[lnk.entity_id]
                for e1 in self._neighbour_entities(e0) & mine:
                    paths.append(
                        (lnk.entity_id, "related to", g.entity_ids[e1], "mentioned in", chunk)
                    )
                    if len(paths) >= 3:
                        break
        return Ranked(
            int(self.keys[row]),
            score,
            scores,
            tuple(lnk.entity_id for lnk in linked if any(p[0] == lnk.entity_id for p in paths)),
            tuple(paths[:3]),
        )

    def _neighbour_entities(self, e: int) -> set[int]:
        t = self.graph.transition
        n_c = self.graph.n_chunks
        node = n_c + e
        col = t[:, node]
        return {int(i) - n_c for i in col.indices if i >= n_c}
