"""A real SIGKILL while the search index is written leaves a base that opens and searches.

A synthetic base (``benchmarks/synthetic.py``, hashed 16-d vectors, no model)
is written to the store; ``kgqa search`` in another process then builds (or
updates) its index and is killed at several moments while it writes. After
every kill the base opens, passes its check, and answers as a base whose
index was written in one go.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.synthetic import Vocabulary, questions, synthetic_documents
from kgqa.types import RETRIEVAL_MODES
from retrieval.hybrid import HybridRetriever
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

DIM = 16
N_CHUNKS = 16_000


def search_process(kb) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "search", "anything", "--kb", str(kb),
         "--mode", "vector"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def kill_while_writing(kb, files: int) -> bool:
    """Start the index write, SIGKILL it once it has written ``files`` new files; True if
    killed (the moment follows the write's progress, not the clock, so a faster or a
    busier machine kills at the same stage)."""
    index = kb / "index"

    def listing() -> dict[str, int]:
        try:
            return {p.name: p.stat().st_mtime_ns for p in index.iterdir()} if index.exists() else {}
        except FileNotFoundError:  # a file replaced while listed
            return listing()

    before = listing()
    proc = search_process(kb)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        now = listing()
        written = {n for n, t in now.items() if before.get(n) != t} - {"lock"}
        if len(written) >= files:
            break
        time.sleep(0.002)
    if proc.poll() is not None:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def answers(kb, qs):
    out = []
    for question, vec, surfaces in qs:
        for mode in RETRIEVAL_MODES:
            ranked = HybridRetriever().retrieve(kb.index, question, vec, surfaces, mode=mode)
            out.append([(r.key, round(r.score, 4), r.paths) for r in ranked])
    return out


def test_sigkill_during_the_index_write_leaves_a_base_that_opens(tmp_path):
    from pipelines import derived
    from pipelines.kb import KnowledgeBase

    kb_dir = tmp_path / "kb"
    vocab = Vocabulary.make(N_CHUNKS, DIM)
    batches = list(synthetic_documents(N_CHUNKS, DIM, batch_docs=1000, vocabulary=vocab))
    with KnowledgeBase.open(kb_dir, embedder="hash:16") as kb:
        for batch in batches[:-2]:
            kb.store.write(batch)
    qs = questions(vocab, batches[0], 4)

    def check_against_a_rebuild() -> None:
        with KnowledgeBase.open(kb_dir, create=False) as kb:
            assert kb.check() == []  # opens; the index caught up with the store
            assert kb.index.live_rows == kb.store.count_chunks()
            got = answers(kb, qs)
            fresh = derived.refresh_index(tmp_path / "rebuilt", kb.store, DIM)
            kb._searcher = (kb.store.generation, kb._searcher[1], fresh)  # type: ignore[index]
            assert got == answers(kb, qs)

    killed = 0
    for files in (1, 3, 6):  # the first build, killed ever later
        shutil.rmtree(kb_dir / "index", ignore_errors=True)
        killed += kill_while_writing(kb_dir, files)
        check_against_a_rebuild()
    for i, files in enumerate((1, 2)):  # an update (more documents, a deletion), killed
        with KnowledgeBase.open(kb_dir, create=False) as kb:
            kb.store.write(batches[-2 + i])
            kb.store.delete_document(batches[i][0].document.id)
        killed += kill_while_writing(kb_dir, files)
        check_against_a_rebuild()
    assert killed >= 3  # most kills landed while the index was being written
