"""A base's search index, kept up to date with its store.

The store holds the truth; the search index (``<base>/index/``, see
:mod:`retrieval.search_index`) is derived from it and stamped with the
store's ``generation``. :func:`refresh_index` brings it up to date:

- nothing to do when the stamp matches;
- otherwise the chunks with keys above the index's last key are appended,
  and, when the store holds fewer chunks up to that key than the index has
  live rows, the keys it no longer has are marked deleted (keys are never
  reused, so this finds every change, even one made by another process or
  left half-indexed by a crash);
- a missing or unreadable index, one of another store (each store carries an
  ``index_source`` id in its meta), or one built by another normaliser,
  tokenizer or embedding size, is rebuilt from the store.

On a Neo4j base the server searches: the local index keeps only the entity
linker, the titles and the chunk keys, and each chunk taken in also gets its
search fields on the server (its base's label, its embedding for the vector
index, its tokens for the full-text index; see :mod:`kg.neo4j_search`), so
the server's indexes and the local one follow the store together.

Readers open the index with :func:`open_index`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.resolve import normalize
from kg.store import GraphStore
from kgqa.errors import StoreError
from kgqa.types import ChunkRecord
from pipelines.ingest import titled_text
from retrieval.index_writer import rebuild_index, update_index
from retrieval.lexical import tokenize
from retrieval.search_index import PARTS, IndexText, SearchIndex

if TYPE_CHECKING:
    from kg.neo4j_search import Neo4jSearch

INDEX_DIR = "index"
INDEX_TEXT = IndexText(normalize=normalize, lexical_text=titled_text)


def open_index(directory: Path) -> SearchIndex | None:
    """The base's search index as last written (None when there is none)."""
    return SearchIndex.open(directory / INDEX_DIR, INDEX_TEXT)


def with_search_fields(
    batches: Iterable[list[ChunkRecord]], search: Neo4jSearch
) -> Iterator[ChunkRecord]:
    """The chunk records of ``batches``, each batch's search fields written on the server first."""
    for batch in batches:
        search.set_search_fields(
            [r.key for r in batch],
            np.stack([r.vector for r in batch]),  # (n, dim)
            [" ".join(tokenize(titled_text(r.title, r.text))) for r in batch],
        )
        yield from batch


def refresh_index(
    directory: Path,
    store: GraphStore,
    dim: int,
    kind: str = "auto",
    search: Neo4jSearch | None = None,
) -> SearchIndex:
    """Bring ``directory``'s search index up to date with ``store`` and open it.

    ``search``: the store is on Neo4j and searched there (see the module docstring).
    """
    generation = store.generation
    parts = PARTS if search is None else ()

    def records(after: int) -> Iterator[ChunkRecord]:
        batches = store.iter_chunk_records(after)
        if search is not None:
            search.ensure_indexes(dim)
            return with_search_fields(batches, search)
        return (r for batch in batches for r in batch)

    source = store.get_meta("index_source")
    if source is None:
        source = uuid.uuid4().hex
        store.set_meta("index_source", source)
    try:
        index = open_index(directory)
    except StoreError:
        index = None  # damaged: rebuilt below
    if index is not None and (
        index.fingerprint != INDEX_TEXT.fingerprint()
        or index.dim != dim
        or index.source != source
        or index.parts != frozenset(parts)
    ):
        index = None
    if index is None:
        rebuild_index(
            directory / INDEX_DIR,
            records(0),
            generation=generation,
            dim=dim,
            text=INDEX_TEXT,
            source=source,
            kind=kind,
            parts=parts,
        )
    elif index.generation != generation:
        deleted: list[int] = []
        if store.count_chunks(index.max_key) != index.live_rows:
            live = index.keys if index.live is None else np.asarray(index.keys)[index.live]
            deleted = np.setdiff1d(live, store.chunk_keys(index.max_key)).tolist()
        update_index(
            directory / INDEX_DIR,
            records(index.max_key),
            deleted,
            generation=generation,
            text=INDEX_TEXT,
            kind=kind,
        )
    else:
        return index
    fresh = open_index(directory)
    if fresh is None:  # pragma: no cover - just written
        raise StoreError(f"{directory}: the search index could not be written")
    return fresh
