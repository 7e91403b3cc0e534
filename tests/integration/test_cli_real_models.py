"""The ``kgqa`` CLI end to end with the real default models (MiniLM + spaCy)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEMO_CORPUS, ROOT, SHARED_DATA, run_kgqa

pytestmark = pytest.mark.models


def kgqa(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_kgqa(*args, ok=(0, 3) if check else None)


def stats(kb: Path) -> dict:
    return json.loads(kgqa("stats", "--kb", str(kb), "--json").stdout)


def test_help_is_instant():
    t = time.perf_counter()
    proc = kgqa("--help")
    assert "ingest" in proc.stdout and "stats" in proc.stdout
    assert time.perf_counter() - t < 5  # a bare interpreter start; no torch, no spaCy
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pipelines.cli, kgqa; "
            "heavy = ('torch', 'spacy', 'faiss', 'transformers'); "
            "print(sorted(m for m in heavy if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.strip()
    assert out == "[]"


def test_demo_ingest_stats_entities_delete(tmp_path):
    kb = tmp_path / "demo-kb"
    proc = kgqa("ingest", str(DEMO_CORPUS), "--kb", str(kb))
    assert proc.returncode == 0, proc.stderr
    first = stats(kb)
    n_docs = len(list(DEMO_CORPUS.glob("*.md")))
    assert first["documents"] == n_docs
    assert first["entities"] > 50 and first["relations"] > 50 and first["mentions"] > 100
    assert all(
        isinstance(first[k], int)
        for k in ("documents", "chunks", "entities", "relations", "mentions")
    )

    again = kgqa("ingest", str(DEMO_CORPUS), "--kb", str(kb), "--json")
    report = json.loads(again.stdout)
    assert report["documents_unchanged"] == n_docs and report["chunks_added"] == 0
    assert stats(kb) == first

    found = json.loads(kgqa("entities", "--kb", str(kb), "--search", "porto", "--json").stdout)
    assert any(e["id"] == "porto" for e in found)

    victim = sorted(DEMO_CORPUS.glob("*.md"))[0].name
    assert kgqa("delete", victim, "--kb", str(kb)).returncode == 0
    assert stats(kb)["documents"] == n_docs - 1
    missing = kgqa("delete", "no-such-doc.md", "--kb", str(kb), check=False)
    assert missing.returncode == 1 and "no-such-doc.md" in missing.stderr


def test_bad_input_exit_code_and_messages(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.md").write_text("# Ok\n\nAda Lovelace worked with Charles Babbage in London.")
    # A PNG named .txt (b"\xff\xfe..." would be UTF-16 text: FF FE is its byte-order mark).
    (folder / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    proc = kgqa("ingest", str(folder), "--kb", str(tmp_path / "kb"), "--no-progress")
    assert proc.returncode == 3
    assert "bad.txt" in proc.stderr
    assert stats(tmp_path / "kb")["documents"] == 1


def test_errors_are_messages_not_tracebacks(tmp_path):
    proc = kgqa("stats", "--kb", str(tmp_path / "nothing"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "hotpotqa").exists(), reason="shared data absent")
def test_hotpotqa_corpus_ingests_all_994_and_is_idempotent(tmp_path):
    kb = tmp_path / "hotpot"
    corpus = SHARED_DATA / "hotpotqa" / "corpus.jsonl"
    kgqa("ingest", str(corpus), "--kb", str(kb), "--no-progress")
    first = stats(kb)
    # a passage stays one chunk unless it is longer than the embedder's window
    # (254 word-pieces with its title): 47 passages are, and become two or more
    assert first["documents"] == 994 and 994 < first["chunks"] < 994 + 2 * 47
    assert first["entities"] > 1000 and first["relations"] > 1000
    kgqa("ingest", str(corpus), "--kb", str(kb), "--no-progress")
    assert stats(kb) == first
