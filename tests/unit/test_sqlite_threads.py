"""Each thread reads through its own SQLite connection: no dirty reads of a write in flight."""

from __future__ import annotations

import threading

from kg.sqlite_store import SqliteStore


def test_a_reader_never_sees_an_uncommitted_write(tmp_path):
    store = SqliteStore(tmp_path / "kb.sqlite").open()
    began, checked = threading.Event(), threading.Event()

    def writer() -> None:
        db = store.db  # this thread's own connection
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO documents(id, title, source, content_hash, text, ingested_at) "
            "VALUES('d', 'D', '', 'h', 'text', 'now')"
        )
        began.set()
        checked.wait(10)
        db.execute("COMMIT")

    t = threading.Thread(target=writer)
    t.start()
    assert began.wait(10)
    assert store.counts()["documents"] == 0  # the write is in flight in the other thread
    checked.set()
    t.join(10)
    assert store.counts()["documents"] == 1
    store.close()
