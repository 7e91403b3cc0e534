"""Hybrid retrieval: dense + BM25 + graph (personalized PageRank) + passage pairs.

Modes, all over the same chunks:

- ``vector``: cosine similarity of the question and chunk embeddings.
- ``lexical``: BM25.
- ``graph``: personalized PageRank over the entity–chunk graph, restarting on
  the question's linked entities, the chunks *about* them (by title), and the
  top dense chunks (HippoRAG's recipe).
- ``hybrid``: PageRank restarting on all of the above plus the top BM25
  chunks, then a multi-hop step that scores passage *pairs*: for each of the
  best first passages, the passages about (or mentioning) its entities are
  re-scored against the question moved towards that first passage, and the
  best pairs lead the ranking.

Every signal is sparse: the dense and BM25 top lists, and PageRank by local
push (:mod:`retrieval.ppr`) from the seeds, so a query reads the
neighbourhood of the question, not the whole base. A :class:`Corpus` is what
the retriever reads: the persisted search index of an embedded base, or a
Neo4j server's indexes and graph.

Every ranked chunk keeps its per-signal scores, the linked entities that
reached it, and typed paths (entity -> relation -> entity -> chunk) that
explain it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kgqa.types import (
    MENTIONED_IN,
    MENTIONS,
    RELATED_TO,
    ChunkStep,
    EntityStep,
    PathStep,
    RelationStep,
    RetrievalMode,
)
from retrieval.linking import LinkedEntity
from retrieval.ppr import DEFAULT_EPSILON, PushGraph, push_ppr

if TYPE_CHECKING:
    from numpy.typing import NDArray


class CorpusGraph(PushGraph, Protocol):
    """The entity–chunk graph as hybrid retrieval reads it (rows and entity indices)."""

    def about(self, entities: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(owner, row)``: the chunks about each entity (its document's title names it)."""
        ...

    def entity_ids(self, entities: NDArray[np.int64]) -> list[str]: ...

    def entity_df(self, entities: NDArray[np.int64]) -> NDArray[np.int64]: ...


