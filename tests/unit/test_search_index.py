"""The persisted search index: updates equal a rebuild; a failed write leaves the old index.

Bases are synthetic (``benchmarks/synthetic.py``) and written through the real
SQLite store; the index is brought up to date the way a knowledge base does it
(``pipelines/derived.py``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benchmarks.synthetic import Vocabulary, questions, synthetic_documents
from kg.sqlite_store import SqliteStore
from kgqa.types import RETRIEVAL_MODES
from pipelines import derived
from retrieval.hybrid import HybridRetriever
from retrieval.index_files import IndexFiles
from retrieval.lexical import BM25, term_postings
from retrieval.postings import Segment

DIM = 16


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "kgqa.sqlite").open()
    yield s
    s.close()


def corpus(n_chunks=700, seed=3):
    vocab = Vocabulary.make(n_chunks, DIM, seed=seed)
    batches = list(synthetic_documents(n_chunks, DIM, batch_docs=40, seed=seed, vocabulary=vocab))
    return vocab, batches


def answers(index, qs):
    """Every mode's top 10 for each question: keys, scores, per-signal scores, paths."""
    out = []
    for question, vec, surfaces in qs:
        for mode in RETRIEVAL_MODES:
            ranked = HybridRetriever().retrieve(index, question, vec, surfaces, mode=mode, top_k=10)
            out.append(
                [(r.key, round(r.score, 4), {k: round(v, 4) for k, v in r.scores.items()},
                  r.entities, r.paths) for r in ranked]
            )  # fmt: skip
    return out


def entity_counts(index):
    """Entity id -> (live chunks, relation half-weights), for live entities."""
    ids = [index.entity_ids[e] for e in range(index.n_entities)]
    return {
        ids[e]: (int(index.df[e]), int(index.relation_half[e]))
        for e in range(index.n_entities)
        if index.df[e] > 0
    }


def test_incremental_updates_equal_a_rebuild(tmp_path, store):
    vocab, batches = corpus()
    updated = tmp_path / "updated"
    rng = np.random.default_rng(0)
    written = []
    for i, batch in enumerate(batches):
        store.write(batch)
        written += batch
        if i % 3 == 2:  # now and then a document is deleted, another rewritten
            gone = written.pop(int(rng.integers(0, len(written))))
            store.delete_document(gone.document.id)
            j = int(rng.integers(0, len(written)))
            first = written[j].chunks[0].id
            changed = replace(
                written[j],
                chunks=written[j].chunks[:1],
                vectors=written[j].vectors[:1],
                mentions=tuple(m for m in written[j].mentions if m.chunk_id == first),
                relations=tuple(r for r in written[j].relations if r.chunk_id == first),
            )
            store.write([changed])
            written[j] = changed
        if i >= 2:
            derived.refresh_index(updated, store, DIM)
    incremental = derived.refresh_index(updated, store, DIM)
    rebuilt = derived.refresh_index(tmp_path / "rebuilt", store, DIM)
    assert len(incremental.manifest["segments"]) > 1  # updates made segments and merges
    assert incremental.live is not None and incremental.n_rows > rebuilt.n_rows
    assert incremental.live_rows == rebuilt.live_rows == store.count_chunks()
    assert entity_counts(incremental) == entity_counts(rebuilt)
    qs = questions(vocab, written, 12)
    assert answers(incremental, qs) == answers(rebuilt, qs)


def test_no_merge_makes_a_segment_above_the_cap(tmp_path, store, monkeypatch):
    from retrieval import index_writer

    monkeypatch.setattr(index_writer, "MAX_SEGMENT_ROWS", 200)  # two updates' rows
    vocab, batches = corpus()
    for batch in batches:
        store.write(batch)
        index = derived.refresh_index(tmp_path / "capped", store, DIM)
    sizes = [b - a for a, b in (seg["rows"] for seg in index.manifest["segments"])]
    assert max(sizes) <= 200 and len(sizes) >= index.n_rows // 200
    rebuilt = derived.refresh_index(tmp_path / "rebuilt", store, DIM)
    written = [r for batch in batches for r in batch]
    assert answers(index, questions(vocab, written, 12)) == answers(
        rebuilt, questions(vocab, written, 12))


def test_an_unchanged_store_is_not_rewritten(tmp_path, store):
    _, batches = corpus(200)
    store.write(batches[0])
    first = derived.refresh_index(tmp_path, store, DIM)
    again = derived.refresh_index(tmp_path, store, DIM)
    assert again.manifest == first.manifest


@pytest.mark.parametrize("fail_at", ["append", "write_segment", "write_npy", "commit"])
def test_a_write_that_fails_midway_leaves_the_index_it_replaces(
    tmp_path, store, monkeypatch, fail_at
):
    vocab, batches = corpus(400)
    store.write(batches[0])
    before = derived.refresh_index(tmp_path, store, DIM)
    qs = questions(vocab, batches[0], 5)
    expected = answers(before, qs)
    store.write(batches[1])
    store.delete_document(batches[0][0].document.id)
    real = getattr(IndexFiles, fail_at)

    def failing(self, *args, **kw):  # the write is made (half of it, for an append), then fails
        if fail_at == "append":
            file, data, count = args[:3]
            real(self, file, data[: len(data) // 2], count, *args[3:])
        elif fail_at != "commit":
            real(self, *args, **kw)
        raise OSError("disk full")

    monkeypatch.setattr(IndexFiles, fail_at, failing)
    with pytest.raises(OSError, match="disk full"):
        derived.refresh_index(tmp_path, store, DIM)
    monkeypatch.undo()
    left = derived.open_index(tmp_path)
    assert left is not None and left.generation == before.generation
    assert answers(left, qs) == expected
    # the next refresh completes it, as a rebuild would
    done = derived.refresh_index(tmp_path, store, DIM)
    rebuilt = derived.refresh_index(tmp_path / "rebuilt", store, DIM)
    assert done.generation == store.generation
    assert answers(done, qs) == answers(rebuilt, qs)


def test_bm25_scores_equal_bm25s():
    import bm25s

    from retrieval.lexical import tokenize

    texts = [
        "Acme Robotics builds robots in Lisbon; robots and more robots.",
        "Zeta Labs sells sensors to Acme.",
        "The Lisbon office of Zeta Labs opened in 2019.",
        "",
        "Sensors, sensors: weather sensors for farmers near Porto.",
    ]
    keys, rows, tf, lengths = term_postings(texts)
    ours = BM25([Segment.build(keys, rows, tf)], lengths, None)
    reference = bm25s.BM25()
    reference.index([tokenize(t) for t in texts], show_progress=False)
    vocab = set(reference.vocab_dict)
    for query in ("robots in Lisbon", "sensors sensors Acme", "Porto farmers", "nothing here"):
        q = [t for t in tokenize(query) if t in vocab]
        expected = reference.get_scores(q) if q else np.zeros(len(texts))
        got = np.zeros(len(texts))
        r, s = ours.scores(query)
        got[r] = s
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # deleted rows leave the statistics (N, df, average length) as if never indexed
    live = np.array([True, True, False, True, True])
    gone = BM25([Segment.build(keys, rows, tf)], lengths, live)
    kept = [t for t, keep in zip(texts, live, strict=True) if keep]
    k2, r2, tf2, l2 = term_postings(kept)
    fresh = BM25([Segment.build(k2, r2, tf2)], l2, None)
    r, s = gone.scores("Lisbon office")
    r_fresh, s_fresh = fresh.scores("Lisbon office")
    np.testing.assert_allclose(s, s_fresh, rtol=1e-6)
    assert len(r) == len(r_fresh) and 2 not in r.tolist()
