"""Shared fixtures. Tests never reach a model hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEMO_CORPUS = ROOT / "demo" / "corpus"


def run_kgqa(*args: str, ok: tuple[int, ...] | None = (0,)) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pipelines.cli ARGS`` offline; fail unless it exits with one of ``ok``."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=900,
    )  # fmt: skip
    if ok is not None and proc.returncode not in ok:
        raise AssertionError(f"kgqa {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


@pytest.fixture
def fake_kb(tmp_path):
    """A knowledge base on the hash embedder and the capitalised-words extractor."""
    from pipelines.kb import KnowledgeBase
    from retrieval.embed import HashEmbedder
    from tests.fakes import CapitalizedExtractor

    kb = KnowledgeBase.open(
        tmp_path / "kb", embedder=HashEmbedder(64), extractor=CapitalizedExtractor()
    )
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def real_embedder():
    from retrieval.embed import make_embedder

    return make_embedder().load()


@pytest.fixture(scope="session")
def real_extractor():
    from kg.extract import SpacyExtractor

    ext = SpacyExtractor()
    ext.load()
    return ext
