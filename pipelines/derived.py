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

Readers open the index with :func:`open_index`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from kg.resolve import normalize
from kg.store import GraphStore
from kgqa.errors import StoreError
from pipelines.ingest import titled_text
from retrieval.index_writer import rebuild_index, update_index
from retrieval.search_index import IndexText, SearchIndex

INDEX_DIR = "index"
INDEX_TEXT = IndexText(normalize=normalize, lexical_text=titled_text)


def open_index(directory: Path) -> SearchIndex | None:
    """The base's search index as last written (None when there is none)."""
    return SearchIndex.open(directory / INDEX_DIR, INDEX_TEXT)


def refresh_index(directory: Path, store: GraphStore, dim: int, kind: str = "auto") -> SearchIndex:
    """Bring ``directory``'s search index up to date with ``store`` and open it."""
    generation = store.generation
    source = store.get_meta("index_source")
    if source is None:
        source = uuid.uuid4().hex
        store.set_meta("index_source", source)
    try:
        index = open_index(directory)
    except StoreError:
        index = None  # damaged: rebuilt below
    if index is not None and (
        index.fingerprint != INDEX_TEXT.fingerprint() or index.dim != dim or index.source != source
    ):
        index = None
    if index is None:
        rebuild_index(
            directory / INDEX_DIR,
            (r for batch in store.iter_chunk_records(0) for r in batch),
            generation=generation,
            dim=dim,
            text=INDEX_TEXT,
            source=source,
            kind=kind,
        )
    elif index.generation != generation:
        deleted: list[int] = []
        if store.count_chunks(index.max_key) != index.live_rows:
            live = index.keys if index.live is None else np.asarray(index.keys)[index.live]
            deleted = np.setdiff1d(live, store.chunk_keys(index.max_key)).tolist()
        update_index(
            directory / INDEX_DIR,
            (r for batch in store.iter_chunk_records(index.max_key) for r in batch),
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
