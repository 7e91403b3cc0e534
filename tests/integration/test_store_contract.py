"""One contract for every ``GraphStore``: the embedded SQLite store and the Neo4j store.

Each test runs once per backend (the ``store`` fixture is parametrized); the
Neo4j runs carry the ``neo4j`` marker and use a fresh namespace on the session
server. The last test feeds both stores the same writes and deletes and
compares everything they answer.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from kg.store import DocumentRecord
from kgqa.errors import StoreError
from kgqa.types import Chunk, Document, Mention, Relation

DIM = 4


def make_record(doc_id: str, title: str, sentences: list[str], seed: int = 0) -> DocumentRecord:
    """One chunk per sentence; entities are ``[[Surface|LABEL]]`` markers in the text.

    ``make_record("d", "D", ["[[Acme Corp|ORG]] hired [[Maria|PERSON]]."])``
    mentions ``acme corp`` and ``maria`` in chunk ``d#0``, and relates them.
    """
    text, chunks, mentions, relations = "", [], [], []
    for i, sentence in enumerate(sentences):
        start = len(text)
        ents: list[tuple[str, str, int]] = []
        plain = ""
        rest = sentence
        while "[[" in rest:
            before, _, after = rest.partition("[[")
            inner, _, rest = after.partition("]]")
            surface, _, label = inner.partition("|")
            plain += before
            ents.append((surface, label, start + len(plain)))
            plain += surface
        plain += rest
        text += plain + " "
        cid = Chunk.make_id(doc_id, i)
        chunks.append(Chunk(cid, doc_id, i, plain, start, start + len(plain)))
        ids = []
        for surface, label, pos in ents:
            eid = surface.lower().removesuffix(".")
            ids.append(eid)
            mentions.append(Mention(eid, cid, doc_id, surface, pos, pos + len(surface), label))
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                if ids[a] != ids[b]:
                    relations.append(
                        Relation(
                            ids[a],
                            ids[b],
                            "co_occurs",
                            cid,
                            doc_id,
                            plain,
                            start,
                            start + len(plain),
                        )
                    )
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(chunks), DIM)).astype(np.float32)  # (n_chunks, DIM)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    doc = Document(doc_id, title, text.rstrip(), source=f"{doc_id}.txt")
    return DocumentRecord(doc, tuple(chunks), vectors, tuple(mentions), tuple(relations))


ACME = make_record(
    "acme",
    "Acme",
    [
        "[[Acme Corp|ORG]] was founded by [[Maria Okafor|PERSON]] in [[Lisbon|GPE]].",
        "[[ACME Corp.|ORG]] sells robots to [[Northwind|ORG]].",
    ],
    seed=1,
)
MARIA = make_record(
    "maria",
    "Maria Okafor",
    ["[[Maria Okafor|PERSON]] studied in [[Porto|GPE]] and joined [[Acme Corp|PRODUCT]]."],
    seed=2,
)
ZETA = make_record("zeta", "Zeta", ["[[Zeta Labs|ORG]] moved to [[Lisbon|GPE]]."], seed=3)


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request):
    return request.param


def open_store(backend, tmp_path, request):
    if backend == "sqlite":
        from kg.sqlite_store import SqliteStore

        return SqliteStore(tmp_path / f"{uuid.uuid4().hex}.sqlite").open()
    from kg.neo4j_store import Neo4jStore

    uri, user, password = request.getfixturevalue("neo4j_server")
    return Neo4jStore(uri, user, password, namespace=f"contract-{uuid.uuid4().hex[:10]}").open()


@pytest.fixture
def store(backend, tmp_path, request):
    s = open_store(backend, tmp_path, request)
    yield s
    if backend == "neo4j":
        s.drop()
    s.close()


def by_key(store):
    return {k: sc.chunk for k, sc in ((sc.key, sc) for sc in store.chunks(range(1, 1000)))}


# -- documents and chunks --------------------------------------------------------
def test_empty_store(store):
    assert store.generation == 0
    assert store.counts() == dict.fromkeys(
        ("documents", "chunks", "entities", "relations", "mentions", "aliases"), 0
    )
    assert list(store.iter_vectors()) == []
    assert store.list_documents() == [] and store.document_hashes() == {}
    assert store.search_entities() == [] and store.check() == []
    assert store.get_document("nope") is None and store.get_entity("nope") is None


def test_write_then_read_documents_and_chunks(store):
    summary = store.write([ACME, MARIA])
    assert (summary.chunks, summary.mentions, summary.relations) == (3, 8, 7)
    assert summary.entities_added == 5  # acme corp, maria okafor, lisbon, northwind, porto
    assert store.get_document("acme") == ACME.document
    assert store.get_document("acme").content_hash == ACME.document.content_hash
    assert store.document_hashes() == {
        "acme": ACME.document.content_hash,
        "maria": MARIA.document.content_hash,
    }
    infos = store.list_documents()
    assert [(d.id, d.title, d.source, d.chunks) for d in infos] == [
        ("acme", "Acme", "acme.txt", 2),
        ("maria", "Maria Okafor", "maria.txt", 1),
    ]
    stored = store.chunks([3, 1, 99, 2])
    assert [s.key for s in stored] == [3, 1, 2]  # asked order, unknown keys left out
    assert [s.chunk for s in stored] == [MARIA.chunks[0], *ACME.chunks]
    assert [s.title for s in stored] == ["Maria Okafor", "Acme", "Acme"]
    ((keys, vectors),) = list(store.iter_vectors())
    assert keys.tolist() == [1, 2, 3] and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors, np.concatenate([ACME.vectors, MARIA.vectors]))
    assert sorted(store.iter_chunk_texts()) == [
        (1, "Acme", ACME.chunks[0].text),
        (2, "Acme", ACME.chunks[1].text),
        (3, "Maria Okafor", MARIA.chunks[0].text),
    ]
    assert store.get_meta("last_write") is not None


def test_iter_vectors_batches(store):
    store.write([ACME, MARIA, ZETA])
    batches = list(store.iter_vectors(batch=2))
    assert [k.tolist() for k, _ in batches] == [[1, 2], [3, 4]]
    assert all(v.shape == (len(k), DIM) for k, v in batches)


# -- entities ---------------------------------------------------------------------
def test_entities_are_derived_from_mentions(store):
    store.write([ACME, MARIA])
    acme = store.get_entity("acme corp")
    assert acme is not None
    assert acme.name == "Acme Corp"  # most frequent surface
    assert acme.label == "ORG"  # two ORG mentions against one PRODUCT
    assert acme.aliases == ("ACME Corp.", "Acme Corp")
    assert acme.mention_count == 3
    assert {m.doc_id for m in store.mentions("acme corp")} == {"acme", "maria"}  # its sources
    mentions = store.mentions("maria okafor")
    assert [(m.doc_id, m.chunk_id, m.surface, m.label) for m in mentions] == [
        ("acme", "acme#0", "Maria Okafor", "PERSON"),
        ("maria", "maria#0", "Maria Okafor", "PERSON"),
    ]
    m = mentions[0]
    assert ACME.document.text[m.start : m.end] == "Maria Okafor"
    assert store.entity_names() == {
        "acme corp": "Acme Corp",
        "maria okafor": "Maria Okafor",
        "lisbon": "Lisbon",
        "northwind": "Northwind",
        "porto": "Porto",
    }


def test_search_entities(store):
    store.write([ACME, MARIA, ZETA])
    assert [e.id for e in store.search_entities("acme")] == ["acme corp"]
    assert [e.id for e in store.search_entities("ACME CORP.")] == ["acme corp"]  # by alias
    assert [e.id for e in store.search_entities(" lis ")] == ["lisbon"]
    assert store.search_entities("no such thing") == []
    everything = store.search_entities()
    counts = [e.mention_count for e in everything]
    assert counts == sorted(counts, reverse=True)
    assert [e.id for e in everything][:3] == ["acme corp", "lisbon", "maria okafor"]
    assert len(store.search_entities(limit=2)) == 2
    assert [e.id for e in store.search_entities("o", limit=3)] == [
        "acme corp",
        "lisbon",
        "maria okafor",
    ]


SUPPLIERS = make_record(
    "suppliers",
    "Suppliers",
    [
        "[[O\u2019Connor & Sons|ORG]] delivers timber and [[50% Solutions|ORG]] pays.",
        "[[Ya\u00adsmin Odu\u00adya|PERSON]] audits [[Zed_Works|ORG]].",
    ],
    seed=4,
)


def keyed(record):
    """The record with entity ids made as resolution makes them (kg.resolve.normalize)."""
    from dataclasses import replace

    from kg.resolve import normalize

    mentions = tuple(replace(m, entity_id=normalize(m.surface)) for m in record.mentions)
    return replace(record, mentions=mentions, relations=())


def test_search_is_literal_and_treats_typographic_variants_alike(store):
    store.write([ACME, keyed(SUPPLIERS)])
    assert [e.id for e in store.search_entities("O'Connor")] == ["o connor sons"]
    assert [e.id for e in store.search_entities("o\u2019connor")] == ["o connor sons"]
    assert [e.id for e in store.search_entities("Yasmin")] == ["yasmin oduya"]
    assert [e.id for e in store.search_entities("50%")] == ["50 solutions"]
    assert [e.id for e in store.search_entities("%")] == ["50 solutions"]  # not a wildcard
    assert [e.id for e in store.search_entities("_")] == ["zed works"]  # by its alias
    assert store.search_entities("%%") == [] and store.search_entities("a_m") == []
    assert len(store.search_entities("  ")) == len(store.search_entities())  # blank: all


def test_entity_ids_by_label(store):
    store.write([ACME, MARIA, ZETA])
    assert sorted(store.entity_ids("PERSON")) == ["maria okafor"]
    assert sorted(store.entity_ids("GPE")) == ["lisbon", "porto"]
    assert sorted(store.entity_ids()) == sorted(store.entity_names())
    assert store.entity_ids("NO_SUCH_LABEL") == []


def test_neighbours_and_relations(store):
    store.write([ACME, MARIA])
    neighbours = store.neighbours("maria okafor")
    assert [n.entity.id for n in neighbours] == ["acme corp", "lisbon", "porto"]
    first = neighbours[0]
    assert len(first.relations) == 2  # evidenced in both documents
    assert {r.doc_id for r in first.relations} == {"acme", "maria"}
    rel = next(r for r in first.relations if r.doc_id == "acme")
    assert rel.evidence == ACME.chunks[0].text
    assert ACME.document.text[rel.start : rel.end] == rel.evidence
    assert store.neighbours("maria okafor", limit=1)[0].entity.id == "acme corp"
    assert store.neighbours("nobody") == []


# -- iteration for retrieval ------------------------------------------------------------
def test_iter_methods_follow_write_order(store):
    store.write([ACME])
    store.write([MARIA, ZETA])
    assert list(store.iter_mention_edges()) == [
        (1, "acme corp"),
        (1, "maria okafor"),
        (1, "lisbon"),
        (2, "acme corp"),
        (2, "northwind"),
        (3, "maria okafor"),
        (3, "porto"),
        (3, "acme corp"),
        (4, "zeta labs"),
        (4, "lisbon"),
    ]
    edges = list(store.iter_relation_edges())
    assert edges[:3] == [
        ("acme corp", "maria okafor", "co_occurs"),
        ("acme corp", "lisbon", "co_occurs"),
        ("maria okafor", "lisbon", "co_occurs"),
    ]
    assert len(edges) == 8
    assert list(store.iter_aliases()) == [
        ("acme corp", "ACME Corp."),
        ("acme corp", "Acme Corp"),
        ("lisbon", "Lisbon"),
        ("maria okafor", "Maria Okafor"),
        ("northwind", "Northwind"),
        ("porto", "Porto"),
        ("zeta labs", "Zeta Labs"),
    ]
    assert store.counts() == {
        "documents": 3,
        "chunks": 4,
        "entities": 6,
        "relations": 8,
        "mentions": 10,
        "aliases": 7,
    }
    assert store.check() == []


def test_chunk_records_for_the_search_index(store):
    store.write([ACME])
    store.write([MARIA, ZETA])
    store.delete_document("maria")
    assert store.chunk_keys().tolist() == [1, 2, 4]
    assert store.chunk_keys(2).tolist() == [1, 2]
    assert store.count_chunks() == 3 and store.count_chunks(3) == 2
    batches = list(store.iter_chunk_records(after=1, batch=1))
    assert [[r.key for r in b] for b in batches] == [[2], [4]]
    (r2,), (r4,) = batches
    assert (r2.title, r2.text) == ("Acme", ACME.chunks[1].text)
    np.testing.assert_array_equal(r2.vector, ACME.vectors[1])
    assert r2.mentions == (("acme corp", "ACME Corp."), ("northwind", "Northwind"))
    assert r2.relations == (("acme corp", "northwind"),)
    assert r4.mentions == (("zeta labs", "Zeta Labs"), ("lisbon", "Lisbon"))
    assert [r.key for b in store.iter_chunk_records() for r in b] == [1, 2, 4]
    assert list(store.iter_chunk_records(after=4)) == []
    assert store.entity_names(["lisbon", "nobody"]) == {"lisbon": "Lisbon"}


# -- replace, delete, generation --------------------------------------------------------
def test_rewrite_replaces_everything_the_document_had(store):
    store.write([ACME, ZETA])
    old_keys = {k for k, c in by_key(store).items() if c.doc_id == "acme"}
    new_acme = make_record("acme", "Acme", ["[[Acme Corp|ORG]] moved to [[Oslo|GPE]]."], seed=9)
    summary = store.write([new_acme])
    assert summary.entities_added == 1  # oslo
    assert store.get_document("acme") == new_acme.document
    new_keys = {k for k, c in by_key(store).items() if c.doc_id == "acme"}
    assert new_keys and not new_keys & old_keys and min(new_keys) > max(old_keys)
    for gone in ("maria okafor", "northwind"):
        assert store.get_entity(gone) is None
    acme = store.get_entity("acme corp")
    assert acme.mention_count == 1 and acme.aliases == ("Acme Corp",)
    assert store.get_entity("lisbon").mention_count == 1  # still mentioned by zeta
    assert [n.entity.id for n in store.neighbours("acme corp")] == ["oslo"]
    assert store.counts()["documents"] == 2 and store.check() == []


def test_delete_removes_what_only_it_supported(store):
    store.write([ACME, MARIA, ZETA])
    assert store.delete_document("acme") is True
    assert store.get_document("acme") is None
    assert "acme" not in store.document_hashes()
    assert store.get_entity("northwind") is None  # only acme mentioned it
    assert store.get_entity("acme corp").mention_count == 1  # maria still does
    assert store.get_entity("acme corp").aliases == ("Acme Corp",)
    assert store.get_entity("lisbon").mention_count == 1
    assert all(c.doc_id != "acme" for c in by_key(store).values())
    assert all(
        "acme" not in {r.doc_id for r in n.relations} for n in store.neighbours("maria okafor")
    )
    assert store.counts() == {
        "documents": 2,
        "chunks": 2,
        "entities": 5,
        "relations": 4,
        "mentions": 5,
        "aliases": 5,
    }
    assert store.check() == []
    assert store.delete_document("acme") is False


def test_generation_bumps_on_every_committed_change(store):
    g0 = store.generation
    store.write([ACME])
    store.write([MARIA])
    assert store.generation == g0 + 2
    store.delete_document("acme")
    assert store.generation == g0 + 3
    store.delete_document("acme")  # nothing to delete: no change
    assert store.generation == g0 + 3


def test_keys_are_never_reused(store):
    store.write([ACME, MARIA])
    store.delete_document("maria")  # held the highest key
    store.write([ZETA])
    assert [sc.key for sc in store.chunks(range(1, 10))] == [1, 2, 4]


def test_failed_write_leaves_nothing(store):
    store.write([ACME])
    before, generation = store.counts(), store.generation
    broken = DocumentRecord(
        ZETA.document, ZETA.chunks, np.zeros((0, DIM), np.float32), ZETA.mentions, ZETA.relations
    )
    changed = make_record("acme", "Acme", ["[[Oslo|GPE]] only."])
    with pytest.raises(StoreError, match="zeta"):
        store.write([changed, broken])
    assert store.counts() == before and store.generation == generation
    assert store.get_document("acme") == ACME.document
    assert store.get_document("zeta") is None and store.check() == []
