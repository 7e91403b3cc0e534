"""A real SIGKILL in the middle of ``kgqa ingest`` leaves a sound base that then completes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import DEMO_CORPUS, ROOT

pytestmark = pytest.mark.models  # real spaCy extraction; hashed vectors keep it quick

BATCH = 16


def make_corpus(path, n: int) -> None:
    paragraphs = [
        p.strip()
        for f in sorted(DEMO_CORPUS.glob("*.md"))
        for p in f.read_text().split("\n\n")
        if len(p.split()) > 12
    ]
    with open(path, "w") as out:
        for i in range(n):
            text = paragraphs[i % len(paragraphs)]
            out.write(json.dumps({"id": f"rec-{i}", "title": f"Record {i}", "text": text}) + "\n")


def committed_documents(db) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
        try:
            return int(con.execute("SELECT count(*) FROM documents").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def run_ingest(corpus, kb) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "ingest",
            str(corpus),
            "--kb",
            str(kb),
            "--embedder",
            "hash:128",
            "--batch-docs",
            str(BATCH),
            "--no-progress",
            "--json",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_ingest_then_resume(tmp_path):
    n = 600
    corpus = tmp_path / "corpus.jsonl"
    make_corpus(corpus, n)
    kb = tmp_path / "kb"
    db = kb / "kgqa.sqlite"

    proc = run_ingest(corpus, kb)
    deadline = time.monotonic() + 300
    while committed_documents(db) < 2 * BATCH:
        assert proc.poll() is None, "ingest ended before it could be killed: " + proc.stderr.read()
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    from pipelines.kb import KnowledgeBase

    with KnowledgeBase.open(kb, create=False) as opened:
        assert opened.check() == []
        partial = opened.stats()
        assert 0 < partial.documents < n
        assert partial.documents % BATCH == 0  # whole batches or nothing
        assert opened.index.live_rows == partial.chunks

    proc = run_ingest(corpus, kb)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["documents_unchanged"] == partial.documents
    assert report["documents_added"] == n - partial.documents

    with KnowledgeBase.open(kb, create=False) as done:
        assert done.check() == []
        final = done.stats()
        assert final.documents == n and final.chunks == n
        assert done.index.live_rows == n
