"""Fuzz: a seeded corpus of bad files ingested beside good ones into a base that has contents.

Each bad file is either ingested or named with a reason, every good file is
ingested, the base's earlier contents are unchanged, nothing raises. On the
fakes (hash embedder, capitalised-words extractor); the real models run the
same corpus in ``tests/integration/test_bad_input_real.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from kgqa.types import IngestProblem, IngestReport
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from pipelines.payloads import MAX_CHUNK_CHARS
from tests.fuzz import FuzzCorpus, make_corpus

EARLIER = {
    "notes.md": "# Notes\n\nAdaeze Nwosu designed the Kestrel Station in Lagos.\n",
    "acme.txt": "Acme Robotics was founded by Maria Okafor in Lisbon.\n",
    "sub/zeta.html": "<title>Zeta</title><p>Zeta Labs sells weather gauges in Porto.</p>",
}


def make_earlier(root: Path) -> Path:
    for name, text in EARLIER.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def snapshot(kb: KnowledgeBase) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Per document: content hash, text and its chunks' texts."""
    chunks: dict[str, list[str]] = {}
    for sc in kb.chunks([key for key, _, _ in kb.store.iter_chunk_texts()]):
        chunks.setdefault(sc.chunk.doc_id, []).append(sc.chunk.text)
    return {
        d.id: (d.content_hash, kb.document(d.id).text, tuple(chunks.get(d.id, ())))
        for d in kb.documents()
    }


def clean(path: Path | str) -> str:
    """A path as the store records it (names that are not UTF-8 get U+FFFD)."""
    return os.path.abspath(str(path)).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def check_outcome(
    kb: KnowledgeBase,
    corpus: FuzzCorpus,
    problems: list[IngestProblem],
    before: dict[str, tuple[str, str, tuple[str, ...]]],
) -> None:
    """The four promises of the fuzz test, and the base's own consistency."""
    stored = {d.source: d.id for d in kb.documents()}
    for path in corpus.bad:
        named = [p for p in problems if p.source in (str(path), clean(path)) or
                 p.source.startswith((f"{path}:", f"{clean(path)}:"))]  # fmt: skip
        ingested = any(s == clean(path) or s.startswith(f"{clean(path)}:") for s in stored)
        assert named or ingested, f"{path} was neither ingested nor named"
        assert all(p.reason.strip() for p in named)
    for path, sentence in corpus.good.items():
        assert clean(path) in stored, f"good file {path} was not ingested: {problems}"
        assert sentence in kb.document(stored[clean(path)]).text
        assert not [p for p in problems if p.source in (str(path), clean(path))]
    for record_id, sentence in corpus.good_records.items():
        assert sentence in kb.document(record_id).text
    after = snapshot(kb)
    for doc_id, state in before.items():
        assert after[doc_id] == state, f"earlier document {doc_id} changed"
    assert kb.check() == []
    for sc in kb.chunks([key for key, _, _ in kb.store.iter_chunk_texts()]):
        assert len(sc.chunk.text) <= MAX_CHUNK_CHARS
        assert kb.document(sc.chunk.doc_id).text[sc.chunk.start : sc.chunk.end] == sc.chunk.text


def test_fuzz_corpus_beside_good_files(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    fake_kb.ingest([make_earlier(tmp_path / "earlier")], options=IngestOptions(progress=False))
    before = snapshot(fake_kb)
    assert sorted(before) == sorted(EARLIER)
    corpus = make_corpus(tmp_path / "fuzz", seed=1212)
    t0 = time.perf_counter()
    report: IngestReport = fake_kb.ingest(
        [corpus.root, corpus.root / "bad" / "notes.md"],
        options=IngestOptions(progress=False, batch_docs=16),
    )
    seconds = time.perf_counter() - t0
    check_outcome(fake_kb, corpus, list(report.problems), before)
    assert report.documents_added >= len(corpus.good) + len(corpus.good_records)
    assert seconds < 60, f"the fuzz ingest took {seconds:.1f} s"
    # The same run again changes nothing and names the same bad files.
    again = fake_kb.ingest([corpus.root], options=IngestOptions(progress=False, batch_docs=16))
    assert again.documents_added == again.documents_updated == 0
    assert {p.source for p in again.problems} <= {p.source for p in report.problems}
