"""Question -> ranked, explained hits: the query path of a base, top-down.

A :class:`Searcher` is built from what a search reads and nothing else: the
base's :class:`~retrieval.hybrid.Corpus` (its search index, or its Neo4j
server), the embedder and extractor that read the question, and the store
that holds the chunks' text. It never reaches back into the
:class:`~pipelines.kb.KnowledgeBase` facade, which builds one per store
generation::

    searcher = Searcher(corpus, store, embedder, question_surfaces(extractor))
    hits = searcher.search("Who founded Acme?", mode="hybrid", top_k=5)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kg.extract import EntityExtractor
from kg.store import GraphStore
from kgqa.errors import ConfigError
from kgqa.types import (
    RETRIEVAL_MODES,
    Chunk,
    ChunkStep,
    EntityStep,
    Hit,
    PathStep,
    RetrievalMode,
)
from retrieval.embed import Embedder
from retrieval.hybrid import Corpus, HybridRetriever, Ranked, RetrievalConfig

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def question_surfaces(extractor: EntityExtractor) -> Callable[[str], list[str]]:
    """The entity mentions ``extractor`` finds in a question (none if it fails)."""
    fast = getattr(extractor, "mentions_in", None)

    def surfaces(question: str) -> list[str]:
        try:
            if fast is not None:
                return list(fast(question))
            probe = Chunk("question#0", "question", 0, question, 0, len(question))
            (extraction,) = extractor.extract([probe])
        except Exception:  # the question still gets alias matching
            return []
        return [e.surface for e in extraction.entities]

    return surfaces


def check_mode(mode: str) -> RetrievalMode:
    if mode not in RETRIEVAL_MODES:
        raise ConfigError(
            f"unknown retrieval mode {mode!r}; choose one of {', '.join(RETRIEVAL_MODES)}"
        )
    return mode


@dataclass(frozen=True)
class Searcher:
    """Hybrid retrieval over one state of a base (see the module docstring).

    ``corpus`` is read per question; ``store`` gives the hits' text and the
    display names of the entities on their paths.
    """

    corpus: Corpus
    store: GraphStore
    embedder: Embedder
    surfaces: Callable[[str], list[str]]
    config: RetrievalConfig = field(default_factory=RetrievalConfig)

    def search(self, question: str, *, mode: str = "hybrid", top_k: int = 5) -> list[Hit]:
        """The ``top_k`` chunks that best answer ``question``, best first."""
        checked = check_mode(mode)
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        question = question.strip()
        if not question:
            raise ConfigError("the question is empty")
        q_vec = self.embedder.embed([question])[0]  # (dim,)
        surfaces = self.surfaces(question) if checked in ("graph", "hybrid") else []
        return self.search_encoded(question, q_vec, surfaces, mode=checked, top_k=top_k)

    def search_encoded(
        self,
        question: str,
        vector: NDArray[np.float32],
        surfaces: list[str],
        *,
        mode: RetrievalMode = "hybrid",
        top_k: int = 5,
    ) -> list[Hit]:
        """:meth:`search` for a question already read: its ``vector`` ``(dim,)`` and the
        entity ``surfaces`` found in it (``benchmarks/scale.py`` times this part)."""
        ranked = HybridRetriever(self.config).retrieve(
            self.corpus, question, vector, surfaces, mode=mode, top_k=top_k
        )
        return self.hits(ranked)

    def hits(self, ranked: list[Ranked]) -> list[Hit]:
        """Typed hits, their path steps named: entities by display name, chunks by id."""
        steps = [s for r in ranked for p in r.paths for s in p]
        keys = {r.key for r in ranked} | {s.key for s in steps if isinstance(s, ChunkStep)}
        stored = {c.key: c for c in self.store.chunks(sorted(keys))}
        ids = {s.id for s in steps if isinstance(s, EntityStep)} | {
            e for r in ranked for e in r.entities
        }
        names = self.store.entity_names(sorted(ids)) if ids else {}

        def named(step: PathStep) -> PathStep:
            if isinstance(step, ChunkStep) and step.key in stored:
                sc = stored[step.key]
                return replace(step, chunk_id=sc.chunk.id, title=sc.title)
            if isinstance(step, EntityStep):
                return replace(step, name=names.get(step.id, step.id))
            return step

        out: list[Hit] = []
        for r in ranked:
            sc = stored.get(r.key)
            if sc is None:  # deleted since the index was read
                continue
            out.append(
                Hit(
                    key=r.key,
                    chunk=sc.chunk,
                    title=sc.title,
                    score=r.score,
                    rank=len(out) + 1,
                    scores=dict(r.scores),
                    entities=tuple(names.get(e, e) for e in r.entities),
                    paths=tuple(tuple(named(s) for s in p) for p in r.paths),
                )
            )
        return out
