"""The Cypher statements of :mod:`kg.neo4j_store`, in one place, and their
batched runner.

Every statement takes the namespace as ``$kb`` and its values as parameters
(``$rows`` for the batched ``UNWIND`` ones); nothing is ever formatted into
the text. Names match the methods that run them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neo4j import ManagedTransaction, Transaction

BATCH_ROWS = 1000  # rows per UNWIND statement


def run_batched(
    tx: Transaction | ManagedTransaction, query: str, rows: Sequence[Any], namespace: str
) -> list[Any]:
    """Run ``query`` with ``$rows`` = ``rows``, ``BATCH_ROWS`` at a time; all records."""
    out: list[Any] = []
    for i in range(0, len(rows), BATCH_ROWS):
        out += list(tx.run(query, kb=namespace, rows=list(rows[i : i + BATCH_ROWS])))
    return out


SCHEMA = (
    "CREATE CONSTRAINT kgqa_document IF NOT EXISTS FOR (n:Document) REQUIRE (n.kb, n.id) IS UNIQUE",
    "CREATE CONSTRAINT kgqa_chunk_key IF NOT EXISTS FOR (n:Chunk) REQUIRE (n.kb, n.key) IS UNIQUE",
    "CREATE CONSTRAINT kgqa_chunk_id IF NOT EXISTS FOR (n:Chunk) REQUIRE (n.kb, n.id) IS UNIQUE",
    "CREATE CONSTRAINT kgqa_entity IF NOT EXISTS FOR (n:Entity) REQUIRE (n.kb, n.id) IS UNIQUE",
    "CREATE CONSTRAINT kgqa_meta IF NOT EXISTS FOR (n:KgqaMeta) REQUIRE (n.kb, n.key) IS UNIQUE",
    "CREATE INDEX kgqa_document_kb IF NOT EXISTS FOR (n:Document) ON (n.kb)",
    "CREATE INDEX kgqa_chunk_kb IF NOT EXISTS FOR (n:Chunk) ON (n.kb)",
    "CREATE INDEX kgqa_entity_kb IF NOT EXISTS FOR (n:Entity) ON (n.kb)",
    "CREATE INDEX kgqa_relation_chunk IF NOT EXISTS FOR ()-[r:RELATION]-() ON (r.kb, r.chunk_key)",
    "CALL db.awaitIndexes(300)",
)

# Dropping a namespace: relationships first, then nodes, each in server-side batches
# (auto-commit ``CALL { ... } IN TRANSACTIONS``), so no transaction holds a hub entity
# with all its relationships (one of 5,000 nodes at once exceeded the server's
# transaction memory on a 100,000-chunk base). Every relationship starts at a node
# of the namespace, so deleting outgoing ones deletes each exactly once.
DROP_LABELS = ("Chunk", "Document", "Entity", "KgqaMeta")  # fixed labels, not user text
DROP_RELATIONSHIPS = {
    label: f"MATCH (:{label} {{kb: $kb}})-[r]->() "
    "CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS"
    for label in DROP_LABELS
}
DROP_NODES = {
    label: f"MATCH (n:{label} {{kb: $kb}}) "
    "CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
    for label in DROP_LABELS
}

# -- meta ----------------------------------------------------------------------
GET_META = "MATCH (m:KgqaMeta {kb: $kb, key: $key}) RETURN m.value"
SET_META = "MERGE (m:KgqaMeta {kb: $kb, key: $key}) SET m.value = $value"

# The first SET takes the node's write lock, so the value read by the second is
# the latest committed one: concurrent writers never hand out the same key.
ALLOCATE = """
MERGE (w:KgqaMeta {kb: $kb, key: 'last_write'}) SET w.value = $now
WITH w
UNWIND $steps AS step
MERGE (m:KgqaMeta {kb: $kb, key: step[0]})
ON CREATE SET m.value = 0
SET m._lock = true
SET m.value = m.value + step[1]
REMOVE m._lock
RETURN step[0] AS key, m.value AS value
"""

# The generation's write lock, without a change: a recount queues with writers.
LOCK_GENERATION = """
MERGE (m:KgqaMeta {kb: $kb, key: 'generation'})
ON CREATE SET m.value = 0
SET m._lock = true
REMOVE m._lock
RETURN m.value AS value
"""

# -- writes --------------------------------------------------------------------
EXISTING_ENTITIES = "UNWIND $rows AS id MATCH (e:Entity {kb: $kb, id: id}) RETURN e.id"

DOCUMENT_EXISTS = "MATCH (d:Document {kb: $kb, id: $id}) RETURN 1"

DOCUMENT_CHUNK_KEYS = """
UNWIND $ids AS id
MATCH (c:Chunk)-[:PART_OF]->(:Document {kb: $kb, id: id})
RETURN collect(c.key) AS keys
"""

# Per (entity, surface, label): how many mentions the documents hold.
DOCUMENT_SURFACES = """
UNWIND $ids AS id
MATCH (e:Entity)<-[m:MENTIONS]-(:Chunk)-[:PART_OF]->(:Document {kb: $kb, id: id})
RETURN e.id AS id, m.surface AS surface, m.label AS label, count(m) AS n
"""

DELETE_RELATIONS = """
UNWIND $rows AS key
MATCH ()-[r:RELATION {kb: $kb, chunk_key: key}]->()
DELETE r
"""

DELETE_DOCUMENTS = """
UNWIND $rows AS id
MATCH (d:Document {kb: $kb, id: id})
CALL (d) { MATCH (c:Chunk)-[:PART_OF]->(d) DETACH DELETE c }
DETACH DELETE d
"""

INSERT_DOCUMENTS = """
UNWIND $rows AS d
CREATE (:Document {kb: $kb, id: d.id, title: d.title, source: d.source,
                   content_hash: d.hash, text: d.text, ingested_at: d.at})
