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
    assert counts == store.db.execute(
        "SELECT entity_id, count(*) FROM mentions GROUP BY 1 ORDER BY 1"
    ).fetchall()
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
