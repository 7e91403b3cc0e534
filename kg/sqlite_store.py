"""The embedded graph store: one SQLite file, the truth of a knowledge base.

Tables (offsets are character positions in ``documents.text``)::

    meta(key, value)                       schema version, models, generation
    documents(id, title, source, content_hash, text, ingested_at)
    chunks(key, id, doc_id, idx, start_char, end_char, text, vector)
    mentions(chunk_key, entity_id, surface, label, start_char, end_char)
    relations(chunk_key, source, target, label, start_char, end_char)
                                           both indexed by chunk only (see below)
    entities(id, name, label, mention_count)   derived from mentions
    entity_surfaces(entity_id, surface, label, n)   mentions counted by surface and
                                           label, kept with every write, so an entity is
                                           refreshed without reading all its mentions

Mentions and relations are indexed by chunk, not by entity: an entity-keyed
index takes each write's rows at random places in a B-tree as large as the
base (40,000 of the 60,000 pages one write of 1,000 documents changed in a
million-chunk base). The chunks of an entity come from the search index's
postings, which take writes as appended segments
(:meth:`retrieval.search_index.SearchIndex.chunks_of_entity`); :meth:`SqliteStore.mentions`
and :meth:`SqliteStore.neighbours` read those chunks' rows, or scan without them.

``chunks.key`` is an AUTOINCREMENT integer, never reused, and doubles as the
chunk's id in the FAISS index. Every write bumps ``meta.generation`` in the
same transaction, so a derived index stamped with an older generation is
known to be stale. The database runs in WAL mode: a process killed mid-write
loses at most the transaction in flight, never a committed one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from kg.resolve import entity_summary, normalize
from kg.store import (
    DocumentInfo,
    DocumentRecord,
    StoredChunk,
    WriteSummary,
    check_schema_version,
)
from kgqa.errors import StoreError
from kgqa.text import fold
from kgqa.types import Chunk, ChunkRecord, Document, Entity, Mention, Neighbour, Relation

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    key INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, start_char INTEGER NOT NULL, end_char INTEGER NOT NULL,
    text TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS mentions(
    chunk_key INTEGER NOT NULL REFERENCES chunks(key) ON DELETE CASCADE,
    entity_id TEXT NOT NULL, surface TEXT NOT NULL, label TEXT NOT NULL,
    start_char INTEGER NOT NULL, end_char INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_chunk ON mentions(chunk_key);
CREATE TABLE IF NOT EXISTS relations(
    chunk_key INTEGER NOT NULL REFERENCES chunks(key) ON DELETE CASCADE,
    source TEXT NOT NULL, target TEXT NOT NULL, label TEXT NOT NULL,
    start_char INTEGER NOT NULL, end_char INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS relations_chunk ON relations(chunk_key);
CREATE TABLE IF NOT EXISTS entities(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, label TEXT NOT NULL,
    mention_count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entity_surfaces(
    entity_id TEXT NOT NULL, surface TEXT NOT NULL, label TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (entity_id, surface, label)) WITHOUT ROWID;
"""
_DROPPED_INDEXES = ("mentions_entity", "relations_source", "relations_target")  # kgqa <= 0.17

_COUNT_SURFACES = """
INSERT INTO entity_surfaces(entity_id, surface, label, n) VALUES(?,?,?,?)
ON CONFLICT(entity_id, surface, label) DO UPDATE SET n = n + excluded.n
"""

_RELATION_SELECT = """
SELECT r.source, r.target, r.label, c.id, c.doc_id,
       substr(d.text, r.start_char + 1, r.end_char - r.start_char), r.start_char, r.end_char
FROM relations r JOIN chunks c ON c.key = r.chunk_key JOIN documents d ON d.id = c.doc_id
"""


