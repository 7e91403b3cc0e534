"""Knowledge bases on Neo4j behave like embedded ones: same counts, same hits, same faults.

Runs on the fakes (hash embedder, capitalised-words extractor) against the
session's real Neo4j server; the stopped-server test runs its own throwaway one.
A Neo4j base is searched on the server (its vector and full-text indexes, its
graph by Cypher): dense and graph hits equal the embedded ones exactly; BM25
is Lucene's (k1 = 1.2 where kgqa's is 1.5), so lexical scores differ and only
the order of close hits may.
"""

from __future__ import annotations

import json
import random
import shutil
import uuid

import pytest

from kg import neo4j_entities
from kg.neo4j_store import Neo4jSettings, Neo4jStore
from kgqa.errors import ConfigError, StoreError
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from retrieval.embed import HashEmbedder
from tests.conftest import DEMO_CORPUS
from tests.fakes import CapitalizedExtractor
from tests.integration.test_store_contract import ACME, MARIA, ZETA, make_record
from tests.neo4j_server import Neo4jServer, free_port

pytestmark = pytest.mark.neo4j

QUIET = IngestOptions(progress=False, batch_docs=8)
QUESTIONS = [
    "Who founded Stratwell Instruments in Porto?",
    "Which office did Ines Carvalho open in Edinburgh?",
    "What does the Kestrel Station measure for Harrowgate Rail?",
    "Which team built the Driftline Buoy?",
    "What happened during the Nimbus Cloud outage?",
    "Where did Priya Raman work before Project Halcyon?",
]


def open_kb(path, graph_store=None, neo4j=None, **kw):
    return KnowledgeBase.open(
        path,
        embedder=HashEmbedder(64),
        extractor=CapitalizedExtractor(),
        graph_store=graph_store,
        neo4j=neo4j,
        **kw,
    )


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(DEMO_CORPUS, folder)
    return folder


@pytest.fixture
def pair(tmp_path, neo4j_settings):
    """The same empty base twice: embedded and on Neo4j."""
    lite = open_kb(tmp_path / "lite")
    neo = open_kb(tmp_path / "neo", "neo4j", neo4j_settings)
    yield lite, neo
    lite.close()
    neo.store.drop()
    neo.close()


def stats(kb):
    return kb.stats().as_dict() | {"last_ingest": None}


def hits(kb, mode):
    return [
        [(h.chunk.id, h.score, h.scores, h.entities, h.paths) for h in kb.search(q, mode=mode)]
        for q in QUESTIONS
    ]


def assert_same_hits(a, b):
    assert len(a) == len(b)
    for qa, qb in zip(a, b, strict=True):
        assert [h[0] for h in qa] == [h[0] for h in qb]
        for ha, hb in zip(qa, qb, strict=True):
            assert ha[1] == pytest.approx(hb[1], abs=1e-6)
            assert ha[2].keys() == hb[2].keys()
            for k in ha[2]:
                assert ha[2][k] == pytest.approx(hb[2][k], abs=1e-6)
            assert ha[3:] == hb[3:]  # entities and explaining paths


def assert_close_hits(a, b):
    """Lucene's BM25 in the mix (it also seeds PageRank in hybrid): the same hits, the
    same first one, and each hit's cosine."""
    assert len(a) == len(b)
    for qa, qb in zip(a, b, strict=True):
        assert {h[0] for h in qa} == {h[0] for h in qb} and qa[0][0] == qb[0][0]
        found = {h[0]: h for h in qb}
        for ha in qa:
            assert ha[2]["vector"] == pytest.approx(found[ha[0]][2]["vector"], abs=1e-6)


def assert_mode_hits(a, b, mode):
    if mode in ("lexical", "hybrid"):
        assert_close_hits(a, b)
    else:
        assert_same_hits(a, b)


