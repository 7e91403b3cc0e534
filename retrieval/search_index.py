"""The search index of a base: built at ingest, memory-mapped where it is searched.

One directory (see :mod:`retrieval.index_files` for how it changes
atomically) holds everything a query reads, addressed by *row* (chunks in
the order they were indexed, keys ascending) and *entity index*:

==================  ==============================================================
array / postings    what
==================  ==============================================================
``chunk_keys``      ``(R,)`` the store key of each row
``vectors``         ``(R, dim)`` float32 embeddings; FAISS searches them
``dense`` (file)    FAISS IVF-SQ8 over rows ``[0, ivf_rows)`` when the base is large
``lengths``         ``(R,)`` BM25 length of each row
``terms``           postings token -> (row, term frequency)
``mention_*``       ``(R+1,)``/``(M,)`` each row's entities (CSR)
``relation_*``      ``(R+1,)``/``(Q,)`` each row's relation pairs (for deletes)
``chunks``          postings entity -> rows mentioning it
``about``           postings normalised title -> rows of that document
``pairs``           postings (a, b) -> rows evidencing a relation of a and b
``aliases``         postings normalised alias -> (row, entity)
``entity_*``        entity ids (UTF-8 blob + offsets), their trigram counts
``entity_keys``     postings hash of an entity id -> entity
``grams``           postings id trigram -> entity (fuzzy linking)
``df``              ``(E,)`` live rows per entity
``relation_half``   ``(E,)`` sum over related entities of min(relations, 2)
``deleted``         ``(R,)`` True for rows whose chunk is gone (when any is)
==================  ==============================================================

Postings come in segments (one per ingest, merged as they grow, see
:mod:`retrieval.index_writer`); deleted rows stay until a merge drops them,
and every read leaves them out, so a query sees exactly the live chunks.
``manifest.json`` records the store ``generation`` the index reflects.

Opening reads ``manifest.json`` and memory-maps files: its cost does not
grow with the base.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kgqa.errors import StoreError
from retrieval.graph import EntityGraph
from retrieval.index_files import IndexFiles
from retrieval.lexical import BM25, tokenize
from retrieval.linking import EntityLinker, LinkedEntity
from retrieval.postings import Segment, StringTable
from retrieval.vector_index import DenseIndex, read_ivf

if TYPE_CHECKING:
    from numpy.typing import NDArray

FORMAT = 1
PARTS = ("dense", "graph", "lexical")  # what a query reads from this index (all, embedded)
ROW_POSTINGS = ("terms", "chunks", "about", "pairs", "aliases")
ENTITY_POSTINGS = ("entity_keys", "grams")
POSTINGS = ROW_POSTINGS + ENTITY_POSTINGS
ARRAYS: dict[str, Any] = {  # name -> dtype of the append-only arrays
    "chunk_keys": np.int64,
    "lengths": np.int32,
    "vectors": np.float32,
    "mention_ptr": np.int64,
    "mention_entity": np.int32,
    "relation_ptr": np.int64,
    "relation_pair": np.uint64,
    "entity_offsets": np.int64,
    "entity_text": np.uint8,
    "gram_counts": np.int32,
}
_PROBES = ("The Acme Corp.'s  U.S. office", "Procter & Gamble", "Zoë\u2019s café, 2019", "新しい")


@dataclass(frozen=True)
class IndexText:
    """How the index reads text (supplied by the pipeline that builds the base).

    ``normalize``: surface -> entity key (aliases, and a title -> the entity
    the document is about); ``lexical_text``: ``(title, chunk text)`` -> the
    text BM25 indexes.
    """

    normalize: Callable[[str], str]
    lexical_text: Callable[[str, str], str]

    def fingerprint(self) -> str:
        """Changes when the normaliser, the tokenizer or the indexed text would change."""
        out: list[object] = [FORMAT]
        for p in _PROBES:
            out += [self.normalize(p), tokenize(p), self.lexical_text(p, p + " text")]
        return hashlib.sha256(json.dumps(out).encode("utf-8")).hexdigest()[:16]


class SearchIndex:
    """An opened search index (see the module docstring). Open it with :meth:`open`."""

    def __init__(self, files: IndexFiles, manifest: dict[str, Any], text: IndexText) -> None:
        self.files = files
        self.manifest = manifest
        self.text = text
        self.generation = int(manifest["generation"])
        self.fingerprint = str(manifest["fingerprint"])
        self.source = str(manifest.get("source", ""))
        self.dim = int(manifest["dim"])
        self.n_rows = int(manifest["rows"])
        self.n_entities = int(manifest["entities"])
        self.live_rows = int(manifest["live_rows"])
        self.max_key = int(manifest["max_key"])
        self.parts = frozenset(manifest.get("parts", PARTS))
        # every file is mapped (and its size checked) now: a damaged index fails to open
        self.arrays = {name: self._map(name) for name in ARRAYS}
        info = manifest.get("dense")
        if info and not (files.directory / info["file"]).exists():
            raise StoreError(f"{files.directory / info['file']}: missing from the search index")
        self.keys: NDArray[np.int64] = self.array("chunk_keys")
        deleted = manifest["files"].get("deleted")
        self.live: NDArray[np.bool_] | None = (
            ~np.asarray(files.load_npy(deleted), np.bool_) if deleted else None
        )
        self.segments = [
            files.load_segment(int(s["id"]), list(POSTINGS)) for s in manifest["segments"]
        ]
        self.entity_ids = StringTable(self.array("entity_text"), self.array("entity_offsets"))
        self.df: NDArray[np.int32] = files.load_npy(manifest["files"]["df"])
        self.relation_half: NDArray[np.int32] = files.load_npy(manifest["files"]["relation_half"])
        self._dense: DenseIndex | None = None
        self._lexical: BM25 | None = None
        self._graph: EntityGraph | None = None
        self._linker: EntityLinker | None = None

    @classmethod
    def open(cls, directory: Path, text: IndexText) -> SearchIndex | None:
        """The index in ``directory``, or None when there is none yet."""
        files = IndexFiles(directory)
        for attempt in range(3):  # a writer may replace files between two reads
            manifest = files.read_manifest()
            if manifest is None:
                return None
            if manifest.get("format") != FORMAT:
                raise StoreError(
                    f"{directory}: search index format {manifest.get('format')}, "
                    f"this kgqa reads {FORMAT}"
                )
            try:
                return cls(files, manifest, text)
            except StoreError:
                if attempt == 2:
                    raise
        return None  # pragma: no cover - the loop returns or raises

    def array(self, name: str) -> NDArray[Any]:
        """The append-only array ``name`` (memory-mapped)."""
        return self.arrays[name]

    def _map(self, name: str) -> NDArray[Any]:
        spec = self.manifest["arrays"][name]
        width = self.dim if name == "vectors" else 0
        return self.files.array(spec["file"], ARRAYS[name], int(spec["count"]), width)

    def postings(self, name: str) -> list[Segment]:
        return [seg[name] for seg in self.segments]

    # -- rows and keys ------------------------------------------------------------------
    def rows_of(self, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """The live row of each chunk key, -1 where the key is not (or no longer) indexed."""
        keys = np.asarray(keys, np.int64)
        if not self.n_rows:
            return np.full(len(keys), -1, np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), self.n_rows - 1)
        ok = np.asarray(self.keys[pos]) == keys
        if self.live is not None:
            ok &= self.live[pos]
        return np.where(ok, pos, -1).astype(np.int64)

    def keys_of(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.asarray(self.keys[np.asarray(rows, np.int64)], np.int64)

    def entity_index(self, entity_id: str) -> int:
        """The index of ``entity_id``, -1 when it is not a live entity."""
        from retrieval.postings import hash_strings, lookup

        _, ents, _ = lookup(self.postings("entity_keys"), hash_strings([entity_id]))
        for e in ents.tolist():
            if self.entity_ids[e] == entity_id and self.df[e] > 0:
                return int(e)
        return -1

    def chunks_of_entity(
        self, entity_id: str, *, relations: bool = False
    ) -> NDArray[np.int64] | None:
        """Keys of the live chunks that mention ``entity_id`` (``relations``: that
        evidence a relation of it), ascending, ``(n,)``; empty for an unknown entity.

        None when this index keeps no graph part (a Neo4j base, whose server
        indexes mentions by entity). The embedded store reads an entity's
        mentions and relations through these (:mod:`kg.sqlite_store`).
        """
        if "graph" not in self.parts:
            return None
        e = self.entity_index(entity_id)
        if e < 0:
            return np.zeros(0, np.int64)
        if relations:
            rows = self.graph.relation_rows(e)
        else:
            rows = np.unique(self.graph.chunks_of(np.array([e], np.int64))[1])
        return self.keys_of(rows)

    # -- the parts a query reads -----------------------------------------------------------
    def _need(self, part: str) -> None:
        if part not in self.parts:
            raise StoreError(
                f"{self.files.directory}: this search index keeps no {part} part "
                "(a base on Neo4j is searched on the server)"
            )

    @property
    def dense_index(self) -> DenseIndex:
        self._need("dense")
        if self._dense is None:
            info = self.manifest.get("dense")
            ivf = read_ivf(self.files.directory / info["file"]) if info else None
            self._dense = DenseIndex(
                self.array("vectors"), self.live, ivf, int(info["rows"]) if info else 0
            )
        return self._dense

    @property
    def bm25(self) -> BM25:
        self._need("lexical")
        if self._lexical is None:
            self._lexical = BM25(self.postings("terms"), self.array("lengths"), self.live)
        return self._lexical

    @property
    def graph(self) -> EntityGraph:
        self._need("graph")
        if self._graph is None:
            self._graph = EntityGraph(
                self.array("mention_ptr"),
                self.array("mention_entity"),
                self.postings("chunks"),
                self.postings("about"),
                self.postings("pairs"),
                self.df,
                self.relation_half,
                self.entity_ids,
                self.live,
            )
        return self._graph

    @property
    def linker(self) -> EntityLinker:
        if self._linker is None:
            self._linker = EntityLinker(
                self.entity_ids,
                self.postings("aliases"),
                self.postings("grams"),
                self.array("gram_counts"),
                self.df,
                self.live,
                self.text.normalize,
            )
        return self._linker

    # -- what hybrid retrieval reads (retrieval.hybrid.Corpus) ---------------------------
    def session(self) -> SearchIndex:
        return self  # nothing is cached per question

    def dense_top(
        self, query: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        return self.dense_index.top(query, k)

    def vectors(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        return self.dense_index.vectors_of(rows)

    def lexical(self, question: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        return self.bm25.scores(question)

    def has_terms(self, question: str) -> bool:
        return self.bm25.has_terms(question)

    def link(self, question: str, surfaces: list[str]) -> list[LinkedEntity]:
        return self.linker.link(question, surfaces)

    def is_name(self, text: str) -> bool:
        """An alias of an entity, or (three words or more) a title the graph knows with a
        disambiguator after it ("The Girl Who Kicked the Hornets' Nest" for "... (film)")."""
        key = self.text.normalize(text)
        if not key:
            return False
        if self.linker.entities_of([key])[0]:
            return True
        return len(key.split()) >= 3 and self.linker.names_disambiguated(key)