def _contains(text: str) -> str:
    """A LIKE pattern (``ESCAPE '\\'``) matching strings that contain ``text`` literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SqliteStore:
    """A :class:`kg.store.GraphStore` on one SQLite file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._open = False
        self._local = threading.local()  # one connection per thread
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> SqliteStore:
        try:
            db = self._connect()
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            hint = " (in a read-only folder? SQLite writes its log beside it)" if (
                "unable to open" in str(e)) else ""
            raise StoreError(f"{self.path}: not a usable kgqa database ({e}){hint}") from e
        self._open = True
        check_schema_version(self, SCHEMA_VERSION, str(self.path))
        self._check_surface_counts()
        self._drop_entity_indexes()
        return self

    def _drop_entity_indexes(self) -> None:
        """Drop an older kgqa's entity-keyed indexes (a read-only base keeps them)."""
        found = self.db.execute("SELECT name FROM sqlite_master WHERE type='index'").fetchall()
        for name in {r[0] for r in found} & set(_DROPPED_INDEXES):
            try:
                self.db.execute(f"DROP INDEX IF EXISTS {name}")
            except sqlite3.OperationalError:  # read-only: searched, never written
                return

    def _check_surface_counts(self) -> None:
        """Recount ``entity_surfaces`` when a write did not keep it (a base written
        before it existed, or by an older kgqa): its stamp must be the generation."""
        if self.get_meta("surfaces_generation") == str(self.generation):
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM entity_surfaces")
            db.execute(
                "INSERT INTO entity_surfaces(entity_id, surface, label, n) "
                "SELECT entity_id, surface, label, count(*) FROM mentions GROUP BY 1, 2, 3"
            )
            self.set_meta("surfaces_generation", str(self.generation))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        # Each thread gets its own connection: a thread reading while another
        # writes sees only committed data (WAL), never a transaction in flight.
        db = sqlite3.connect(self.path, isolation_level=None, timeout=60, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages: large bases write faster
        # Copy the WAL into the database every 50,000 pages (200 MB), not 1,000: writes in
        # turn change the same entity pages, copied once (1,000 documents into a million
        # chunks: 0.73 s, not 0.88 s).
        db.execute("PRAGMA wal_autocheckpoint=50000")
        self._local.db = db
        with self._connections_lock:
            self._connections.append(db)
        return db

    def close(self) -> None:
        self._open = False
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        if not self._open:
            raise StoreError(f"{self.path}: the store is closed")
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = self._connect()
            except sqlite3.DatabaseError as e:
                raise StoreError(f"{self.path}: cannot open the database ({e})") from e
        return db

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # -- writes ------------------------------------------------------------
    def write(self, records: Sequence[DocumentRecord]) -> WriteSummary:
        db = self.db
        n_chunks = n_mentions = n_relations = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            touched: set[str] = set()
            for rec in records:
                touched |= self._delete_document_rows(rec.document.id)
            before = {r[0] for r in self._entity_rows_for(_mention_ids(records))}
            for rec in records:
                self._insert_record(rec)
                n_chunks += len(rec.chunks)
                n_mentions += len(rec.mentions)
                n_relations += len(rec.relations)
            new_ids = _mention_ids(records)
            self._refresh_entities(touched | new_ids)
            entities_added = len(new_ids - before)
            self._bump_generation()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return WriteSummary(n_chunks, n_mentions, n_relations, entities_added)

    def delete_document(self, doc_id: str) -> bool:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            exists = db.execute("SELECT 1 FROM documents WHERE id=?", (doc_id,)).fetchone()
            if exists:
                self._refresh_entities(self._delete_document_rows(doc_id))
                self._bump_generation()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return bool(exists)

    def _bump_generation(self) -> None:
        generation = str(self.generation + 1)
        self.set_meta("generation", generation)
        self.set_meta("surfaces_generation", generation)
        self.set_meta("last_write", _now())

    def _delete_document_rows(self, doc_id: str) -> set[str]:
        """Delete a document's rows; return the entity ids it mentioned."""
        counts = self.db.execute(
            "SELECT m.entity_id, m.surface, m.label, count(*) FROM mentions m "
            "JOIN chunks c ON c.key = m.chunk_key WHERE c.doc_id=? GROUP BY 1, 2, 3",
            (doc_id,),
        ).fetchall()
        keys = [(eid, surface, label) for eid, surface, label, _ in counts]
        self.db.executemany(
            "UPDATE entity_surfaces SET n = n - ? WHERE entity_id=? AND surface=? AND label=?",
            [(n, *key) for key, (*_, n) in zip(keys, counts, strict=True)],
        )
        self.db.executemany(
            "DELETE FROM entity_surfaces WHERE entity_id=? AND surface=? AND label=? AND n <= 0",
            keys,
        )
        self.db.execute("DELETE FROM documents WHERE id=?", (doc_id,))  # cascades
        return {r[0] for r in counts}

    def _insert_record(self, rec: DocumentRecord) -> None:
        db = self.db
        doc = rec.document
        if len(rec.vectors) != len(rec.chunks):
            raise StoreError(f"{doc.id}: {len(rec.chunks)} chunks but {len(rec.vectors)} vectors")
        db.execute(
            "INSERT INTO documents(id, title, source, content_hash, text, ingested_at) "
            "VALUES(?,?,?,?,?,?)",
            (doc.id, doc.title, doc.source, doc.content_hash, doc.text, _now()),
        )
        keys: dict[str, int] = {}
        vectors = np.ascontiguousarray(rec.vectors, dtype=np.float32)
        for chunk, vec in zip(rec.chunks, vectors, strict=False):
            cur = db.execute(
                "INSERT INTO chunks(id, doc_id, idx, start_char, end_char, text, vector) "
                "VALUES(?,?,?,?,?,?,?)",
                (chunk.id, doc.id, chunk.index, chunk.start, chunk.end, chunk.text, vec.tobytes()),
            )
            keys[chunk.id] = int(cur.lastrowid or 0)
        db.executemany(
            "INSERT INTO mentions(chunk_key, entity_id, surface, label, start_char, end_char) "
            "VALUES(?,?,?,?,?,?)",
            [
                (keys[m.chunk_id], m.entity_id, m.surface, m.label, m.start, m.end)
                for m in rec.mentions
            ],
        )
        counted = Counter((m.entity_id, m.surface, m.label) for m in rec.mentions)
        db.executemany(_COUNT_SURFACES, [(*k, n) for k, n in counted.items()])
        db.executemany(
            "INSERT INTO relations(chunk_key, source, target, label, start_char, end_char) "
            "VALUES(?,?,?,?,?,?)",
            [
                (keys[r.chunk_id], r.source, r.target, r.label, r.start, r.end)
                for r in rec.relations
            ],
        )

    def _entity_rows_for(self, ids: Iterable[str]) -> list[tuple[str]]:
        out: list[tuple[str]] = []
        for part in _batched(sorted(ids), 500):
            marks = ",".join("?" * len(part))
            out += self.db.execute(
                f"SELECT id FROM entities WHERE id IN ({marks})", part
            ).fetchall()
        return out

    def _refresh_entities(self, ids: Iterable[str]) -> None:
        """Recompute name, label and count of ``ids`` from their mention counts; drop orphans."""
        db = self.db
        for part in _batched(sorted(ids), 500):
            marks = ",".join("?" * len(part))
            rows = db.execute(
                "SELECT entity_id, surface, label, n FROM entity_surfaces "
                f"WHERE entity_id IN ({marks})",
                part,
            ).fetchall()
            counts: dict[str, Counter[tuple[str, str]]] = {}
            for eid, surface, label, n in rows:
                counts.setdefault(eid, Counter())[(surface, label)] += n
            db.executemany(
                "INSERT INTO entities(id, name, label, mention_count) VALUES(?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, label = excluded.label, "
                "mention_count = excluded.mention_count",
                [(eid, *entity_summary(c)) for eid, c in counts.items()],
            )  # updated in place: a delete and insert would move every row in the id index
            db.executemany(
                "DELETE FROM entities WHERE id=?", [(e,) for e in part if e not in counts]
            )

    # -- reads -------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, content_hash FROM documents").fetchall())

    def get_document(self, doc_id: str) -> Document | None:
        row = self.db.execute(
            "SELECT id, title, text, source, content_hash FROM documents WHERE id=?", (doc_id,)
        ).fetchone()
        return None if row is None else Document(*row)

    def list_documents(self) -> list[DocumentInfo]:
        rows = self.db.execute(
            "SELECT d.id, d.title, d.source, d.content_hash, "
            "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id), d.ingested_at "
            "FROM documents d ORDER BY d.id"
        ).fetchall()
        return [DocumentInfo(*r) for r in rows]

    def chunks(self, keys: Sequence[int]) -> list[StoredChunk]:
        found: dict[int, StoredChunk] = {}
        for part in _batched([int(k) for k in keys], 500):
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                "SELECT c.key, c.id, c.doc_id, c.idx, c.text, c.start_char, c.end_char, d.title "
                f"FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.key IN ({marks})",
                part,
            ).fetchall()
            for key, cid, doc_id, idx, text, start, end, title in rows:
                found[key] = StoredChunk(key, Chunk(cid, doc_id, idx, text, start, end), title)
        return [found[k] for k in keys if k in found]

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(keys (b,), vectors (b, dim))`` batches of every stored chunk vector."""
        cur = self.db.execute("SELECT key, vector FROM chunks ORDER BY key")
        while rows := cur.fetchmany(batch):
            keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield keys, vecs

    def get_entity(self, entity_id: str) -> Entity | None:
        row = self.db.execute(
            "SELECT id, name, label, mention_count FROM entities WHERE id=?", (entity_id,)
        ).fetchone()
        return None if row is None else self._entity(row)

    def _entity(self, row: Sequence) -> Entity:
        aliases = [
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT surface FROM entity_surfaces WHERE entity_id=? ORDER BY surface",
                (row[0],),
            )
        ]
        return Entity(row[0], row[1], row[2], tuple(aliases), int(row[3]))

    def search_entities(self, text: str | None = None, limit: int = 50) -> list[Entity]:
        needle = fold(text) if text else ""
        if needle:
            key = normalize(text or "")
            rows = self.db.execute(
                "SELECT id, name, label, mention_count FROM entities WHERE id IN ("
                " SELECT id FROM entities WHERE id LIKE ?1 ESCAPE '\\' OR lower(name) LIKE ?1"
                " ESCAPE '\\' OR (?2 <> '%%' AND id LIKE ?2 ESCAPE '\\')"
                " UNION SELECT entity_id FROM entity_surfaces"
                " WHERE lower(surface) LIKE ?1 ESCAPE '\\')"
                " ORDER BY mention_count DESC, id LIMIT ?3",
                (_contains(needle), _contains(key), limit),
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT id, name, label, mention_count FROM entities "
                "ORDER BY mention_count DESC, id LIMIT ?",
                (limit,),
            ).fetchall()
        return [self._entity(r) for r in rows]

    def mentions(
        self, entity_id: str, limit: int = 1000, chunk_keys: Iterable[int] | None = None
    ) -> list[Mention]:
        select = (
            "SELECT m.entity_id, c.id, c.doc_id, m.surface, m.start_char, m.end_char, m.label "
            "FROM mentions m JOIN chunks c ON c.key = m.chunk_key WHERE m.entity_id=? "
        )
        limit = limit if limit >= 0 else 1 << 62  # as SQLite's LIMIT: negative is none
        if chunk_keys is None:  # a scan of every mention
            rows = self.db.execute(
                select + "ORDER BY c.doc_id, m.start_char LIMIT ?", (entity_id, limit)
            ).fetchall()
        else:
            rows = []
            for part in _batched(sorted({int(k) for k in chunk_keys}), 500):
                marks = ",".join("?" * len(part))
                rows += self.db.execute(
                    select + f"AND m.chunk_key IN ({marks})", (entity_id, *part)
                ).fetchall()
            rows = sorted(rows, key=lambda r: (r[2], r[4]))[:limit]
        return [Mention(*r) for r in rows]

    def relations_of(
        self, entity_id: str, limit: int = 1000, chunk_keys: Iterable[int] | None = None
    ) -> list[Relation]:
        """Relations with ``entity_id`` as source, then as target, each in write order, at
        most ``limit`` (``chunk_keys``: the chunks that evidence them, see :meth:`mentions`)."""
        limit = limit if limit >= 0 else 1 << 62
        if chunk_keys is None:
            rows = self.db.execute(
                _RELATION_SELECT + " WHERE r.source=?1 OR r.target=?1 "
                "ORDER BY r.source<>?1, r.rowid LIMIT ?2",
                (entity_id, limit),
            ).fetchall()
            return [Relation(*r) for r in rows]
        keys = sorted({int(k) for k in chunk_keys})  # ascending keys: write order
        out: list[Relation] = []
        for where in (" WHERE r.source=?1", " WHERE r.target=?1 AND r.source<>?1"):
            for part in _batched(keys, 500):
                if len(out) >= limit:
                    return out
                marks = ",".join(f"?{i + 3}" for i in range(len(part)))
                sql = f"{_RELATION_SELECT}{where} AND r.chunk_key IN ({marks}) ORDER BY r.rowid"
                cur = self.db.execute(sql + " LIMIT ?2", (entity_id, limit - len(out), *part))
                out += [Relation(*r) for r in cur]
        return out

    def neighbours(
        self, entity_id: str, limit: int = 100, chunk_keys: Iterable[int] | None = None
    ) -> list[Neighbour]:
        by_other: dict[str, list[Relation]] = {}
        for rel in self.relations_of(entity_id, 20 * limit, chunk_keys):
            other = rel.target if rel.source == entity_id else rel.source
            by_other.setdefault(other, []).append(rel)
        ranked = sorted(by_other.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
        out = []
        for other, rels in ranked:
            ent = self.get_entity(other)
            if ent is not None:
                out.append(Neighbour(ent, tuple(rels)))
        return out

    def iter_chunk_texts(self) -> Iterator[tuple[int, str, str]]:
        yield from self.db.execute(
            "SELECT c.key, d.title, c.text FROM chunks c JOIN documents d ON d.id = c.doc_id"
        )

    def iter_aliases(self) -> Iterator[tuple[str, str]]:
        yield from self.db.execute(
            "SELECT DISTINCT entity_id, surface FROM entity_surfaces ORDER BY 1, 2"
        )

    def entity_names(self, ids: Sequence[str] | None = None) -> dict[str, str]:
        if ids is None:
            return dict(self.db.execute("SELECT id, name FROM entities").fetchall())
        out: dict[str, str] = {}
        for part in _batched(sorted(set(ids)), 500):
            marks = ",".join("?" * len(part))
            out.update(
                self.db.execute(f"SELECT id, name FROM entities WHERE id IN ({marks})", part)
            )
        return out

    def chunk_keys(self, max_key: int | None = None) -> np.ndarray:
        top = (1 << 62) if max_key is None else max_key
        rows = self.db.execute(  # the doc index holds every key: no read of chunk rows
            "SELECT key FROM chunks INDEXED BY chunks_doc WHERE key <= ? ORDER BY key", (top,)
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def count_chunks(self, max_key: int | None = None) -> int:
        top = (1 << 62) if max_key is None else max_key
        row = self.db.execute(  # counted on the doc index: a chunk row holds its vector
            "SELECT count(*) FROM chunks INDEXED BY chunks_doc WHERE key <= ?", (top,)
        ).fetchone()
        return int(row[0])

    def iter_chunk_records(self, after: int = 0, batch: int = 1000) -> Iterator[list[ChunkRecord]]:
        db = self.db
        while True:
            rows = db.execute(
                "SELECT c.key, d.title, c.text, c.vector FROM chunks c "
                "JOIN documents d ON d.id = c.doc_id WHERE c.key > ? ORDER BY c.key LIMIT ?",
                (after, batch),
            ).fetchall()
            if not rows:
                return
            low, high = rows[0][0], rows[-1][0]
            mentions: dict[int, list[tuple[str, str]]] = {}
            for key, eid, surface in db.execute(
                "SELECT chunk_key, entity_id, surface FROM mentions "
                "WHERE chunk_key BETWEEN ? AND ? ORDER BY rowid",
                (low, high),
            ):
                mentions.setdefault(key, []).append((eid, surface))
            relations: dict[int, list[tuple[str, str]]] = {}
            for key, source, target in db.execute(
                "SELECT chunk_key, source, target FROM relations "
                "WHERE chunk_key BETWEEN ? AND ? ORDER BY rowid",
                (low, high),
            ):
                relations.setdefault(key, []).append((source, target))
            yield [
                ChunkRecord(
                    key, title, text, np.frombuffer(vec, dtype=np.float32),
                    tuple(mentions.get(key, ())), tuple(relations.get(key, ())),
                )
                for key, title, text, vec in rows
            ]  # fmt: skip
            after = high

    def entity_ids(self, label: str | None = None) -> list[str]:
        if label is None:
            return [r[0] for r in self.db.execute("SELECT id FROM entities")]
        return [r[0] for r in self.db.execute("SELECT id FROM entities WHERE label=?", (label,))]

    def iter_mention_edges(self) -> Iterator[tuple[int, str]]:
        yield from self.db.execute("SELECT chunk_key, entity_id FROM mentions")

    def iter_relation_edges(self) -> Iterator[tuple[str, str, str]]:
        yield from self.db.execute("SELECT source, target, label FROM relations")

    def counts(self) -> dict[str, int]:
        q = {
            "documents": "SELECT count(*) FROM documents",
            "chunks": "SELECT count(*) FROM chunks",
            "entities": "SELECT count(*) FROM entities",
            "relations": "SELECT count(*) FROM relations",
            "mentions": "SELECT count(*) FROM mentions",
            "aliases": "SELECT count(*) FROM (SELECT DISTINCT entity_id, surface "
            "FROM entity_surfaces)",
        }
        return {k: int(self.db.execute(v).fetchone()[0]) for k, v in q.items()}

    def check(self) -> list[str]:
        """Return a list of consistency problems (empty when the store is sound)."""
        problems = [
            f"sqlite: {r[0]}" for r in self.db.execute("PRAGMA quick_check") if r[0] != "ok"
        ]
        orphans = self.db.execute(
            "SELECT count(*) FROM entities WHERE id NOT IN (SELECT entity_id FROM mentions)"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} entities without mentions")
        missing = self.db.execute(
            "SELECT count(DISTINCT m.entity_id) FROM mentions m WHERE NOT EXISTS "
            "(SELECT 1 FROM entities e WHERE e.id = m.entity_id)"
        ).fetchone()[0]
        if missing:
            problems.append(f"{missing} mentioned entities missing from the entity table")
        return problems


def _mention_ids(records: Sequence[DocumentRecord]) -> set[str]:
    return {m.entity_id for rec in records for m in rec.mentions}


def _batched(items: Sequence, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield list(items[i : i + n])