def content(kb):
    """Everything a store answers, minus write times and chunk keys."""
    s = kb.store
    keys = {sc.key: sc.chunk.id for sc in s.chunks(sorted(k for k, _, _ in s.iter_chunk_texts()))}
    ents = s.search_entities(limit=100_000)
    return {
        "counts": s.counts(),
        "docs": [(d.id, d.title, d.source, d.content_hash, d.chunks) for d in s.list_documents()],
        "texts": {d.id: s.get_document(d.id) for d in s.list_documents()},
        "entities": ents,
        "names": s.entity_names(),
        "aliases": list(s.iter_aliases()),
        "mention_edges": [(keys[k], e) for k, e in s.iter_mention_edges()],
        "relation_edges": list(s.iter_relation_edges()),
        "neighbours": {e.id: s.neighbours(e.id) for e in ents},
        "mentions": {e.id: s.mentions(e.id) for e in ents},
        "check": s.check(),
    }


# -- same behaviour --------------------------------------------------------------------
def test_ingest_reingest_update_delete_match_sqlite(pair, corpus):
    lite, neo = pair
    for kb in pair:
        report = kb.ingest([corpus], options=QUIET)
        assert report.documents_added == 33 and not report.problems
    assert stats(neo) == stats(lite)
    assert content(neo) == content(lite)

    generation = neo.store.generation
    again = neo.ingest([corpus], options=QUIET)
    assert again.documents_unchanged == 33 and again.chunks_added == 0
    assert neo.store.generation == generation

    (corpus / "office-porto.md").write_text("# Porto Office\n\nThe Porto Office moved to Braga.")
    (corpus / "new-doc.md").write_text("# Helix Labs\n\nHelix Labs works with Keiko Tanaka.")
    reports = [kb.ingest([corpus], options=QUIET) for kb in pair]
    assert reports[0].documents_updated == reports[1].documents_updated == 1
    assert reports[0].entities_added == reports[1].entities_added
    for kb in pair:
        kb.delete("people-henrik-dahl.md")
    assert stats(neo) == stats(lite)
    assert content(neo) == content(lite)
    assert neo.check() == []
    with pytest.raises(Exception, match="no document"):
        neo.delete("people-henrik-dahl.md")


@pytest.mark.parametrize("mode", ["graph", "hybrid", "vector", "lexical"])
def test_search_matches_sqlite(pair, corpus, mode):
    for kb in pair:
        kb.ingest([corpus], options=QUIET)
    assert_mode_hits(hits(pair[0], mode), hits(pair[1], mode), mode)


def test_a_neo4j_base_is_searched_on_the_server(pair, corpus, monkeypatch):
    neo = pair[1]
    neo.ingest([corpus], options=QUIET)
    assert neo.index.parts == frozenset()  # no local vectors, BM25 or graph
    assert not list((neo.path / "index").glob("vectors*"))
    for whole in ("iter_vectors", "iter_mention_edges", "iter_relation_edges",
                  "iter_chunk_texts", "iter_aliases", "iter_chunk_records"):  # fmt: skip
        monkeypatch.setattr(Neo4jStore, whole, lambda *a, **k: pytest.fail("read the whole base"))
    for mode in ("vector", "lexical", "graph", "hybrid"):
        assert neo.search(QUESTIONS[0], mode=mode)
    monkeypatch.undo()
    with neo.store._session() as s:  # every chunk carries the base's search fields
        missing = s.run(
            "MATCH (c:Chunk {kb: $kb}) WHERE NOT $label IN labels(c) OR c.search_text IS NULL "
            "OR c.embedding IS NULL RETURN count(c)",
            kb=neo.store.namespace, label=neo.searcher().corpus.search.names.label,
        ).single()[0]  # fmt: skip
    assert missing == 0
    neo.delete("office-porto.md")
    assert all(h.chunk.doc_id != "office-porto.md" for h in neo.search("Porto office", top_k=10))