"""

INSERT_CHUNKS = """
UNWIND $rows AS c
MATCH (d:Document {kb: $kb, id: c.doc_id})
CREATE (x:Chunk {kb: $kb, key: c.key, id: c.id, doc_id: c.doc_id, idx: c.idx,
                 start_char: c.start, end_char: c.end, text: c.text, vector: c.vector})
       -[:PART_OF]->(d)
RETURN count(x)
"""

MERGE_ENTITIES = "UNWIND $rows AS id MERGE (:Entity {kb: $kb, id: id})"

INSERT_MENTIONS = """
UNWIND $rows AS m
MATCH (c:Chunk {kb: $kb, key: m.key})
MATCH (e:Entity {kb: $kb, id: m.entity})
CREATE (c)-[r:MENTIONS {surface: m.surface, label: m.label, start_char: m.start,
                        end_char: m.end, seq: m.seq}]->(e)
RETURN count(r)
"""

INSERT_RELATIONS = """
UNWIND $rows AS x
MATCH (a:Entity {kb: $kb, id: x.source})
MATCH (b:Entity {kb: $kb, id: x.target})
CREATE (a)-[r:RELATION {kb: $kb, label: x.label, chunk_key: x.key, start_char: x.start,
                        end_char: x.end, seq: x.seq}]->(b)
RETURN count(r)
"""

# Entities keep their mention counts per (surface, label) as three parallel
# lists, so a write recomputes a touched entity's name, label and count from
# those lists, not from all its mentions (a hub has hundreds of thousands).
ENTITY_SURFACES = """
UNWIND $rows AS id
MATCH (e:Entity {kb: $kb, id: id})
RETURN e.id AS id, e.surfaces AS surfaces, e.surface_labels AS labels, e.surface_counts AS counts
"""

UPDATE_ENTITIES = """
UNWIND $rows AS r
MATCH (e:Entity {kb: $kb, id: r.id})
SET e.name = r.name, e.label = r.label, e.mention_count = r.count,
    e.surfaces = r.surfaces, e.surface_labels = r.labels, e.surface_counts = r.counts
