"""The bundled demo corpus and its questions stay consistent."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import DEMO_CORPUS, ROOT


def test_demo_questions_check_passes():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "demo" / "check_questions.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok ")


def test_demo_corpus_size():
    assert 20 <= len(list(DEMO_CORPUS.glob("*.md"))) <= 40
