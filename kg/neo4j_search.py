"""Search on a Neo4j store with Neo4j's own indexes and graph.

A base on Neo4j is searched where it is stored: the dense top-k from a vector
index (HNSW, cosine) on ``Chunk.embedding``, the lexical top-k from a
full-text index (Lucene BM25, whitespace analyzer) on ``Chunk.search_text``
(the chunk's tokens as kgqa's own tokenizer reads them), and the graph's
neighbourhoods by Cypher. Each base has its own label on its chunks, and its
own two indexes, named from its namespace; the search fields are written by
:meth:`Neo4jSearch.set_search_fields` after each write (``pipelines/derived.py``).

Every method reads (or writes) only what it is asked about: no call reads the
whole base.

>>> search = Neo4jSearch(store)                          # doctest: +SKIP
>>> search.ensure_indexes(dim=384)                       # doctest: +SKIP
>>> keys, cosines = search.vector_top(query_vector, k=10)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kg import neo4j_cypher as q

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from kg.neo4j_store import Neo4jStore


@dataclass(frozen=True)
class SearchNames:
    """The label and index names of one base (letters, digits, underscores only)."""

    label: str
    vector_index: str
    text_index: str


def search_names(namespace: str) -> SearchNames:
    """Names for ``namespace``: readable, and unique by a hash of it.

    >>> search_names("my-kb-1a2b").label
    'KgqaChunk_my_kb_1a2b_33669a19'
    """
    slug = re.sub(r"[^A-Za-z0-9]+", "_", namespace)[:40].strip("_")
    token = f"{slug}_{hashlib.sha1(namespace.encode('utf-8')).hexdigest()[:8]}"
    return SearchNames(f"KgqaChunk_{token}", f"kgqa_vector_{token}", f"kgqa_text_{token}")


class Neo4jSearch:
    """The search side of a :class:`~kg.neo4j_store.Neo4jStore` (see the module docstring)."""

    def __init__(self, store: Neo4jStore) -> None:
        self.store = store
        self.names = search_names(store.namespace)

    def ensure_indexes(self, dim: int) -> None:
        """Create this base's vector and full-text indexes when missing, and wait for them."""
        n = self.names
        statements = [
            q.VECTOR_INDEX.format(index=n.vector_index, label=n.label, dim=int(dim)),
            q.TEXT_INDEX.format(index=n.text_index, label=n.label),
            "CALL db.awaitIndexes(300)",
        ]
        with self.store._errors("creating the search indexes"), self.store._session() as s:
            for statement in statements:
                s.run(statement).consume()

    def drop_indexes(self) -> None:
        with self.store._errors("dropping the search indexes"), self.store._session() as s:
            for index in (self.names.vector_index, self.names.text_index):
                s.run(q.DROP_INDEX.format(index=index)).consume()

    def set_search_fields(
        self, keys: Sequence[int], vectors: NDArray[np.float32], texts: Sequence[str]
    ) -> None:
        """Label chunks ``keys`` for this base's indexes, with their ``vectors`` ``(n, dim)``
        and lexical ``texts`` (space-separated tokens)."""
        rows = [
            {"key": int(k), "embedding": v.tolist(), "text": t}
            for k, v, t in zip(keys, np.asarray(vectors, np.float32), texts, strict=True)
        ]
        with self.store._errors("writing the search fields"), self.store._session() as s:
            for i in range(0, len(rows), 1000):
                s.run(q.SET_SEARCH_FIELDS, kb=self.store.namespace, label=self.names.label,
                      rows=rows[i : i + 1000]).consume()  # fmt: skip

    def vector_top(
        self, vector: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` chunks nearest ``vector`` ``(dim,)``: ``(keys, cosines)``, best first."""
        rows = self.store._rows(
            q.VECTOR_TOP, index=self.names.vector_index, k=int(k),
            vector=np.asarray(vector, np.float32).tolist(),
        )  # fmt: skip
        keys = np.asarray([r[0] for r in rows], np.int64)
        return keys, (2.0 * np.asarray([r[1] for r in rows], np.float32) - 1.0)  # score (1+cos)/2

    def text_top(self, tokens: Sequence[str], k: int) -> tuple[NDArray[np.int64], NDArray]:
        """The ``k`` best chunks for the query ``tokens`` by BM25: ``(keys, scores)``."""
        if not tokens:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = self.store._rows(
            q.TEXT_TOP, index=self.names.text_index, text=" ".join(tokens), k=int(k)
        )
        keys = np.asarray([r[0] for r in rows], np.int64)
        return keys, np.asarray([r[1] for r in rows], np.float32)

    def chunk_vectors(self, keys: Sequence[int]) -> dict[int, NDArray[np.float32]]:
        """The stored vector of each of ``keys`` (those that exist)."""
        rows = self.store._rows(q.CHUNK_VECTORS, keys=[int(k) for k in keys])
        return {int(r[0]): np.frombuffer(r[1], dtype="<f4").astype(np.float32) for r in rows}

    def chunk_entities(self, keys: Sequence[int]) -> dict[int, list[str]]:
        """The distinct entities each chunk mentions."""
        rows = self.store._rows(q.CHUNK_ENTITIES, keys=[int(k) for k in keys])
        return {int(r[0]): list(r[1]) for r in rows}

    def entity_relation_halves(self, ids: Sequence[str]) -> dict[str, int]:
        """Each entity's sum over its related entities of min(relations between them, 2)."""
        rows = self.store._rows(q.ENTITY_RELATION_HALF, ids=list(ids))
        return {r[0]: int(sum(r[1])) for r in rows}

    def entity_neighbourhoods(
        self, ids: Sequence[str]
    ) -> dict[str, tuple[list[tuple[str, int]], list[int]]]:
        """Each entity's related entities (with the number of relations between them)
        and the chunks mentioning it."""
        rows = self.store._rows(q.ENTITY_PUSH, ids=list(ids))
        return {r[0]: ([(f, int(n)) for f, n in r[1]], [int(k) for k in r[2]]) for r in rows}