"""

# The recount of every entity's lists from its mentions (a base written by an
# older kgqa), in batches of entity ids.
COUNT_SURFACES = """
UNWIND $rows AS id
MATCH (e:Entity {kb: $kb, id: id})
OPTIONAL MATCH (:Chunk)-[m:MENTIONS]->(e)
RETURN id, m.surface AS surface, m.label AS label, count(m) AS n
"""

DELETE_ENTITIES = "UNWIND $rows AS id MATCH (e:Entity {kb: $kb, id: id}) DETACH DELETE e"

# -- reads ---------------------------------------------------------------------
DOCUMENT_HASHES = "MATCH (d:Document {kb: $kb}) RETURN d.id, d.content_hash"

GET_DOCUMENT = """
MATCH (d:Document {kb: $kb, id: $id})
RETURN d.id, d.title, d.text, d.source, d.content_hash
"""

DOCUMENT_TEXTS = "UNWIND $ids AS id MATCH (d:Document {kb: $kb, id: id}) RETURN d.id, d.text"

LIST_DOCUMENTS = """
MATCH (d:Document {kb: $kb})
RETURN d.id, d.title, d.source, d.content_hash, COUNT { (:Chunk)-[:PART_OF]->(d) },
       d.ingested_at
"""

GET_CHUNKS = """
UNWIND $keys AS k
MATCH (c:Chunk {kb: $kb, key: k})-[:PART_OF]->(d:Document)
RETURN c.key AS key, c.id AS id, c.doc_id AS doc_id, c.idx AS idx, c.text AS text,
       c.start_char AS start, c.end_char AS end, d.title AS title
"""

ITER_VECTORS = "MATCH (c:Chunk {kb: $kb}) RETURN c.key, c.vector ORDER BY c.key"

ITER_CHUNK_TEXTS = """
MATCH (c:Chunk {kb: $kb})-[:PART_OF]->(d:Document)
RETURN c.key, d.title, c.text ORDER BY c.key
"""

ITER_ALIASES = "MATCH (e:Entity {kb: $kb}) UNWIND e.surfaces AS s RETURN DISTINCT e.id, s"

ENTITY_NAMES = "MATCH (e:Entity {kb: $kb}) RETURN e.id, e.name"

ENTITY_IDS = "MATCH (e:Entity {kb: $kb}) WHERE $label IS NULL OR e.label = $label RETURN e.id"

ENTITY_NAMES_OF = "UNWIND $ids AS id MATCH (e:Entity {kb: $kb, id: id}) RETURN e.id, e.name"

CHUNK_KEYS = "MATCH (c:Chunk {kb: $kb}) WHERE c.key <= $max RETURN c.key ORDER BY c.key"

COUNT_CHUNKS = "MATCH (c:Chunk {kb: $kb}) WHERE c.key <= $max RETURN count(c)"

# keys ascending, one page after $after; mentions and relations in write order
CHUNK_RECORDS = """
MATCH (c:Chunk {kb: $kb}) WHERE c.key > $after
WITH c ORDER BY c.key LIMIT $batch
MATCH (c)-[:PART_OF]->(d:Document)
RETURN c.key AS key, d.title AS title, c.text AS text, c.vector AS vector,
       COLLECT { MATCH (c)-[m:MENTIONS]->(e:Entity) RETURN [e.id, m.surface] ORDER BY m.seq }
       AS mentions
ORDER BY key
"""

CHUNK_RELATIONS = """
UNWIND $keys AS k
MATCH (a:Entity)-[r:RELATION {kb: $kb, chunk_key: k}]->(b:Entity)
RETURN k, a.id, b.id ORDER BY r.seq
"""

ITER_MENTION_EDGES = """
MATCH (c:Chunk {kb: $kb})-[m:MENTIONS]->(e:Entity)
RETURN c.key, e.id ORDER BY m.seq
"""

ITER_RELATION_EDGES = """
MATCH (a:Entity {kb: $kb})-[r:RELATION]->(b:Entity)
RETURN a.id, b.id, r.label ORDER BY r.seq
"""

_ENTITY_RETURN = """
RETURN e.id AS id, e.name AS name, e.label AS label, e.mention_count AS count,
       COLLECT { MATCH (:Chunk)-[m:MENTIONS]->(e) RETURN DISTINCT m.surface } AS aliases
