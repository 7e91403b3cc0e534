"""Hybrid retrieval over a base on Neo4j: the server searches, the client composes.

:class:`Neo4jCorpus` is the :class:`~retrieval.hybrid.Corpus` of a Neo4j base.
The dense and lexical top-k come from the base's vector and full-text
indexes (:mod:`kg.neo4j_search`); PageRank's pushes and the pair step read
the seeds' neighbourhood by Cypher, a few queries per push round, so a base
far larger than the client's memory is searched with the client holding only
what the question touches. The client keeps, memory-mapped in the base
directory, a search index without dense, lexical or graph parts
(:mod:`retrieval.search_index`): the entity linker (aliases, id trigrams,
chunks per entity), the documents' titles, and the chunk keys, whose
positions are the rows retrieval works with.

Scores: dense are exact cosines (Neo4j's HNSW finds the candidates); lexical
are Lucene's BM25 (k1 = 1.2, b = 0.75, lengths quantised) over the same
tokens as the embedded BM25, the best ``LEXICAL_DEPTH`` of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kg.neo4j_search import Neo4jSearch
from retrieval.graph import RELATION_WEIGHT
from retrieval.lexical import tokenize
from retrieval.linking import LinkedEntity
from retrieval.postings import hash_strings, lookup
from retrieval.search_index import SearchIndex

if TYPE_CHECKING:
    from numpy.typing import NDArray

LEXICAL_DEPTH = 100  # BM25 hits asked of the full-text index


class Neo4jCorpus:
    """The Corpus of a Neo4j base for one question (its caches last one question)."""

    def __init__(self, index: SearchIndex, search: Neo4jSearch) -> None:
        self.index = index
        self.search = search
        self._vectors: dict[int, NDArray[np.float32]] = {}  # row -> vector
        self._chunk_entities: dict[int, NDArray[np.int64]] = {}  # row -> entities
        self._entity_chunks: dict[int, NDArray[np.int64]] = {}  # entity -> rows
        self._related: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        self._halves: dict[int, int] = {}  # entity -> sum over related of min(relations, 2)
        self._index_of: dict[str, int] = {}  # entity id -> local index (-1: unknown)

    def session(self) -> Neo4jCorpus:
        return Neo4jCorpus(self.index, self.search)

    # -- Corpus -----------------------------------------------------------------------
    @property
    def graph(self) -> Neo4jCorpus:
        return self

    def keys_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return self.index.keys_of(rows)

    def _rows(self, keys: NDArray[np.int64], scores: NDArray) -> tuple[NDArray, NDArray]:
        rows = self.index.rows_of(keys)
        keep = rows >= 0  # chunks the local index does not have yet are left out
        return rows[keep], np.asarray(scores, np.float32)[keep]

    def dense_top(self, query: NDArray[np.float32], k: int) -> tuple[NDArray, NDArray]:
        keys, _ = self.search.vector_top(query, k)
        rows, _ = self._rows(keys, np.zeros(len(keys)))
        scores = (self.vectors(rows) @ np.asarray(query, np.float32)).astype(np.float32)
        order = np.lexsort((self.keys_of(rows), -scores))
        return rows[order], scores[order]

    def vectors(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        rows = np.asarray(rows, np.int64)
        missing = sorted({int(r) for r in rows} - set(self._vectors))
        if missing:
            found = self.search.chunk_vectors(self.keys_of(np.asarray(missing)).tolist())
            for r, k in zip(missing, self.keys_of(np.asarray(missing)).tolist(), strict=True):
                self._vectors[r] = found[k]
        dim = self.index.dim
        return np.stack([self._vectors[int(r)] for r in rows]) if len(rows) else (
            np.zeros((0, dim), np.float32)
        )

    def lexical(self, question: str) -> tuple[NDArray, NDArray]:
        keys, scores = self.search.text_top(tokenize(question), LEXICAL_DEPTH)
        rows, scores = self._rows(keys, scores)
        order = np.argsort(rows)
        return rows[order], scores[order]

    def has_terms(self, question: str) -> bool:
        return bool(len(self.search.text_top(tokenize(question), 1)[0]))

    def link(self, question: str, surfaces: list[str]) -> list[LinkedEntity]:
        return self.index.linker.link(question, surfaces)

    def is_name(self, text: str) -> bool:
        return self.index.is_name(text)

    # -- CorpusGraph: the neighbourhood, by Cypher, cached for the question -----------
    def size(self) -> tuple[int, int]:
        return self.index.n_rows, self.index.n_entities

    def entity_ids(self, entities: NDArray[np.int64]) -> list[str]:
        return [self.index.entity_ids[int(e)] for e in np.asarray(entities, np.int64)]

    def entity_df(self, entities: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.asarray(self.index.df[np.asarray(entities, np.int64)], np.int64)

    def _entity_indices(self, ids: list[str]) -> NDArray[np.int64]:
        """The local index of each entity id (-1 when unknown), remembered for the question."""
        known = self._index_of
        new = [i for i in dict.fromkeys(ids) if i not in known]
        if new:
            owner, ents, _ = lookup(self.index.postings("entity_keys"), hash_strings(new))
            known.update(dict.fromkeys(new, -1))
            for o, e in zip(owner.tolist(), ents.tolist(), strict=True):
                if self.index.entity_ids[e] == new[o]:
                    known[new[o]] = e
        return np.fromiter(map(known.__getitem__, ids), np.int64, count=len(ids))

    def _fetch_chunk_entities(self, rows: NDArray[np.int64]) -> None:
        missing = [int(r) for r in rows if int(r) not in self._chunk_entities]
        if not missing:
            return
        keys = self.keys_of(np.asarray(missing, np.int64)).tolist()
        found = self.search.chunk_entities(keys)
        lists = [found.get(k, []) for k in keys]
        ents = self._entity_indices([e for ids in lists for e in ids])  # one lookup for all
        ends = np.cumsum([len(ids) for ids in lists])
        for r, part in zip(missing, np.split(ents, ends[:-1]), strict=True):
            self._chunk_entities[r] = np.sort(part[part >= 0])

    def chunk_degree(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        self._fetch_chunk_entities(rows)
        return np.asarray([len(self._chunk_entities[int(r)]) for r in rows], np.float64)

    def chunk_degree_bound(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        """The degree read locally: the local index counts each row's entities (it keeps
        them to take back the counts of a deleted chunk), so only chunks that will be
        pushed are asked for their entities."""
        ptr = self.index.array("mention_ptr")
        rows = np.asarray(rows, np.int64)
        return (np.asarray(ptr[rows + 1]) - np.asarray(ptr[rows])).astype(np.float64)

    def entity_degree_bound(self, entities: NDArray[np.int64]) -> NDArray[np.float64]:
        """A lower bound of the degree, read locally: the entity's live chunks."""
        return self.entity_df(entities).astype(np.float64)

    def entity_degree(self, entities: NDArray[np.int64]) -> NDArray[np.float64]:
        ents = np.asarray(entities, np.int64)
        missing = [int(e) for e in ents if int(e) not in self._halves]
        if missing:
            ids = self.entity_ids(np.asarray(missing, np.int64))
            found = self.search.entity_relation_halves(ids)
            self._halves.update({e: found.get(eid, 0) for e, eid in zip(missing, ids, strict=True)})
        halves = np.asarray([self._halves[int(e)] for e in ents], np.float64)
        return self.entity_df(ents).astype(np.float64) + RELATION_WEIGHT * halves

    def _fetch_entities(self, ents: NDArray[np.int64]) -> None:
        """Related entities and chunks of ``ents`` (what pushing them reads), one query."""
        missing = [int(e) for e in ents if int(e) not in self._related]
        if not missing:
            return
        ids = self.entity_ids(np.asarray(missing, np.int64))
        found = self.search.entity_neighbourhoods(ids)
        self._entity_indices([f for eid in ids for f, _ in found.get(eid, ([], []))[0]])
        for e, eid in zip(missing, ids, strict=True):
            pairs, keys = found.get(eid, ([], []))
            others = self._entity_indices([f for f, _ in pairs])  # known now: no lookup
            counts = np.asarray([n for _, n in pairs], np.float64)
            keep = others >= 0
            self._related[e] = (others[keep], RELATION_WEIGHT * np.minimum(counts[keep], 2.0))
            rows = self.index.rows_of(np.asarray(keys, np.int64))
            self._entity_chunks[e] = np.sort(rows[rows >= 0])

    def entities_of(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        rows = np.asarray(rows, np.int64)
        self._fetch_chunk_entities(rows)
        parts = [self._chunk_entities[int(r)] for r in rows]
        owner = np.repeat(np.arange(len(rows)), [len(p) for p in parts])
        return owner, (np.concatenate(parts) if parts else np.zeros(0, np.int64))

    def chunks_of(self, entities: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        ents = np.asarray(entities, np.int64)
        self._fetch_entities(ents)
        parts = [self._entity_chunks[int(e)] for e in ents]
        owner = np.repeat(np.arange(len(ents)), [len(p) for p in parts])
        return owner, (np.concatenate(parts) if parts else np.zeros(0, np.int64))

    def related(
        self, entities: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        ents = np.asarray(entities, np.int64)
        self._fetch_entities(ents)
        parts = [self._related[int(e)] for e in ents]
        owner = np.repeat(np.arange(len(ents)), [len(p[0]) for p in parts])
        if not parts:
            return owner, np.zeros(0, np.int64), np.zeros(0, np.float64)
        return owner, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def about(self, entities: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        keys = hash_strings(self.entity_ids(entities))
        owner, found, _ = lookup(self.index.postings("about"), keys)
        rows = np.asarray(found, np.int64)
        if self.index.live is not None and len(rows):
            keep = self.index.live[rows]
            owner, rows = owner[keep], rows[keep]
        return owner, rows
