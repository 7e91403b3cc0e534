"""``kgqa serve-llm`` as a real subprocess with the default model; the HTTP client against it.

The server is started once for the module on a free loopback port; ``kgqa
ask --llm-url`` is exercised against it too, on the demo corpus.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from kgqa.errors import ModelError
from llm.openai_client import OpenAIClient
from tests.conftest import DEMO_CORPUS, ROOT

pytestmark = pytest.mark.models

FRANCE = [{"role": "user", "content": "What is the capital of France? Answer with one word."}]
START_TIMEOUT_S = 900  # the first run converts the GGUF file (minutes on two cores)


def _env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))


@pytest.fixture(scope="module")
def server_url():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli_llm", "serve-llm", "--port", "0"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.search(r"serving .* at http://127\.0\.0\.1:\d+/v1", line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not found.wait(1.0):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("kgqa serve-llm did not start:\n" + "".join(lines[-30:]))
    url = re.search(r"http://127\.0\.0\.1:\d+/v1", "".join(lines)).group(0)  # type: ignore[union-attr]
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_models_and_non_streaming_completion(server_url):
    client = OpenAIClient(server_url, timeout=300)
    assert client.models() == ["qwen2.5-coder-0.5b-instruct"]
    assert "paris" in client.generate(FRANCE, max_new_tokens=8).lower()


def test_streaming_matches_non_streaming(server_url):
    client = OpenAIClient(server_url, timeout=300)
    msgs = [{"role": "user", "content": "Name three primary colours, briefly."}]
    text = client.generate(msgs, max_new_tokens=16)
    pieces = list(client.stream(msgs, max_new_tokens=16))
    assert len(pieces) > 1
    assert "".join(pieces).strip() == text.strip() != ""


def test_errors_are_clear(server_url):
    with pytest.raises(ModelError, match=r"HTTP 400.*max_tokens"):
        OpenAIClient(server_url, timeout=60).generate(FRANCE, max_new_tokens=100_000)
    with pytest.raises(ModelError, match=r"HTTP 404"):
        OpenAIClient(server_url.replace("/v1", "/wrong"), timeout=60).generate(FRANCE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ModelError, match=rf"{re.escape(closed)}.*connection refused"):
        OpenAIClient(closed, timeout=10).generate(FRANCE)


@pytest.fixture(scope="module")
def demo_kb(tmp_path_factory):
    """The demo corpus on the hash embedder (fast) and the real spaCy extractor."""
    from pipelines.ingest import IngestOptions
    from pipelines.kb import KnowledgeBase

    path = tmp_path_factory.mktemp("kb") / "demo"
    with KnowledgeBase.open(path, embedder="hash:256") as kb:
        kb.ingest([DEMO_CORPUS], options=IngestOptions(progress=False))
    return path


def _ask(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli_llm", "ask", *args],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)


def test_kgqa_ask_against_the_server_prints_answer_and_citations(server_url, demo_kb):
    q = "Who designed the original Kestrel Station?"
    proc = _ask(q, "--kb", str(demo_kb), "--llm-url", server_url)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "Nwosu" in lines[0]
    cites = [x for x in lines[1:] if x.startswith("[")]
    assert cites and re.match(r'\[\d+\] .+ — ".*Nwosu.*"', cites[0]), proc.stdout

    proc = _ask(q, "--kb", str(demo_kb), "--llm-url", server_url, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "Nwosu" in data["answer"] and not data["abstained"]
    assert data["citations"][0]["quote"] and set(data["timings"]) >= {"retrieve_s", "total_s"}


def test_kgqa_ask_reports_a_dead_server(demo_kb):
    # A question the base has evidence for: one with none is abstained on before
    # the generator is reached.
    proc = _ask("Who designed the original Kestrel Station?", "--kb", str(demo_kb),
                "--llm-url", "http://127.0.0.1:9", "--mode", "vector")
    assert proc.returncode == 1
    assert "http://127.0.0.1:9" in proc.stderr and "connection refused" in proc.stderr
