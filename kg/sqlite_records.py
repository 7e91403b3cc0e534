"""Read an embedded store back as :class:`~kg.store.DocumentRecord` values.

Used to copy a base into another store (``kgqa export --to neo4j``). Documents
come in the order they were written (by their first chunk key), and each
record's mentions and relations in their row order, so that the copy writes
them in the same order and iterates them the same way: identical data gives
identical retrieval.

>>> for batch in iter_records(store, batch_docs=64):      # doctest: +SKIP
...     other_store.write(batch)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from kg.sqlite_store import SqliteStore
from kg.store import DocumentRecord
from kgqa.types import Chunk, Document, Mention, Relation


def document_order(store: SqliteStore) -> list[str]:
    """Document ids in the order they were written (first chunk key, then id)."""
    rows = store.db.execute(
        "SELECT d.id FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id "
        "GROUP BY d.id ORDER BY min(c.key), d.id"
    ).fetchall()
    return [r[0] for r in rows]


def read_records(store: SqliteStore, doc_ids: Sequence[str]) -> list[DocumentRecord]:
    """The records of ``doc_ids`` (in that order; unknown ids are left out)."""
    db = store.db
    ids = list(doc_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    docs = {
        r[0]: Document(*r)
        for r in db.execute(
            f"SELECT id, title, text, source, content_hash FROM documents WHERE id IN ({marks})",
            ids,
        )
    }
    chunks: dict[str, list[Chunk]] = {}
    vectors: dict[str, list[np.ndarray]] = {}
    for cid, doc_id, idx, text, start, end, vec in db.execute(
        "SELECT id, doc_id, idx, text, start_char, end_char, vector FROM chunks "
        f"WHERE doc_id IN ({marks}) ORDER BY key",
        ids,
    ):
        chunks.setdefault(doc_id, []).append(Chunk(cid, doc_id, idx, text, start, end))
        vectors.setdefault(doc_id, []).append(np.frombuffer(vec, dtype=np.float32))
    mentions: dict[str, list[Mention]] = {}
    for row in db.execute(
        "SELECT m.entity_id, c.id, c.doc_id, m.surface, m.start_char, m.end_char, m.label "
        f"FROM mentions m JOIN chunks c ON c.key = m.chunk_key WHERE c.doc_id IN ({marks}) "
        "ORDER BY m.rowid",
        ids,
    ):
        mentions.setdefault(row[2], []).append(Mention(*row))
    relations: dict[str, list[Relation]] = {}
    for row in db.execute(
        "SELECT r.source, r.target, r.label, c.id, c.doc_id, "
        "substr(d.text, r.start_char + 1, r.end_char - r.start_char), r.start_char, r.end_char "
        "FROM relations r JOIN chunks c ON c.key = r.chunk_key "
        f"JOIN documents d ON d.id = c.doc_id WHERE c.doc_id IN ({marks}) ORDER BY r.rowid",
        ids,
    ):
        relations.setdefault(row[4], []).append(Relation(*row))
    out = []
    for doc_id in ids:
        if doc_id not in docs:
            continue
        vecs = vectors.get(doc_id, [])
        out.append(
            DocumentRecord(
                document=docs[doc_id],
                chunks=tuple(chunks.get(doc_id, [])),
                vectors=np.stack(vecs) if vecs else np.zeros((0, 0), np.float32),  # (n, dim)
                mentions=tuple(mentions.get(doc_id, [])),
                relations=tuple(relations.get(doc_id, [])),
            )
        )
    return out


def iter_records(store: SqliteStore, batch_docs: int = 64) -> Iterator[list[DocumentRecord]]:
    """Every document of ``store`` as records, ``batch_docs`` at a time, in write order."""
    order = document_order(store)
    for i in range(0, len(order), max(1, batch_docs)):
        yield read_records(store, order[i : i + batch_docs])