def test_random_writes_and_deletes_answer_the_same(tmp_path, neo4j_settings):
    """The same random sequence of writes, rewrites and deletes on both stores."""
    from kg.sqlite_store import SqliteStore

    rng = random.Random(7)
    names = ["Acme Corp", "ACME Corp.", "Maria Okafor", "Lisbon", "Porto", "Zeta Labs", "Oslo"]
    lite = SqliteStore(tmp_path / "x.sqlite").open()
    neo = Neo4jStore.from_settings(neo4j_settings, f"random-{uuid.uuid4().hex[:8]}").open()
    try:
        for step in range(40):
            doc = f"doc{rng.randrange(8)}"
            if rng.random() < 0.25:
                assert lite.delete_document(doc) == neo.delete_document(doc)
                continue
            sentences = [
                " and ".join(f"[[{n}|{rng.choice(['ORG', 'GPE'])}]]" for n in rng.sample(names, 3))
                + "."
                for _ in range(rng.randrange(1, 4))
            ]
            record = make_record(doc, doc.title(), sentences, seed=step)
            assert lite.write([record]) == neo.write([record])
        for s in (lite, neo):
            assert s.check() == []
        assert neo.counts() == lite.counts()
        assert neo.generation == lite.generation
        assert list(neo.iter_mention_edges()) == list(lite.iter_mention_edges())
        assert list(neo.iter_relation_edges()) == list(lite.iter_relation_edges())
        assert list(neo.iter_aliases()) == list(lite.iter_aliases())
        assert sorted(neo.iter_chunk_texts()) == sorted(lite.iter_chunk_texts())
        for (k1, v1), (k2, v2) in zip(neo.iter_vectors(), lite.iter_vectors(), strict=True):
            assert k1.tolist() == k2.tolist() and (v1 == v2).all()
        ents = lite.search_entities(limit=1000)
        assert neo.search_entities(limit=1000) == ents
        for e in ents:
            assert neo.neighbours(e.id) == lite.neighbours(e.id)
            assert neo.mentions(e.id) == lite.mentions(e.id)
            assert neo.search_entities(e.name[:3]) == lite.search_entities(e.name[:3])
    finally:
        neo.drop()
        neo.close()
        lite.close()


# -- export ------------------------------------------------------------------------------
def test_export_copies_an_embedded_base(tmp_path, corpus, neo4j_settings):
    from pipelines.export import export_to_neo4j

    lite = open_kb(tmp_path / "lite")
    lite.ingest([corpus], options=QUIET)
    lite.delete("team-platform.md")  # a gap in the keys: the copy renumbers, same answers
    report = export_to_neo4j(lite.path, tmp_path / "copy", neo4j=neo4j_settings, batch_docs=5)
    assert (report.documents, report.unchanged, report.removed) == (32, 0, 0)
    manifest = json.loads((tmp_path / "copy" / "manifest.json").read_text())
    assert manifest["store"]["kind"] == "neo4j" and manifest["store"]["namespace"]
    assert neo4j_settings.password not in (tmp_path / "copy" / "manifest.json").read_text()
    copy = open_kb(tmp_path / "copy", neo4j=neo4j_settings)
    try:
        assert stats(copy) == stats(lite)
        assert content(copy) == content(lite)
        for mode in ("graph", "hybrid"):
            assert_mode_hits(hits(lite, mode), hits(copy, mode), mode)

        lite.delete("office-porto.md")
        again = export_to_neo4j(lite.path, tmp_path / "copy", neo4j=neo4j_settings)
        assert (again.documents, again.unchanged, again.removed) == (0, 31, 1)
        assert copy.stats().documents == 31
        assert_same_hits(hits(lite, "graph"), hits(copy, "graph"))
    finally:
        copy.store.drop()
        copy.close()
        lite.close()


