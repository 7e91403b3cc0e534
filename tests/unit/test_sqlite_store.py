"""What only the embedded store does: its mention counts per surface, kept and recounted."""

from __future__ import annotations

import sqlite3

from kg.sqlite_store import SqliteStore
from tests.integration.test_store_contract import ACME, MARIA, ZETA


def entities(store):
    return [(e.id, e.name, e.label, e.mention_count) for e in store.search_entities(limit=100)]


def test_entities_are_refreshed_from_kept_counts(tmp_path):
    store = SqliteStore(tmp_path / "kgqa.sqlite").open()
    store.write([ACME, MARIA, ZETA])
    store.delete_document("maria")
    counts = store.db.execute(
        "SELECT entity_id, sum(n) FROM entity_surfaces GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert (
        counts
        == store.db.execute(
            "SELECT entity_id, count(*) FROM mentions GROUP BY 1 ORDER BY 1"
        ).fetchall()
    )
    assert ("acme corp", "ACME Corp.", "ORG", 2) in entities(store)
    store.close()


def test_counts_written_by_an_older_kgqa_are_recounted_on_open(tmp_path):
    path = tmp_path / "kgqa.sqlite"
    store = SqliteStore(path).open()
    store.write([ACME, MARIA])
    expected = entities(store)
    store.close()
    with sqlite3.connect(path) as db:  # a writer that does not keep the counts
        db.execute("DELETE FROM entity_surfaces")
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    store = SqliteStore(path).open()
    store.write([ZETA])
    store.delete_document("zeta")
    assert entities(store) == expected
    store.close()


def test_entity_keyed_indexes_of_an_older_kgqa_are_dropped_on_open(tmp_path):
    path = tmp_path / "kgqa.sqlite"
    store = SqliteStore(path).open()
    store.write([ACME, MARIA])
    store.close()
    with sqlite3.connect(path) as db:  # what kgqa <= 0.17 created
        db.execute("CREATE INDEX mentions_entity ON mentions(entity_id)")
        db.execute("CREATE INDEX relations_source ON relations(source)")
    store = SqliteStore(path).open()
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert not names & {"mentions_entity", "relations_source", "relations_target"}
    assert {"mentions_chunk", "relations_chunk"} <= names
    assert [m.doc_id for m in store.mentions("maria okafor")] == ["acme", "maria"]
    store.close()


def test_reads_through_chunk_keys_equal_the_scans(tmp_path):
    store = SqliteStore(tmp_path / "kgqa.sqlite").open()
    store.write([ACME, MARIA, ZETA])
    keys = {}  # entity -> the chunks holding its mentions and its relations
    for key, eid in store.iter_mention_edges():
        keys.setdefault(eid, set()).add(key)
    for eid, chunk_keys in keys.items():
        assert store.mentions(eid, chunk_keys=sorted(chunk_keys)) == store.mentions(eid)
        assert store.mentions(eid, 1, sorted(chunk_keys)) == store.mentions(eid, 1)
        assert store.neighbours(eid, chunk_keys=sorted(chunk_keys)) == store.neighbours(eid)
    assert store.mentions("acme corp", chunk_keys=[]) == []
    every = sorted(keys["acme corp"])  # a negative limit is none, as in SQL
    assert store.mentions("acme corp", -1, every) == store.mentions("acme corp", -1)
    assert store.relations_of("acme corp", -1, every) == store.relations_of("acme corp", -1)
    store.close()