class Corpus(Protocol):
    """What hybrid retrieval reads of a base, for one question.

    Rows are the corpus's own dense ids of chunks; :meth:`keys_of` maps them
    to store keys.
    """

    @property
    def graph(self) -> CorpusGraph: ...

    def session(self) -> Corpus:
        """The corpus for one question (a corpus that caches per question starts afresh)."""
        ...

    def keys_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]: ...

    def dense_top(self, query: NDArray[np.float32], k: int) -> tuple[NDArray, NDArray]:
        """``(rows, cosines)`` of the ``k`` nearest chunks, best first."""
        ...

    def vectors(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """``(len(rows), dim)`` chunk embeddings."""
        ...

    def lexical(self, question: str) -> tuple[NDArray, NDArray]:
        """``(rows, BM25 scores > 0)``, rows ascending: every match, or at least the best 100."""
        ...

    def has_terms(self, question: str) -> bool:
        """Does any word of ``question`` (stop words aside) occur in the base?"""
        ...

    def link(self, question: str, surfaces: list[str]) -> list[LinkedEntity]: ...

    def is_name(self, text: str) -> bool:
        """Whether ``text`` is an alias of an entity of the base's graph (or a title the
        graph knows with a disambiguator after it, "The Girl Who Kicked the Hornets' Nest"
        for "... (film)")."""
        ...


@dataclass(frozen=True)
class RetrievalConfig:
    """Settings of the hybrid retriever (defaults measured with ``kgqa eval``; see README).

    ``candidates``: depth of each signal's list that enters fusion.
    ``rrf_k`` / ``weights``: reciprocal-rank fusion constant and per-signal weights.
    ``damping``: PageRank's probability of following an edge (HippoRAG: 0.5).
    ``ppr_epsilon``: push threshold of the local PageRank (residual per unit
    of degree; see :mod:`retrieval.ppr`).
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
    ppr_epsilon: float = DEFAULT_EPSILON
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
    """A ranked chunk: its store key, scores, and typed paths (names filled in later)."""

    key: int
    score: float
    scores: dict[str, float]
    entities: tuple[str, ...] = ()  # linked entity ids that led here
    paths: tuple[tuple[PathStep, ...], ...] = ()


class Sparse:
    """Scores of some rows (the rest are 0): ``rows`` ``(n,)`` distinct, ``scores`` ``(n,)``."""

    def __init__(self, rows: NDArray, scores: NDArray) -> None:
        self.rows = np.asarray(rows, np.int64)
        self.scores = np.asarray(scores, np.float32)
        self._order: NDArray[np.int64] | None = None

    def get(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """The score of each of ``rows`` (0 where it has none)."""
        rows = np.asarray(rows, np.int64)
        if not len(self.rows):
            return np.zeros(len(rows), np.float32)
        if self._order is None:
            ascending = len(self.rows) < 2 or bool(np.all(self.rows[1:] > self.rows[:-1]))
            self._order = (
                np.arange(len(self.rows)) if ascending else np.argsort(self.rows, kind="stable")
            )
        sorted_rows = self.rows[self._order]
        pos = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
        hit = sorted_rows[pos] == rows
        return np.where(hit, self.scores[self._order[pos]], 0.0).astype(np.float32)


@dataclass
class Signals:
    """Per-question signals, each sparse over rows, and the linked entities."""

    dense: Sparse
    lexical: Sparse | None = None
    graph: Sparse | None = None
    links: list[LinkedEntity] = field(default_factory=list)
    bridges: dict[int, tuple[int, int]] = field(default_factory=dict)  # row -> (p1 row, entity)


class HybridRetriever:
    """See the module docstring."""

    def __init__(self, config: RetrievalConfig | None = None) -> None:
        self.config = config or RetrievalConfig()

    # -- signals -------------------------------------------------------------
    def signals(
        self,
        corpus: Corpus,
        question: str,
        q_vec: NDArray[np.float32],
        surfaces: list[str],
        mode: RetrievalMode,
    ) -> Signals:
        cfg = self.config
        depth = max(cfg.candidates, cfg.dense_seeds, cfg.lexical_seeds)
        sig = Signals(dense=Sparse(*corpus.dense_top(q_vec, depth)))
        if mode in ("lexical", "hybrid"):
            sig.lexical = Sparse(*corpus.lexical(question))
        if mode in ("graph", "hybrid"):
            sig.links = corpus.link(question, surfaces)
            sig.graph = self.ppr(corpus, sig, use_lexical=mode == "hybrid")
        return sig

    def ppr(self, corpus: Corpus, sig: Signals, use_lexical: bool = True) -> Sparse:
        """PageRank restarting on linked entities, the chunks about them, and top chunks."""
        cfg = self.config
        ent_seeds: dict[int, float] = {}
        chunk_seeds: dict[int, float] = {}
        links = [lnk for lnk in sig.links if lnk.index >= 0]
        for link in links:
            w = link.score * link.weight
            ent_seeds[link.index] = max(ent_seeds.get(link.index, 0.0), w)
        if links:
            owner, rows = corpus.graph.about(np.asarray([lnk.index for lnk in links], np.int64))
            for o, r in zip(owner.tolist(), rows.tolist(), strict=True):
                w = cfg.about_weight * links[o].score * links[o].weight
                chunk_seeds[r] = max(chunk_seeds.get(r, 0.0), w)
        linked_mass = sum(ent_seeds.values()) + sum(chunk_seeds.values())
        prior: dict[int, float] = {}
        lists = [(sig.dense, cfg.dense_seeds)]
        if use_lexical and sig.lexical is not None:
            lists.append((sig.lexical, cfg.lexical_seeds))
        for found, k in lists:
            top = self._top(corpus, found, k)
            rows, scores = top.rows, top.scores
            if not len(rows):
                continue
            w = np.exp((scores / max(float(scores[0]), 1e-9) - 1.0) * 5.0)
            for r, x in zip(rows.tolist(), (w / w.sum()).tolist(), strict=True):
                prior[r] = prior.get(r, 0.0) + x
        if prior:
            total = sum(prior.values())
            mass = cfg.prior_mass
            share = linked_mass * mass / (1 - mass) if linked_mass > 0 and mass < 1 else 1.0
            for r, x in prior.items():
                chunk_seeds[r] = chunk_seeds.get(r, 0.0) + x * share / total
        (rows, scores), _ = push_ppr(
            corpus.graph, ent_seeds, chunk_seeds, damping=cfg.damping, epsilon=cfg.ppr_epsilon
        )
        return Sparse(rows, scores)

    # -- ranking -------------------------------------------------------------
    def _top(self, corpus: Corpus, found: Sparse, k: int, positive: bool = True) -> Sparse:
        """The ``k`` best of ``found``; ties go to the lower store key."""
        rows, scores = found.rows, found.scores
        if positive:
            rows, scores = rows[scores > 0], scores[scores > 0]
        if len(rows) > k:
            cut = np.partition(-scores, k - 1)[k - 1]
            keep = -scores <= cut
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((corpus.keys_of(rows), -scores))[:k]
        return Sparse(rows[order], scores[order])

    def rank(self, corpus: Corpus, sig: Signals, mode: RetrievalMode, q_vec: NDArray) -> Sparse:
        """Rows in rank order and their scores."""
        cfg = self.config
        if mode == "vector":
            return self._top(corpus, sig.dense, cfg.candidates, positive=False)
        if mode == "lexical":
            assert sig.lexical is not None
            return self._top(corpus, sig.lexical, cfg.candidates)
        assert sig.graph is not None
        fused = sig.graph if cfg.fusion == "ppr" or mode == "graph" else self.fuse(corpus, sig)
        top = self._top(corpus, fused, cfg.candidates)
        if mode == "graph":
            return top
        if len(top.rows) < cfg.candidates:  # a small base: the dense list fills the pool
            extra = sig.dense.rows[~np.isin(sig.dense.rows, top.rows)]
            extra = extra[: cfg.candidates - len(top.rows)]
            top = self._top(
                corpus,
                Sparse(np.concatenate([top.rows, extra]),
                       np.concatenate([top.scores, np.zeros(len(extra), np.float32)])),
                cfg.candidates,
                positive=False,
            )  # fmt: skip
        return self.pairs(corpus, sig, top, fused, q_vec)

    def fuse(self, corpus: Corpus, sig: Signals) -> Sparse:
        """Weighted reciprocal-rank fusion over the signals' top candidates."""
        cfg = self.config
        fused: dict[int, float] = {}
        for name, found in (("vector", sig.dense), ("lexical", sig.lexical), ("graph", sig.graph)):
            if found is None:
                continue
            top = self._top(corpus, found, cfg.candidates, positive=name != "vector")
            for i, r in enumerate(top.rows.tolist()):
                fused[r] = fused.get(r, 0.0) + cfg.weights.get(name, 1.0) / (cfg.rrf_k + i + 1)
        return Sparse(np.fromiter(fused, np.int64, len(fused)), np.fromiter(fused.values(), float))

    def pairs(
        self, corpus: Corpus, sig: Signals, top: Sparse, fused: Sparse, q_vec: NDArray
    ) -> Sparse:
        """Re-rank ``top`` so that the best (first passage, bridged passage) pairs lead.

        For each of the ``expand_from`` best first passages p1, the candidate
        second passages p2 are those about an entity of p1, or mentioning one
        that is not a hub. ``hop(p2) = base(p2) / 2 + q2(p2) + about_bonus``,
        with ``q2 = dense(p2) + pair_alpha * sim(p1, p2)`` scaled to at most 1;
        a pair scores ``base(p1) + pair_weight * hop(p2)``. Each passage keeps
        the best of its own base score and the pairs it is in.
        """
        cfg = self.config
        rows = top.rows
        if cfg.expand_from <= 0 or not len(rows):
            return top
        g = corpus.graph
        peak = max(float(fused.scores.max(initial=0.0)), 1e-9)
        best = {int(r): float(s) / peak for r, s in zip(rows, top.scores, strict=True)}
        norm = 1.0 + cfg.pair_weight * (1.5 + cfg.about_bonus)
        for r1 in rows[: cfg.expand_from].tolist():
            _, ents = g.entities_of(np.asarray([r1], np.int64))
            ids = g.entity_ids(ents)
            ents = ents[np.argsort(np.asarray(ids, dtype=object), kind="stable")]  # by id
            via: dict[int, int] = {}
            about: set[int] = set()
            ab_owner, ab_rows = g.about(ents)
            small = ents[g.entity_df(ents) <= cfg.max_entity_df]
            ch_owner, ch_rows = g.chunks_of(small)
            by_entity: dict[int, list[int]] = {}
            for o, r in zip(ab_owner.tolist(), ab_rows.tolist(), strict=True):
                about.add(r)
                by_entity.setdefault(int(ents[o]), []).append(r)
            for o, r in zip(ch_owner.tolist(), ch_rows.tolist(), strict=True):
                by_entity.setdefault(int(small[o]), []).append(r)
            for e in ents.tolist():
                for r in by_entity.get(e, ()):
                    via.setdefault(r, e)
            via.pop(r1, None)
            if not via:
                continue
            c = np.fromiter(via, dtype=np.int64, count=len(via))
            vecs = corpus.vectors(np.concatenate([c, [r1]]))  # (n + 1, dim)
            q2 = vecs[:-1] @ q_vec + cfg.pair_alpha * (vecs[:-1] @ vecs[-1])  # (n,)
            base = fused.get(c) / peak
            hop = (0.5 * base + q2 / max(float(q2.max()), 1e-9)).astype(np.float64)
            hop += cfg.about_bonus * np.isin(c, list(about))
            base1 = float(fused.get(np.asarray([r1]))[0]) / peak
            pair = (base1 + cfg.pair_weight * hop) / norm
            for x, s in zip(c.tolist(), pair.tolist(), strict=True):
                if s > best.get(x, -1.0):
                    best[x] = s
                    sig.bridges[x] = (r1, via[x])
            best[r1] = max(best[r1], (base1 + cfg.pair_weight * float(hop.max())) / norm)
        # ties (a first passage and its best partner score alike) keep the fused order
        order = sorted(best, key=lambda r: -best[r])
        return Sparse(np.asarray(order, np.int64), np.asarray([best[r] for r in order]))

    # -- public ----------------------------------------------------------------
    def retrieve(
        self,
        corpus: Corpus,
        question: str,
        q_vec: NDArray[np.float32],
        surfaces: list[str],
        *,
        mode: RetrievalMode = "hybrid",
        top_k: int = 5,
    ) -> list[Ranked]:
        corpus = corpus.session()
        sig = self.signals(corpus, question, q_vec, surfaces, mode)
        if not self.relevant(corpus, question, sig):
            return []
        ranked = self.rank(corpus, sig, mode, q_vec)
        rows, scores = ranked.rows[:top_k], ranked.scores[:top_k]
        keys = corpus.keys_of(rows)
        dense = corpus.vectors(rows) @ q_vec if len(rows) else np.zeros(0)
        return [
            self.explain(corpus, sig, int(r), float(s), int(k), float(d))
            for r, s, k, d in zip(rows, scores, keys, dense, strict=True)
        ]

    def relevant(self, corpus: Corpus, question: str, sig: Signals) -> bool:
        """Is anything in the base about ``question``: a linked entity, a shared word,
        or a chunk at least ``min_dense`` similar (the relevance floor)?"""
        if sig.links:
            return True
        if sig.lexical is not None and float(sig.lexical.scores.max(initial=0.0)) > 0:
            return True
        if sig.lexical is None and corpus.has_terms(question):
            return True
        return float(sig.dense.scores.max(initial=-1.0)) >= self.config.min_dense

    def explain(
        self, corpus: Corpus, sig: Signals, row: int, score: float, key: int, dense: float
    ) -> Ranked:
        """Per-signal scores and up to three typed paths that led to ``row``."""
        one = np.asarray([row], np.int64)
        scores = {"vector": dense}
        if sig.lexical is not None:
            scores["lexical"] = float(sig.lexical.get(one)[0])
        if sig.graph is not None:
            scores["graph"] = float(sig.graph.get(one)[0])
        g = corpus.graph
        mine = set(g.entities_of(one)[1].tolist())
        linked = [lnk for lnk in sig.links if lnk.index >= 0]
        chunk = ChunkStep(key, "", "")
        paths: list[tuple[PathStep, ...]] = [
            (EntityStep(lnk.entity_id, lnk.entity_id), RelationStep(MENTIONED_IN), chunk)
            for lnk in linked
            if lnk.index in mine
        ]
        if row in sig.bridges:  # reached from a first passage through a shared entity
            r1, e = sig.bridges[row]
            (eid,) = g.entity_ids(np.asarray([e], np.int64))
            (k1,) = corpus.keys_of(np.asarray([r1], np.int64)).tolist()
            paths.append((ChunkStep(k1, "", ""), RelationStep(MENTIONS), EntityStep(eid, eid),
                          RelationStep(MENTIONED_IN), chunk))  # fmt: skip
        if not paths and linked:  # one hop: linked entity -> related entity mentioned here
            first = linked[:5]
            order = sorted({lnk.index for lnk in first})
            owner, others, _ = g.related(np.asarray(order, np.int64))
            for lnk in first:
                near = sorted(set(others[owner == order.index(lnk.index)].tolist()) & mine)[:2]
                start = EntityStep(lnk.entity_id, lnk.entity_id)
                for eid in g.entity_ids(np.asarray(near, np.int64)):
                    step = EntityStep(eid, eid)
                    related = RelationStep(RELATED_TO)
                    paths.append((start, related, step, RelationStep(MENTIONED_IN), chunk))
        used = {s.id for p in paths for s in p if isinstance(s, EntityStep)}
        entities = tuple(lnk.entity_id for lnk in linked if lnk.entity_id in used)
        return Ranked(key, score, scores, entities, tuple(paths[:3]))
