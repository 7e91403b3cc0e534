"""Question -> ranked, explained hits, over one knowledge base.

Builds (once per store generation) the in-memory retrieval context of a base
— chunk vectors, BM25, the sparse entity–chunk graph and the entity linker —
and runs :class:`retrieval.hybrid.HybridRetriever` on it.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kg.resolve import normalize
from kgqa.errors import ConfigError
from kgqa.types import Chunk, Hit
from pipelines.ingest import embed_text
from retrieval.graph import EntityChunkGraph
from retrieval.hybrid import MODES, HybridRetriever, Ranked, RetrievalConfig
from retrieval.lexical import BM25Index
from retrieval.linking import EntityLinker

if TYPE_CHECKING:
    from pipelines.kb import KnowledgeBase

_CACHE_LOCK = threading.Lock()


@dataclass
class SearchContext:
    generation: int
    retriever: HybridRetriever
    names: dict[str, str]  # entity id -> display name


def context(kb: KnowledgeBase) -> SearchContext:
    """The retrieval context of ``kb``, rebuilt when the store has changed."""
    with _CACHE_LOCK:
        ctx: SearchContext | None = getattr(kb, "_search_context", None)
        if ctx is not None and ctx.generation == kb.store.generation:
            return ctx
        ctx = build_context(kb)
        kb._search_context = ctx  # type: ignore[attr-defined]
        return ctx


def build_context(kb: KnowledgeBase, config: RetrievalConfig | None = None) -> SearchContext:
    store = kb.store
    keys_l, vecs_l = [], []
    for k, v in store.iter_vectors():
        keys_l.append(k)
        vecs_l.append(v)
    dim = kb.manifest.embedder.dim
    keys = np.concatenate(keys_l) if keys_l else np.zeros(0, np.int64)
    vectors = np.concatenate(vecs_l) if vecs_l else np.zeros((0, dim), np.float32)  # (C, dim)
    texts: dict[int, str] = {}
    titles: dict[int, str] = {}
    for key, title, text in store.iter_chunk_texts():
        texts[key] = embed_text(title, Chunk("", "", 0, text, 0, 0))
        titles[key] = normalize(title)
    bm25 = BM25Index.build(keys.tolist(), [texts[int(k)] for k in keys])
    graph = EntityChunkGraph.build(
        keys,
        store.iter_mention_edges(),
        store.iter_relation_edges(),
        about=[titles[int(k)] for k in keys],
    )
    aliases: dict[str, list[str]] = defaultdict(list)
    for eid, surface in store.iter_aliases():
        aliases[eid].append(surface)
    names = store.entity_names()
    linker = EntityLinker.build(graph.entity_ids, aliases, graph.entity_df, normalize)
    retriever = HybridRetriever(keys, vectors, bm25, graph, linker, config or RetrievalConfig())
    return SearchContext(store.generation, retriever, names)


def known_name(kb: KnowledgeBase) -> Callable[[str], bool]:
    """``is_name(text)``: whether ``text`` is an alias of an entity of ``kb``'s graph."""
    aliases = context(kb).retriever.linker.alias_index

    def is_name(text: str) -> bool:
        key = normalize(text)
        return bool(key) and key in aliases

    return is_name


def question_surfaces(kb: KnowledgeBase, question: str) -> list[str]:
    """Entity mentions the base's extractor finds in the question."""
    fast = getattr(kb.extractor, "mentions_in", None)
    try:
        if fast is not None:
            return list(fast(question))
        probe = Chunk("question#0", "question", 0, question, 0, len(question))
        (extraction,) = kb.extractor.extract([probe])
    except Exception:  # the question still gets alias matching
        return []
    return [e.surface for e in extraction.entities]


def search(kb: KnowledgeBase, question: str, *, mode: str = "hybrid", top_k: int = 5) -> list[Hit]:
    if mode not in MODES:
        raise ConfigError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
    if top_k < 1:
        raise ConfigError(f"top_k must be at least 1, got {top_k}")
    question = question.strip()
    if not question:
        raise ConfigError("the question is empty")
    ctx = context(kb)
    q_vec = kb.embedder.embed([question])[0]  # (dim,)
    surfaces = question_surfaces(kb, question) if mode in ("graph", "hybrid") else []
    ranked = ctx.retriever.retrieve(question, q_vec, surfaces, mode=mode, top_k=top_k)
    return to_hits(kb, ctx, ranked)


def to_hits(kb: KnowledgeBase, ctx: SearchContext, ranked: list[Ranked]) -> list[Hit]:
    """Typed hits; paths name entities by display name and chunks as ``title [chunk id]``."""
    referenced = {
        int(step[6:]) for r in ranked for p in r.paths for step in p if step.startswith("chunk:")
    }
    stored = {c.key: c for c in kb.chunks(sorted({r.key for r in ranked} | referenced))}

    def readable(step: str) -> str:
        if step.startswith("chunk:"):
            sc = stored.get(int(step[6:]))
            return f"{sc.title} [{sc.chunk.id}]" if sc else step
        return ctx.names.get(step, step)

    hits: list[Hit] = []
    for r in ranked:
        sc = stored.get(r.key)
        if sc is None:
            continue
        hits.append(
            Hit(
                key=r.key,
                chunk=sc.chunk,
                title=sc.title,
                score=r.score,
                rank=len(hits) + 1,
                scores=dict(r.scores),
                entities=tuple(ctx.names.get(e, e) for e in r.entities),
                paths=tuple(tuple(readable(step) for step in p) for p in r.paths),
            )
        )
    return hits