def test_cli_ingest_and_export(tmp_path, corpus, neo4j_server, monkeypatch, capsys):
    from pipelines.cli import main

    uri, _, password = neo4j_server
    monkeypatch.setenv("NEO4J_PASSWORD", password)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    kb = tmp_path / "kb"
    args = ["--kb", str(kb), "--embedder", "hash:64", "--no-progress", "--graph-store", "neo4j"]
    monkeypatch.setattr("pipelines.kb.SpacyExtractor", lambda *a, **k: CapitalizedExtractor())
    assert main(["ingest", str(corpus / "office-porto.md"), *args, "--neo4j-uri", uri]) == 0
    recorded = json.loads((kb / "manifest.json").read_text())["store"]
    assert recorded["uri"] == uri and "password" not in recorded
    capsys.readouterr()
    assert main(["stats", "--kb", str(kb), "--json"]) == 0  # the manifest names the server
    assert json.loads(capsys.readouterr().out)["documents"] == 1
    with pytest.raises(ConfigError, match="neo4j, not sqlite"):
        open_kb(kb, "sqlite")

    lite = tmp_path / "lite"
    assert (
        main(["ingest", str(corpus), "--kb", str(lite), "--embedder", "hash:64", "--no-progress"])
        == 0
    )
    capsys.readouterr()
    monkeypatch.setenv("NEO4J_URI", uri)
    assert main(["export", "--kb", str(lite), "--to", "neo4j", "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 33 and report["target"] == str(tmp_path / "lite-neo4j")
    for path in (kb, tmp_path / "lite-neo4j"):
        with open_kb(path) as k:
            k.store.drop()


# -- faults ------------------------------------------------------------------------------
def test_unreachable_server_is_a_clear_error(tmp_path):
    uri = f"bolt://127.0.0.1:{free_port()}"
    settings = Neo4jSettings(uri=uri, password="whatever")
    with pytest.raises(StoreError) as err:
        open_kb(tmp_path / "kb", "neo4j", settings)
    message = str(err.value)
    assert uri in message and "cannot reach the Neo4j server" in message
    assert "NEO4J_URI" in message


def test_wrong_password_is_a_clear_error(tmp_path, neo4j_server):
    uri, user, _ = neo4j_server
    with pytest.raises(StoreError) as err:
        open_kb(tmp_path / "kb", "neo4j", Neo4jSettings(uri=uri, user=user, password="wrong"))
    assert uri in str(err.value) and "authentication failed" in str(err.value)
    assert "NEO4J_PASSWORD" in str(err.value)


def test_missing_password_is_a_clear_error(tmp_path, neo4j_server, monkeypatch):
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    with pytest.raises(StoreError, match="NEO4J_PASSWORD"):
        open_kb(tmp_path / "kb", "neo4j", Neo4jSettings(uri=neo4j_server[0]))


def test_cli_unreachable_server_exits_1(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    uri = f"bolt://127.0.0.1:{free_port()}"
    monkeypatch.setenv("NEO4J_PASSWORD", "x")
    code = main(
        [
            "ingest",
            str(DEMO_CORPUS / "office-porto.md"),
            "--kb",
            str(tmp_path / "kb"),
            "--embedder",
            "hash:64",
            "--graph-store",
            "neo4j",
            "--neo4j-uri",
            uri,
        ]
    )
    assert code == 1
    assert uri in capsys.readouterr().err


def test_server_stopped_mid_ingest_then_rerun_completes(tmp_path, corpus, monkeypatch):
    """SIGKILL the server inside a write transaction; restart it; the same ingest completes."""
    server = Neo4jServer(tmp_path / "neo4j-home").start()
    try:
        settings = Neo4jSettings(uri=server.uri, user=server.user, password=server.password)
        kb = open_kb(tmp_path / "kb", "neo4j", settings)
        original = neo4j_entities.apply_delta
        calls = []

        def refresh_then_crash(tx, *args):  # runs inside the write transaction
            calls.append(1)
            if len(calls) == 3:
                server.kill()
            return original(tx, *args)

        monkeypatch.setattr(neo4j_entities, "apply_delta", refresh_then_crash)
        with pytest.raises(StoreError) as err:
            kb.ingest([corpus], options=QUIET)
        assert server.uri in str(err.value) and "run the same command again" in str(err.value)
        kb.close()

        server.start()
        kb = open_kb(tmp_path / "kb", neo4j=settings)
        assert kb.stats().documents == 16  # two batches of 8 committed, the third not at all
        assert kb.check() == []
        report = kb.ingest([corpus], options=QUIET)
        assert (report.documents_added, report.documents_unchanged) == (17, 16)

        reference = open_kb(tmp_path / "reference")
        reference.ingest([corpus], options=QUIET)
        assert stats(kb) == stats(reference)
        assert content(kb) == content(reference)
        assert kb.check() == []
        with kb.store._session() as s:  # no duplicates under the constraints, double-checked
            dupes = s.run(
                "MATCH (c:Chunk {kb: $kb}) WITH c.id AS id, count(*) AS n WHERE n > 1 "
                "RETURN count(*)",
                kb=kb.store.namespace,
            ).single()[0]
        assert dupes == 0
        kb.close()
        reference.close()
    finally:
        server.kill()  # a throwaway server: no need for a clean shutdown


def test_records_with_unmentioned_relation_ends_are_refused(neo4j_settings):
    store = Neo4jStore.from_settings(neo4j_settings, f"refuse-{uuid.uuid4().hex[:8]}").open()
    try:
        bad = make_record("bad", "Bad", ["[[Acme|ORG]] and [[Oslo|GPE]]."])
        bad = type(bad)(bad.document, bad.chunks, bad.vectors, bad.mentions[:1], bad.relations)
        with pytest.raises(StoreError, match="does not mention"):
            store.write([bad])
        assert store.counts()["documents"] == 0
        store.write([ACME, MARIA, ZETA])
        assert store.check() == []
    finally:
        store.drop()
        store.close()


def test_drop_removes_every_node_and_relationship_of_its_namespace_only(neo4j_settings):
    def counts(store: Neo4jStore) -> tuple[int, int]:
        with store._session(write=False) as s:
            nodes = s.run("MATCH (n {kb: $kb}) RETURN count(n)", kb=store.namespace).single()
            rels = s.run("MATCH (n {kb: $kb})-[r]-() RETURN count(r)", kb=store.namespace).single()
        return int(nodes[0]), int(rels[0])  # type: ignore[index]

    gone = Neo4jStore.from_settings(neo4j_settings, f"drop-{uuid.uuid4().hex[:8]}").open()
    kept = Neo4jStore.from_settings(neo4j_settings, f"keep-{uuid.uuid4().hex[:8]}").open()
    try:
        for store in (gone, kept):
            store.write([ACME, MARIA, ZETA])
        assert all(n > 0 for n in counts(gone))
        gone.drop()
        assert counts(gone) == (0, 0)
        assert all(n > 0 for n in counts(kept)) and kept.check() == []
    finally:
        kept.drop()
        gone.close()
        kept.close()


def test_surface_counts_follow_writes_and_an_older_base_is_recounted(neo4j_settings):
    """Entities keep mention counts per (surface, label); a base without them (an
    older kgqa) gets them on open, equal to what the writes kept."""

    def lists(store: Neo4jStore) -> dict[str, tuple]:
        with store._session(write=False) as s:
            rows = s.run(
                "MATCH (e:Entity {kb: $kb}) RETURN e.id, e.surfaces, e.surface_labels, "
                "e.surface_counts, e.name, e.label, e.mention_count",
                kb=store.namespace,
            )
            return {r[0]: tuple(r[1:]) for r in rows}

    namespace = f"surfaces-{uuid.uuid4().hex[:8]}"
    store = Neo4jStore.from_settings(neo4j_settings, namespace).open()
    try:
        store.write([ACME, MARIA, ZETA])
        store.write([make_record("acme", "Acme", ["[[ACME Corp.|ORG]] left [[Lisbon|GPE]]."])])
        store.delete_document("zeta")
        kept = lists(store)
        assert kept["acme corp"][:3] == (["ACME Corp.", "Acme Corp"], ["ORG", "PRODUCT"], [1, 1])
        assert kept["lisbon"][2:] == ([1], "Lisbon", "GPE", 1)  # zeta's mention is gone
        assert "zeta labs" not in kept and store.check() == []
        with store._session() as s:  # what an older kgqa left: no lists, no stamp
            s.run(
                "MATCH (e:Entity {kb: $kb}) REMOVE e.surfaces, e.surface_labels, e.surface_counts",
                kb=namespace,
            ).consume()
            s.run("MATCH (m:KgqaMeta {kb: $kb, key: 'surfaces_generation'}) DELETE m",
                  kb=namespace).consume()  # fmt: skip
        assert store.check() == [f"{len(kept)} entities whose name, label, count or surface "
                                 "counts disagree with their mentions"]  # fmt: skip
        generation = store.generation
        store.close()
        store = Neo4jStore.from_settings(neo4j_settings, namespace).open()
        assert lists(store) == kept and store.check() == []
        assert store.generation == generation  # a recount is not a change of the base
    finally:
        store.drop()
        store.close()