"""

GET_ENTITIES = "UNWIND $ids AS id MATCH (e:Entity {kb: $kb, id: id})" + _ENTITY_RETURN

SEARCH_ENTITIES = (
    """
MATCH (e:Entity {kb: $kb})
WHERE $text IS NULL OR toLower(e.id) CONTAINS $text OR toLower(e.name) CONTAINS $text
   OR ($key <> '' AND e.id CONTAINS $key)
   OR EXISTS { MATCH (:Chunk)-[m:MENTIONS]->(e) WHERE toLower(m.surface) CONTAINS $text }
WITH e ORDER BY e.mention_count DESC, e.id LIMIT $limit
"""
    + _ENTITY_RETURN
    + "ORDER BY count DESC, id"
)

MENTIONS_OF = """
MATCH (c:Chunk)-[m:MENTIONS]->(e:Entity {kb: $kb, id: $id})
RETURN e.id, c.id, c.doc_id, m.surface, m.start_char, m.end_char, m.label
ORDER BY c.doc_id, m.start_char, m.seq LIMIT $limit
"""

# Relations where the entity is the source come first, then those where it is the
# target, each in write order: the order SQLite's OR-by-two-indexes plan gives.
RELATIONS_OF = """
MATCH (e:Entity {kb: $kb, id: $id})-[r:RELATION]-()
WITH DISTINCT e, r
WITH r, CASE WHEN startNode(r) = e THEN 0 ELSE 1 END AS side
ORDER BY side, r.seq LIMIT $limit
MATCH (c:Chunk {kb: $kb, key: r.chunk_key})
RETURN startNode(r).id AS source, endNode(r).id AS target, r.label AS label,
       c.id AS chunk, c.doc_id AS doc, r.start_char AS start, r.end_char AS end
