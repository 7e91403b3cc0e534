"""Knowledge base lifecycle on fakes: persistence, re-ingest, update, delete, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kgqa.errors import ModelMismatchError, NotFoundError, StoreError
from kgqa.types import Document
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from retrieval.embed import HashEmbedder
from tests.fakes import CapitalizedExtractor

QUIET = IngestOptions(progress=False)


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    write(folder, "acme.md", "# Acme\n\nAcme Robotics was founded by Maria Okafor in Lisbon.")
    write(folder, "maria.txt", "Maria Okafor studied at the University of Porto.")
    write(folder, "zeta.md", "# Zeta\n\nZeta Labs sells Skyline Stations to Northwind Logistics.")
    return folder


def reopen(kb):
    kb.close()
    return KnowledgeBase.open(kb.path, embedder=HashEmbedder(64), extractor=CapitalizedExtractor())


def test_ingest_persists_documents_graph_and_vectors(fake_kb, corpus):
    report = fake_kb.ingest([corpus], options=QUIET)
    assert report.documents_added == 3 and not report.problems
    kb = reopen(fake_kb)
    stats = kb.stats()
    assert stats.documents == 3
    assert stats.chunks == 3
    assert stats.entities >= 6
    assert stats.relations > 0 and stats.mentions >= stats.entities
    assert kb.index.live_rows == stats.chunks
    maria = kb.entity("Maria Okafor")
    assert maria.mention_count == 2
    assert {m.doc_id for m in kb.mentions(maria.id)} == {"acme.md", "maria.txt"}
    names = {n.entity.name for n in kb.neighbours(maria.id)}
    assert {"Acme Robotics", "Lisbon"} <= names
    assert kb.check() == []
    kb.close()


def test_reingest_unchanged_does_no_work(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    before = fake_kb.stats()
    generation = fake_kb.store.generation
    report = fake_kb.ingest([corpus], options=QUIET)
    assert report.documents_unchanged == 3
    assert report.documents_added == report.documents_updated == report.chunks_added == 0
    assert fake_kb.stats() == before
    assert fake_kb.store.generation == generation  # nothing was written


def test_changed_document_replaces_its_data(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    old_keys = {c.key for c in fake_kb.chunks(range(1, 100)) if c.chunk.doc_id == "zeta.md"}
    write(corpus, "zeta.md", "# Zeta\n\nZeta Labs moved to Oslo.")
    report = fake_kb.ingest([corpus], options=QUIET)
    assert report.documents_updated == 1 and report.documents_unchanged == 2
    with pytest.raises(NotFoundError):
        fake_kb.entity("Northwind Logistics")  # only the old version mentioned it
    assert fake_kb.entity("Oslo").mention_count == 1
    new_keys = {c.key for c in fake_kb.chunks(range(1, 100)) if c.chunk.doc_id == "zeta.md"}
    assert new_keys and not new_keys & old_keys
    rows, _ = fake_kb.index.dense_top(HashEmbedder(64).embed(["Zeta Labs Oslo"])[0], k=10)
    found = set(fake_kb.index.keys_of(rows).tolist())
    assert found and not found & old_keys
    assert fake_kb.index.live_rows == fake_kb.stats().chunks
    assert "moved to Oslo" in fake_kb.document("zeta.md").text


def test_delete_removes_what_only_it_supported(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    fake_kb.delete("acme.md")
    with pytest.raises(NotFoundError):
        fake_kb.entity("Acme Robotics")
    with pytest.raises(NotFoundError):
        fake_kb.entity("Lisbon")
    maria = fake_kb.entity("Maria Okafor")  # still supported by maria.txt
    assert maria.mention_count == 1
    assert all(r.doc_id != "acme.md" for n in fake_kb.neighbours(maria.id) for r in n.relations)
    assert fake_kb.stats().documents == 2
    assert fake_kb.index.live_rows == fake_kb.stats().chunks
    assert fake_kb.check() == []
    with pytest.raises(NotFoundError, match=r"acme\.md"):
        fake_kb.delete("acme.md")


def test_mentions_and_neighbours_come_through_the_index_as_the_store_has_them(fake_kb, corpus):
    """The embedded store keeps no entity-keyed index: the search index names the chunks."""
    fake_kb.ingest([corpus], options=QUIET)
    fake_kb.delete("maria.txt")
    fake_kb.ingest(
        [Document("m2", "M2", "Maria Okafor moved to Lisbon with Zeta Labs.")], options=QUIET
    )
    store = fake_kb.store
    for eid in store.entity_ids():
        keys = fake_kb.index.chunks_of_entity(eid).tolist()
        assert keys == sorted({k for k, e in store.iter_mention_edges() if e == eid})
        assert fake_kb.mentions(eid) == store.mentions(eid)  # the scan, no chunk keys
        assert fake_kb.neighbours(eid) == store.neighbours(eid)
    assert {m.doc_id for m in fake_kb.mentions("Maria Okafor")} == {"acme.md", "m2"}
    assert fake_kb.index.chunks_of_entity("nobody").tolist() == []


def test_mentions_are_read_when_the_index_cannot_be_brought_up_to_date(
    fake_kb, corpus, monkeypatch
):
    from pipelines import derived

    fake_kb.ingest([corpus], options=QUIET)
    kb = reopen(fake_kb)
    expected = kb.store.mentions("maria okafor")
    kb.store.write([])  # the store moves on; the index is now stale

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system", str(kb.path / "index"))

    monkeypatch.setattr(derived, "refresh_index", read_only)
    assert kb.mentions("Maria Okafor") == expected  # the store scans instead
    assert {n.entity.name for n in kb.neighbours("Maria Okafor")} >= {"Acme Robotics"}
    kb.close()


def test_aliases_keep_their_sources(fake_kb):
    fake_kb.ingest(
        [Document("a", "A", "ACME Corp. makes robots."), Document("b", "B", "Acme Corp sells.")],
        options=QUIET,
    )
    ent = fake_kb.entity("acme corp")
    assert set(ent.aliases) == {"ACME Corp", "Acme Corp"}
    assert {m.doc_id for m in fake_kb.mentions(ent.id)} == {"a", "b"}


def test_bad_inputs_are_reported_and_the_rest_goes_on(fake_kb, corpus, tmp_path):
    fake_kb.ingest([corpus], options=QUIET)
    bad = tmp_path / "bad"
    write(bad, "empty.txt", "")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (bad / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    write(
        bad,
        "corpus.jsonl",
        '{"id": "j1", "title": "J", "text": "Jolly Ranch in Texas."}\n{not json\n',
    )
    write(bad, "good.md", "# Good\n\nGood Foods opened in Madrid.")
    report = fake_kb.ingest([bad, tmp_path / "missing.txt"], options=QUIET)
    sources = " ".join(p.source for p in report.problems)
    for name in (
        "empty.txt",
        "binary.txt",
        "latin1.txt",
        "broken.pdf",
        "corpus.jsonl:2",
        "missing.txt",
    ):
        assert name in sources, name
    assert report.documents_added == 2  # good.md and the valid JSONL line
    assert fake_kb.stats().documents == 5  # nothing already there was lost
    assert fake_kb.check() == []


def test_duplicate_ids_in_one_call_are_reported(fake_kb):
    report = fake_kb.ingest(
        [Document("x", "X", "One Thing."), Document("x", "X", "Other Thing.")], options=QUIET
    )
    assert report.documents_added == 1
    assert "duplicate document id" in report.problems[0].reason


def test_opening_with_another_embedder_is_a_clear_error(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    fake_kb.close()
    with pytest.raises(ModelMismatchError, match="hash:64"):
        KnowledgeBase.open(
            fake_kb.path, embedder=HashEmbedder(32), extractor=CapitalizedExtractor()
        )
    manifest = json.loads((fake_kb.path / "manifest.json").read_text())
    assert manifest["embedder"]["name"] == "hash:64" and manifest["schema_version"] == 1


def test_refuses_a_non_empty_foreign_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty"):
        KnowledgeBase.open(tmp_path, embedder=HashEmbedder(64), extractor=CapitalizedExtractor())
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_open_without_create_needs_a_base(tmp_path):
    with pytest.raises(StoreError, match="no knowledge base"):
        KnowledgeBase.open(tmp_path / "nowhere", create=False)


def test_a_missing_damaged_or_foreign_search_index_is_rebuilt(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    expected = [h.chunk.id for h in fake_kb.search("Who founded Acme Robotics?")]
    index_dir = fake_kb.path / "index"
    (index_dir / "manifest.json").write_text("garbage")
    kb = reopen(fake_kb)
    assert [h.chunk.id for h in kb.search("Who founded Acme Robotics?")] == expected
    for path in index_dir.glob("vectors.*.bin"):  # a data file gone
        path.unlink()
    kb2 = reopen(kb)
    assert [h.chunk.id for h in kb2.search("Who founded Acme Robotics?")] == expected
    kb2.store.set_meta("index_source", "another-store")  # an index of another store
    kb3 = reopen(kb2)
    assert kb3.index.source == "another-store" and kb3.check() == []
    kb3.close()


def test_no_file_of_the_old_derived_formats_is_written(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    names = {p.name for p in fake_kb.path.iterdir()}
    assert names == {"manifest.json", "kgqa.sqlite", "kgqa.sqlite-wal", "kgqa.sqlite-shm", "index"}


def test_graph_links_chunks_and_entities(fake_kb, corpus):
    fake_kb.ingest([corpus], options=QUIET)
    index = fake_kb.index
    maria = index.entity_index("maria okafor")
    acme = index.entity_index("acme robotics")
    assert maria >= 0 and acme >= 0
    _, rows = index.graph.chunks_of(np.array([maria]))
    assert len(rows) == 2
    _, related, _ = index.graph.related(np.array([maria]))
    assert acme in related.tolist()
