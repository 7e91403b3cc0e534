"""The Neo4j graph store: the same :class:`kg.store.GraphStore` on a Neo4j 5 server.

Graph model (every node carries ``kb``, the namespace of its knowledge base,
so several bases share one database; Neo4j Community has one user database)::

    (:Document {kb, id, title, source, content_hash, text, ingested_at})
    (:Chunk {kb, key, id, doc_id, idx, start_char, end_char, text, vector})-[:PART_OF]->(:Document)
    (:Chunk)-[:MENTIONS {surface, label, start_char, end_char, seq}]->(:Entity)
    (:Entity {kb, id, name, label, mention_count, surfaces, surface_labels, surface_counts})
    (:Entity)-[:RELATION {kb, label, chunk_key, start_char, end_char, seq}]->(:Entity)
    (:KgqaMeta {kb, key, value})     schema_version, generation, last_write, counters

``vector`` is the chunk's float32 embedding as little-endian bytes (exact, and
a quarter the size of a list of floats). Chunk keys come from the
``next_chunk_key`` counter and ``seq`` (the order mentions and relations were
written, which the embedded store keeps as its row order) from ``next_seq``;
both are incremented under a write lock inside the write transaction, so keys
are unique and never reused. Entities are derived as in
:class:`kg.sqlite_store.SqliteStore`: refreshed from their mentions on every
write and deleted when no mention is left, from the mention counts per
(surface, label) each entity keeps (:mod:`kg.neo4j_entities`).

Each :meth:`Neo4jStore.write` is one transaction of batched ``UNWIND``
statements: a failure (a stopped server included) leaves nothing of it, and
running the same ingest again completes it. Every value travels as a query
parameter; no text is ever spliced into Cypher. Driver errors become
:class:`~kgqa.errors.StoreError` naming the URI and the fix.

>>> store = Neo4jStore("bolt://localhost:7687", "neo4j", "secret",
...                    namespace="my-kb").open()        # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from kg import neo4j_cypher as q
from kg import neo4j_entities
from kg.neo4j_cypher import BATCH_ROWS, run_batched
from kg.resolve import normalize
from kg.store import (
    DocumentInfo,
    DocumentRecord,
    StoredChunk,
    WriteSummary,
    check_schema_version,
)
from kgqa.errors import ConfigError, StoreError
from kgqa.text import fold
from kgqa.types import Chunk, ChunkRecord, Document, Entity, Mention, Neighbour, Relation

if TYPE_CHECKING:
    from neo4j import Driver, Session, Transaction

SCHEMA_VERSION = 1
DEFAULT_URI = "bolt://localhost:7687"


@dataclass(frozen=True)
class Neo4jSettings:
    """Where a Neo4j store lives. The password comes from ``NEO4J_PASSWORD`` only."""

    uri: str = DEFAULT_URI
    user: str = "neo4j"
    password: str = field(default="", repr=False)
    database: str = "neo4j"

    @classmethod
    def resolve(
        cls,
        uri: str | None = None,
        user: str | None = None,
        database: str | None = None,
        *,
        recorded: Neo4jSettings | None = None,
        env: dict[str, str] | None = None,
    ) -> Neo4jSettings:
        """Explicit values, else ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_DATABASE``,
        else what a base ``recorded`` (its manifest), else the defaults."""
        env = dict(os.environ) if env is None else env
        base = recorded or cls()

        def pick(value: str | None, var: str, fallback: str) -> str:
            return value or env.get(var) or fallback

        return cls(
            uri=pick(uri, "NEO4J_URI", base.uri),
            user=pick(user, "NEO4J_USER", base.user),
            password=env.get("NEO4J_PASSWORD", base.password),
            database=pick(database, "NEO4J_DATABASE", base.database),
        )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Neo4jStore:
    """A :class:`kg.store.GraphStore` on a Neo4j server (see the module docstring)."""

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        namespace: str = "default",
    ) -> None:
        if not namespace:
            raise ConfigError("a Neo4j store needs a non-empty namespace")
        self.uri = uri
        self.user = user
        self._password = password
        self.database = database
        self.namespace = namespace
        self._driver: Driver | None = None

    @classmethod
    def from_settings(cls, settings: Neo4jSettings, namespace: str) -> Neo4jStore:
        return cls(settings.uri, settings.user, settings.password, settings.database, namespace)

    def __repr__(self) -> str:
        return f"Neo4jStore({self.uri!r}, database={self.database!r}, namespace={self.namespace!r})"

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> Neo4jStore:
        """Connect, check the credentials, create constraints and indexes."""
        if not self._password:
            raise StoreError(
                f"{self.uri}: no Neo4j password; set NEO4J_PASSWORD in the environment"
            )
        try:
            import neo4j
        except ImportError as e:  # pragma: no cover - neo4j is a dependency
            raise StoreError("the neo4j Python driver is not installed: pip install neo4j") from e
        try:
            with self._errors("connecting"):
                driver = neo4j.GraphDatabase.driver(
                    self.uri,
                    auth=(self.user, self._password),
                    connection_timeout=10.0,
                    connection_acquisition_timeout=30.0,
                    max_transaction_retry_time=5.0,
                    notifications_min_severity="OFF",
                    user_agent="kgqa/0.1",
                )
        except ValueError as e:
            raise StoreError(
                f"{self.uri}: not a Neo4j URI ({e}); use e.g. bolt://localhost:7687"
            ) from e
        self._driver = driver
        try:
            with self._errors("connecting"):
                driver.verify_connectivity()
            with self._errors("creating constraints and indexes"), self._session() as s:
                for statement in q.SCHEMA:
                    s.run(statement).consume()
            check_schema_version(self, SCHEMA_VERSION, self._where())
            self._check_surface_counts()
        except BaseException:
            self.close()
            raise
        return self

    def _check_surface_counts(self) -> None:
        """Recount the entities' surface lists when no write kept them (see
        :mod:`kg.neo4j_entities`): their stamp must be the generation."""
        if self.get_meta("surfaces_generation") == str(self.generation):
            return
        with self._errors("counting entity surfaces"), self._transaction() as tx:
            neo4j_entities.recount(tx, self.namespace)
            tx.commit()

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def drop(self) -> None:
        """Delete every node of this namespace (the whole knowledge base), in batches."""
        with self._errors("dropping the namespace"), self._session() as s:
            for label in q.DROP_LABELS:
                s.run(q.DROP_RELATIONSHIPS[label], kb=self.namespace).consume()
            for label in q.DROP_LABELS:
                s.run(q.DROP_NODES[label], kb=self.namespace).consume()

    def _where(self) -> str:
        return f"{self.uri} (database {self.database!r}, namespace {self.namespace!r})"

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn driver errors into a :class:`StoreError` that names the URI and the fix."""
        from neo4j import exceptions as ne

        try:
            yield
        except ne.AuthError as e:
            raise StoreError(
                f"{self.uri}: Neo4j authentication failed for user {self.user!r} "
                f"({e.message}); check NEO4J_USER and NEO4J_PASSWORD"
            ) from e
        except (ne.ServiceUnavailable, ne.SessionExpired, ne.DatabaseUnavailable, OSError) as e:
            raise StoreError(
                f"{self.uri}: cannot reach the Neo4j server while {action} ({e}); start the "
                "server or point NEO4J_URI (--neo4j-uri) at a running one, then run the same "
                "command again: what was committed is kept and nothing is written twice"
            ) from e
        except ne.Neo4jError as e:
            if e.code and e.code.endswith("DatabaseNotFound"):
                raise StoreError(
                    f"{self.uri}: the Neo4j server has no database {self.database!r}; "
                    "create it or set NEO4J_DATABASE (--neo4j-database)"
                ) from e
            raise StoreError(
                f"{self._where()}: Neo4j error while {action}: {e.code}: {e.message}"
            ) from e
        except ne.ConfigurationError as e:
            raise StoreError(
                f"{self.uri}: not a usable Neo4j URI or setting ({e}); "
                "use e.g. bolt://localhost:7687 or neo4j://host:7687"
            ) from e
        except ne.DriverError as e:
            raise StoreError(f"{self._where()}: Neo4j driver error while {action}: {e}") from e

    def _session(self, write: bool = True) -> Session:
        if self._driver is None:
            raise StoreError(f"{self._where()}: the store is closed")
        import neo4j

        mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
        return self._driver.session(database=self.database, default_access_mode=mode)

    def _rows(self, query: str, **params: Any) -> list[Any]:
        """Run a read query (auto-commit) and return its records."""
        with self._errors("reading"), self._session(write=False) as s:
            return list(s.run(query, kb=self.namespace, **params))

    def _stream(self, query: str, **params: Any) -> Iterator[Any]:
        with self._errors("reading"), self._session(write=False) as s:
            yield from s.run(query, kb=self.namespace, **params)

    # -- meta --------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._rows(q.GET_META, key=key)
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def set_meta(self, key: str, value: str) -> None:
        with self._errors("writing"), self._session() as s:
            s.run(q.SET_META, kb=self.namespace, key=key, value=value).consume()

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    # -- writes ------------------------------------------------------------
    def write(self, records: Sequence[DocumentRecord]) -> WriteSummary:
        _validate(records)
        n_chunks = sum(len(r.chunks) for r in records)
        n_seq = sum(len(r.mentions) + len(r.relations) for r in records)
        with self._errors("writing"), self._transaction() as tx:
            # The counters' locks first: writers to one base queue up here, as
            # SQLite's BEGIN IMMEDIATE makes them.
            counters = self._allocate(tx, n_chunks, n_seq)
            ns = self.namespace
            new_ids = sorted({m.entity_id for r in records for m in r.mentions})
            before = {row[0] for row in run_batched(tx, q.EXISTING_ENTITIES, new_ids, ns)}
            delta = self._delete_documents(tx, [r.document.id for r in records])
            key = counters["next_chunk_key"] - n_chunks
            seq = counters["next_seq"] - n_seq
            docs, chunks, mentions, relations = [], [], [], []
            now = _now()
            for rec in records:
                doc = rec.document
                docs.append(
                    {
                        "id": doc.id,
                        "title": doc.title,
                        "source": doc.source,
                        "hash": doc.content_hash,
                        "text": doc.text,
                        "at": now,
                    }
                )
                keys: dict[str, int] = {}
                vectors = np.ascontiguousarray(rec.vectors, dtype="<f4")  # (n_chunks, dim)
                for chunk, vec in zip(rec.chunks, vectors, strict=True):
                    key += 1
                    keys[chunk.id] = key
                    chunks.append(_chunk_row(key, chunk, vec))
                for m in rec.mentions:
                    seq += 1
                    delta[(m.entity_id, m.surface, m.label)] += 1
                    mentions.append(
                        {
                            "key": keys[m.chunk_id],
                            "entity": m.entity_id,
                            "surface": m.surface,
                            "label": m.label,
                            "start": m.start,
                            "end": m.end,
                            "seq": seq,
                        }
                    )
                for r in rec.relations:
                    seq += 1
                    relations.append(
                        {
                            "key": keys[r.chunk_id],
                            "source": r.source,
                            "target": r.target,
                            "label": r.label,
                            "start": r.start,
                            "end": r.end,
                            "seq": seq,
                        }
                    )
            run_batched(tx, q.INSERT_DOCUMENTS, docs, ns)
            self._expect(run_batched(tx, q.INSERT_CHUNKS, chunks, ns), len(chunks), "chunks")
            run_batched(tx, q.MERGE_ENTITIES, new_ids, ns)
            self._expect(
                run_batched(tx, q.INSERT_MENTIONS, mentions, ns), len(mentions), "mentions"
            )
            self._expect(
                run_batched(tx, q.INSERT_RELATIONS, relations, ns), len(relations), "relations"
            )
            neo4j_entities.apply_delta(tx, ns, delta, counters["generation"])
            tx.commit()
        return WriteSummary(n_chunks, len(mentions), len(relations), len(set(new_ids) - before))

    def delete_document(self, doc_id: str) -> bool:
        with self._errors("deleting"), self._transaction() as tx:
            # bumps the generation; rolled back if nothing is deleted
            generation = self._allocate(tx, 0, 0)["generation"]
            exists = tx.run(q.DOCUMENT_EXISTS, kb=self.namespace, id=doc_id).single() is not None
            if exists:
                removed = self._delete_documents(tx, [doc_id])
                neo4j_entities.apply_delta(tx, self.namespace, removed, generation)
                tx.commit()
            else:
                tx.rollback()
        return exists

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        with self._session() as s, s.begin_transaction() as tx:
            yield tx

    def _expect(self, rows: list[Any], n: int, what: str) -> None:
        written = sum(int(r[0]) for r in rows)
        if written != n:
            raise StoreError(f"{self._where()}: wrote {written} of {n} {what}; nothing was kept")

    def _allocate(self, tx: Transaction, n_chunks: int, n_seq: int) -> dict[str, int]:
        """Bump the generation and reserve keys, under the counters' write locks."""
        rows = tx.run(
            q.ALLOCATE,
            kb=self.namespace,
            steps=[["generation", 1], ["next_chunk_key", n_chunks], ["next_seq", n_seq]],
            now=_now(),
        )
        return {r["key"]: int(r["value"]) for r in rows}

    def _delete_documents(
        self, tx: Transaction, doc_ids: list[str]
    ) -> Counter[tuple[str, str, str]]:
        """Delete documents with their chunks, mentions, relations; return the
        mentions they held, negated, per (entity id, surface, label)."""
        removed: Counter[tuple[str, str, str]] = Counter()
        for row in tx.run(q.DOCUMENT_SURFACES, kb=self.namespace, ids=doc_ids):
            removed[(row["id"], row["surface"], row["label"])] -= int(row["n"])
        keys = list(tx.run(q.DOCUMENT_CHUNK_KEYS, kb=self.namespace, ids=doc_ids).single(
            strict=True)["keys"])  # fmt: skip
        run_batched(tx, q.DELETE_RELATIONS, keys, self.namespace)
        run_batched(tx, q.DELETE_DOCUMENTS, doc_ids, self.namespace)
        return removed

    # -- reads -------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._stream(q.DOCUMENT_HASHES)}

    def get_document(self, doc_id: str) -> Document | None:
        rows = self._rows(q.GET_DOCUMENT, id=doc_id)
        return Document(*rows[0].values()) if rows else None

    def list_documents(self) -> list[DocumentInfo]:
        infos = [DocumentInfo(*r.values()) for r in self._stream(q.LIST_DOCUMENTS)]
        return sorted(infos, key=lambda d: d.id)

    def chunks(self, keys: Sequence[int]) -> list[StoredChunk]:
        wanted = sorted({int(k) for k in keys})
        found: dict[int, StoredChunk] = {}
        for i in range(0, len(wanted), BATCH_ROWS):
            for r in self._rows(q.GET_CHUNKS, keys=wanted[i : i + BATCH_ROWS]):
                chunk = Chunk(r["id"], r["doc_id"], r["idx"], r["text"], r["start"], r["end"])
                found[r["key"]] = StoredChunk(r["key"], chunk, r["title"])
        return [found[int(k)] for k in keys if int(k) in found]

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(keys (b,), vectors (b, dim))`` batches of every stored chunk vector."""
        keys: list[int] = []
        vecs: list[bytes] = []
        for r in self._stream(q.ITER_VECTORS):
            keys.append(r[0])
            vecs.append(r[1])
            if len(keys) == batch:
                yield _vector_batch(keys, vecs)
                keys, vecs = [], []
        if keys:
            yield _vector_batch(keys, vecs)

    def iter_chunk_texts(self) -> Iterator[tuple[int, str, str]]:
        for r in self._stream(q.ITER_CHUNK_TEXTS):
            yield r[0], r[1], r[2]

    def iter_aliases(self) -> Iterator[tuple[str, str]]:
        """Distinct ``(entity_id, surface)``, by entity id, then surface (as SQLite)."""
        yield from sorted({(r[0], r[1]) for r in self._stream(q.ITER_ALIASES)})

    def entity_names(self, ids: Sequence[str] | None = None) -> dict[str, str]:
        if ids is None:
            return {r[0]: r[1] for r in self._stream(q.ENTITY_NAMES)}
        return {r[0]: r[1] for r in self._rows(q.ENTITY_NAMES_OF, ids=sorted(set(ids)))}

    def chunk_keys(self, max_key: int | None = None) -> np.ndarray:
        top = (1 << 62) if max_key is None else max_key
        return np.fromiter((r[0] for r in self._stream(q.CHUNK_KEYS, max=top)), dtype=np.int64)

    def count_chunks(self, max_key: int | None = None) -> int:
        top = (1 << 62) if max_key is None else max_key
        return int(self._rows(q.COUNT_CHUNKS, max=top)[0][0])

    def iter_chunk_records(self, after: int = 0, batch: int = 1000) -> Iterator[list[ChunkRecord]]:
        while True:
            rows = self._rows(q.CHUNK_RECORDS, after=after, batch=batch)
            if not rows:
                return
            keys = [r["key"] for r in rows]
            relations: dict[int, list[tuple[str, str]]] = {}
            for k, a, b in self._rows(q.CHUNK_RELATIONS, keys=keys):
                relations.setdefault(k, []).append((a, b))
            yield [
                ChunkRecord(
                    r["key"], r["title"], r["text"], np.frombuffer(r["vector"], dtype="<f4"),
                    tuple((m[0], m[1]) for m in r["mentions"]), tuple(relations.get(r["key"], ())),
                )
                for r in rows
            ]  # fmt: skip
            after = keys[-1]

    def entity_ids(self, label: str | None = None) -> list[str]:
        return [r[0] for r in self._stream(q.ENTITY_IDS, label=label)]

    def iter_mention_edges(self) -> Iterator[tuple[int, str]]:
        for r in self._stream(q.ITER_MENTION_EDGES):
            yield r[0], r[1]

    def iter_relation_edges(self) -> Iterator[tuple[str, str, str]]:
        for r in self._stream(q.ITER_RELATION_EDGES):
            yield r[0], r[1], r[2]

    def get_entity(self, entity_id: str) -> Entity | None:
        found = self._entities([entity_id])
        return found.get(entity_id)

    def _entities(self, ids: Sequence[str]) -> dict[str, Entity]:
        rows = self._rows(q.GET_ENTITIES, ids=list(ids))
        return {r["id"]: _entity(r) for r in rows}

    def search_entities(self, text: str | None = None, limit: int = 50) -> list[Entity]:
        needle = fold(text) if text else ""  # CONTAINS is literal: no wildcards to escape
        rows = self._rows(
            q.SEARCH_ENTITIES,
            text=needle or None,
            key=normalize(text) if text and needle else "",
            limit=limit,
        )
        return [_entity(r) for r in rows]

    def mentions(
        self, entity_id: str, limit: int = 1000, chunk_keys: Iterable[int] | None = None
    ) -> list[Mention]:
        """See :meth:`kg.store.GraphStore.mentions`; the server's own indexes find them,
        so ``chunk_keys`` is not needed."""
        rows = self._rows(q.MENTIONS_OF, id=entity_id, limit=limit)
        return [Mention(*r.values()) for r in rows]

    def relations_of(self, entity_id: str, limit: int = 1000) -> list[Relation]:
        rows = self._rows(q.RELATIONS_OF, id=entity_id, limit=limit)
        texts = {
            r[0]: r[1] for r in self._rows(q.DOCUMENT_TEXTS, ids=sorted({r["doc"] for r in rows}))
        }
        return [
            Relation(
                r["source"],
                r["target"],
                r["label"],
                r["chunk"],
                r["doc"],
                texts.get(r["doc"], "")[r["start"] : r["end"]],
                r["start"],
                r["end"],
            )
            for r in rows
        ]

    def neighbours(
        self, entity_id: str, limit: int = 100, chunk_keys: Iterable[int] | None = None
    ) -> list[Neighbour]:
        by_other: dict[str, list[Relation]] = {}
        for rel in self.relations_of(entity_id, limit=20 * limit):
            other = rel.target if rel.source == entity_id else rel.source
            by_other.setdefault(other, []).append(rel)
        ranked = sorted(by_other.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
        found = self._entities([other for other, _ in ranked])
        return [Neighbour(found[o], tuple(rels)) for o, rels in ranked if o in found]

    def counts(self) -> dict[str, int]:
        (row,) = self._rows(q.COUNTS)
        return {k: int(row[k]) for k in q.COUNT_KEYS}

    def check(self) -> list[str]:
        """Return a list of consistency problems (empty when the store is sound)."""
        (row,) = self._rows(q.CHECK)
        messages = {
            "orphans": "{} entities without mentions",
            "stale": "{} entities whose name, label, count or surface counts disagree "
            "with their mentions",
            "loose_chunks": "{} chunks without their document",
            "loose_relations": "{} relations whose chunk is gone",
            "keys_ahead": "{} chunk keys above the key counter",
        }
        return [text.format(row[k]) for k, text in messages.items() if row[k]]


def _validate(records: Sequence[DocumentRecord]) -> None:
    """Refuse a write that the graph model cannot hold, before anything is sent."""
    seen: set[str] = set()
    for rec in records:
        doc = rec.document
        if doc.id in seen:
            raise StoreError(f"{doc.id}: the same document twice in one write")
        seen.add(doc.id)
        if len(rec.vectors) != len(rec.chunks):
            raise StoreError(f"{doc.id}: {len(rec.chunks)} chunks but {len(rec.vectors)} vectors")
        chunk_ids = {c.id for c in rec.chunks}
        mentioned = {m.entity_id for m in rec.mentions}
        for m in rec.mentions:
            if m.chunk_id not in chunk_ids:
                raise StoreError(f"{doc.id}: a mention of {m.entity_id!r} in unknown chunk")
        for r in rec.relations:
            if r.chunk_id not in chunk_ids:
                raise StoreError(f"{doc.id}: a relation in unknown chunk {r.chunk_id!r}")
            if r.source not in mentioned or r.target not in mentioned:
                raise StoreError(
                    f"{doc.id}: relation {r.source!r} -> {r.target!r} between entities "
                    "the document does not mention"
                )


def _chunk_row(key: int, chunk: Chunk, vec: np.ndarray) -> dict[str, Any]:
    return {
        "key": key,
        "id": chunk.id,
        "doc_id": chunk.doc_id,
        "idx": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "text": chunk.text,
        "vector": vec.tobytes(),
    }


def _vector_batch(keys: list[int], vecs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(keys, dtype=np.int64)  # (b,)
    v = np.stack([np.frombuffer(b, dtype="<f4") for b in vecs]).astype(np.float32)  # (b, dim)
    return k, v


def _entity(r: Any) -> Entity:
    return Entity(r["id"], r["name"], r["label"], tuple(sorted(r["aliases"])), r["count"])