ORDER BY side, r.seq
"""

COUNT_KEYS = ("documents", "chunks", "entities", "relations", "mentions", "aliases")

COUNTS = """
CALL () { MATCH (d:Document {kb: $kb}) RETURN count(d) AS documents }
CALL () { MATCH (c:Chunk {kb: $kb}) RETURN count(c) AS chunks }
CALL () { MATCH (e:Entity {kb: $kb}) RETURN count(e) AS entities }
CALL () { MATCH (:Entity {kb: $kb})-[r:RELATION]->() RETURN count(r) AS relations }
CALL () { MATCH (:Chunk {kb: $kb})-[m:MENTIONS]->() RETURN count(m) AS mentions }
CALL () {
  MATCH (:Chunk {kb: $kb})-[m:MENTIONS]->(e:Entity)
  WITH DISTINCT e.id AS id, m.surface AS surface
  RETURN count(*) AS aliases
}
RETURN documents, chunks, entities, relations, mentions, aliases
"""

CHECK = """
CALL () {
  MATCH (e:Entity {kb: $kb}) WHERE NOT EXISTS { (:Chunk)-[:MENTIONS]->(e) }
  RETURN count(e) AS orphans
}
CALL () {
  MATCH (e:Entity {kb: $kb})
  WITH e, COUNT { (:Chunk)-[:MENTIONS]->(e) } AS n
  WHERE n > 0 AND (e.name IS NULL OR e.label IS NULL OR e.mention_count IS NULL
                   OR e.mention_count <> n OR e.surface_counts IS NULL
                   OR reduce(t = 0, x IN e.surface_counts | t + x) <> n)
  RETURN count(e) AS stale
}
CALL () {
  MATCH (c:Chunk {kb: $kb}) WHERE NOT EXISTS { (c)-[:PART_OF]->(:Document {kb: $kb}) }
  RETURN count(c) AS loose_chunks
}
CALL () {
  MATCH (:Entity {kb: $kb})-[r:RELATION]->()
  WHERE NOT EXISTS { MATCH (c:Chunk {kb: $kb, key: r.chunk_key}) }
  RETURN count(r) AS loose_relations
}
CALL () {
  OPTIONAL MATCH (c:Chunk {kb: $kb})
  WITH max(c.key) AS top
  OPTIONAL MATCH (m:KgqaMeta {kb: $kb, key: 'next_chunk_key'})
  RETURN CASE WHEN top > coalesce(m.value, 0) THEN top - coalesce(m.value, 0) ELSE 0 END
         AS keys_ahead
}
RETURN orphans, stale, loose_chunks, loose_relations, keys_ahead
"""

# -- search (kg/neo4j_search.py) ---------------------------------------------------
# Index and label names are made from the namespace by kg.neo4j_search.search_names
# (letters, digits and underscores only): Cypher takes no parameters for them.
VECTOR_INDEX = (
    "CREATE VECTOR INDEX {index} IF NOT EXISTS FOR (n:{label}) ON (n.embedding) "
    "OPTIONS {{indexConfig: {{`vector.dimensions`: {dim}, "
    "`vector.similarity_function`: 'cosine'}}}}"
)
TEXT_INDEX = (
    "CREATE FULLTEXT INDEX {index} IF NOT EXISTS FOR (n:{label}) ON EACH [n.search_text] "
    "OPTIONS {{indexConfig: {{`fulltext.analyzer`: 'whitespace'}}}}"
)
DROP_INDEX = "DROP INDEX {index} IF EXISTS"

SET_SEARCH_FIELDS = """
UNWIND $rows AS r
MATCH (c:Chunk {kb: $kb, key: r.key})
SET c:$($label), c.search_text = r.text
WITH c, r
CALL db.create.setNodeVectorProperty(c, 'embedding', r.embedding)
RETURN count(c)
"""

VECTOR_TOP = """
CALL db.index.vector.queryNodes($index, $k, $vector) YIELD node, score
RETURN node.key, score
"""

TEXT_TOP = """
CALL db.index.fulltext.queryNodes($index, $text, {limit: $k}) YIELD node, score
RETURN node.key, score
"""

CHUNK_VECTORS = "UNWIND $keys AS k MATCH (c:Chunk {kb: $kb, key: k}) RETURN k, c.vector"

CHUNK_ENTITIES = """
UNWIND $keys AS k
MATCH (c:Chunk {kb: $kb, key: k})
RETURN k, COLLECT { MATCH (c)-[:MENTIONS]->(e:Entity) RETURN DISTINCT e.id } AS entities
"""

# The sum over an entity's related entities of min(relations, 2): with its chunks,
# its degree in the graph PageRank walks (relations counted in both directions,
# self-relations left out); summed on the server, so a hub costs one number.
ENTITY_RELATION_HALF = """
UNWIND $ids AS id
MATCH (e:Entity {kb: $kb, id: id})
RETURN id, COLLECT {
  MATCH (e)-[r:RELATION]-(f:Entity) WHERE f <> e
  WITH f, count(r) AS n RETURN CASE WHEN n >= 2 THEN 2 ELSE n END
} AS halves
"""

# What pushing an entity needs: its related entities (with the number of relations
# between them) and the chunks mentioning it.
ENTITY_PUSH = """
UNWIND $ids AS id
MATCH (e:Entity {kb: $kb, id: id})
RETURN id,
  COLLECT {
    MATCH (e)-[r:RELATION]-(f:Entity) WHERE f <> e
    WITH f, count(r) AS n RETURN [f.id, n]
  } AS related,
  COLLECT { MATCH (c:Chunk)-[:MENTIONS]->(e) RETURN DISTINCT c.key } AS chunks
"""
