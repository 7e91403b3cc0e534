"""The ``GraphStore`` role: where documents, chunks and the graph live.

A store keeps, per document, its chunks (with their embedding vectors), the
entity mentions in them and the relations they evidence. Entities themselves
are derived: an entity exists while at least one mention supports it, its
aliases are the surface forms of its mentions, and its sources are the
documents of those mentions. Writing a document replaces everything it had
before, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kgqa.errors import StoreError
from kgqa.types import Chunk, ChunkRecord, Document, Entity, Mention, Neighbour, Relation

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True)
class DocumentRecord:
    """Everything ingestion produced for one document, written as a unit."""

    document: Document
    chunks: tuple[Chunk, ...]
    vectors: NDArray[np.float32]  # (n_chunks, dim), L2-normalised
    mentions: tuple[Mention, ...]
    relations: tuple[Relation, ...]


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored, with its integer key (the vector index id) and title."""

    key: int
    chunk: Chunk
    title: str


@dataclass(frozen=True)
class DocumentInfo:
    """A document's metadata without its text."""

    id: str
    title: str
    source: str
    content_hash: str
    chunks: int
    ingested_at: str


@dataclass(frozen=True)
class WriteSummary:
    """What one write added (entities counts those that did not exist before)."""

    chunks: int
    mentions: int
    relations: int
    entities_added: int


def check_schema_version(store: GraphStore, version: int, where: str) -> None:
    """Record ``version`` in a new store; refuse a store written by another schema."""
    found = store.get_meta("schema_version")
    if found is None:
        store.set_meta("schema_version", str(version))
    elif int(found) != version:
        raise StoreError(f"{where}: schema version {found}, this kgqa reads {version}")


class GraphStore(Protocol):
    """Documents, chunks and the entity graph of one knowledge base.

    ``generation`` increases with every committed write; derived indexes are
    stamped with it. Chunk keys are integers, unique and never reused.
    """

    @property
    def generation(self) -> int: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def counts(self) -> dict[str, int]:
        """documents, chunks, entities, relations, mentions, aliases."""
        ...

    def check(self) -> list[str]:
        """Consistency problems; empty when the store is sound."""
        ...

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(keys (b,), vectors (b, dim))`` batches of every chunk vector."""
        ...

    def iter_chunk_texts(self) -> Iterator[tuple[int, str, str]]:
        """Yield ``(chunk_key, document_title, chunk_text)`` for every chunk."""
        ...

    def iter_aliases(self) -> Iterator[tuple[str, str]]:
        """Yield ``(entity_id, surface)`` once per distinct alias, by entity id, then surface."""
        ...

    def entity_names(self, ids: Sequence[str] | None = None) -> dict[str, str]:
        """Entity id -> display name, for ``ids`` (the known ones), or every entity."""
        ...

    def chunk_keys(self, max_key: int | None = None) -> np.ndarray:
        """Every chunk key (up to ``max_key``), ascending, ``(n,)`` int64."""
        ...

    def count_chunks(self, max_key: int | None = None) -> int:
        """The number of chunks (with keys up to ``max_key``)."""
        ...

    def iter_chunk_records(self, after: int = 0, batch: int = 1000) -> Iterator[list[ChunkRecord]]:
        """Chunks with keys above ``after``, keys ascending, ``batch`` at a time, each
        with its document's title, vector, mentions and relations in write order
        (what the search index reads)."""
        ...

    def entity_ids(self, label: str | None = None) -> list[str]:
        """Ids of every entity whose (majority) label is ``label``; None: every entity."""
        ...

    def document_hashes(self) -> dict[str, str]: ...

    def write(self, records: Sequence[DocumentRecord]) -> WriteSummary:
        """Replace each record's document (and all it supported) atomically."""
        ...

    def delete_document(self, doc_id: str) -> bool: ...

    def get_document(self, doc_id: str) -> Document | None: ...

    def list_documents(self) -> list[DocumentInfo]: ...

    def chunks(self, keys: Sequence[int]) -> list[StoredChunk]: ...

    def get_entity(self, entity_id: str) -> Entity | None: ...

    def search_entities(self, text: str | None = None, limit: int = 50) -> list[Entity]:
        """Entities whose id, name or an alias contains ``text``, most mentioned first.

        ``text`` is literal (``%`` and ``_`` are no wildcards) and compared as
        :func:`kgqa.text.fold` and :func:`kg.resolve.normalize` make it, so
        "O'Connor" finds "O\u2019Connor & Sons" and "yasmin" finds "Ya\u00adsmin".
        None or blank: every entity.
        """
        ...

    def mentions(
        self, entity_id: str, limit: int = 1000, chunk_keys: Iterable[int] | None = None
    ) -> list[Mention]:
        """The entity's mentions, ordered by document and offset, at most ``limit``.

        ``chunk_keys``: the chunks that mention it, as the search index's postings
        give them (:meth:`retrieval.search_index.SearchIndex.chunks_of_entity`); the
        embedded store reads only those chunks' rows with them and scans every
        mention without them. A store with entity-keyed indexes of its own (Neo4j)
        ignores them.
        """
        ...

    def neighbours(
        self, entity_id: str, limit: int = 100, chunk_keys: Iterable[int] | None = None
    ) -> list[Neighbour]:
        """The entities related to this one, most relations first, at most ``limit``.

        ``chunk_keys``: the chunks that evidence its relations (as for :meth:`mentions`).
        """
        ...

    def iter_mention_edges(self) -> Iterator[tuple[int, str]]:
        """Yield ``(chunk_key, entity_id)`` for every mention."""
        ...

    def iter_relation_edges(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(source_entity, target_entity, label)`` for every relation."""
        ...

    def close(self) -> None: ...
