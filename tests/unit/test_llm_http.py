"""The OpenAI-compatible server and client together, on a scripted generator (fast)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest

from kgqa.errors import ModelError
from llm.openai_client import OpenAIClient
from llm.server import make_server
from tests.fakes_llm import ScriptedGenerator

MSGS = [{"role": "user", "content": "Who founded Acme?"}]


class SlowGenerator(ScriptedGenerator):
    def generate(self, messages, *, max_new_tokens=48, stop=None):
        time.sleep(1.0)
        return "late"


class FailingGenerator(ScriptedGenerator):
    def generate(self, messages, *, max_new_tokens=48, stop=None):
        raise ModelError("CUDA out of memory (scripted)")


@pytest.fixture
def serve():
    servers = []

    def start(generator):
        server = make_server(generator, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_completion_stream_batch_and_models(serve):
    gen = ScriptedGenerator(lambda m: f"Maria Okafor [1] re: {m[-1]['content']}\n\nmore")
    server = serve(gen)
    client = OpenAIClient(server.url, timeout=10)
    assert client.generate(MSGS, stop=["\n\n"]) == "Maria Okafor [1] re: Who founded Acme?"
    pieces = list(client.stream(MSGS, stop=["\n\n"]))
    assert len(pieces) > 1
    assert "".join(pieces) == "Maria Okafor [1] re: Who founded Acme?"
    batch = client.generate_batch([MSGS, [{"role": "user", "content": "Q2"}]], stop=["\n\n"])
    assert batch == ["Maria Okafor [1] re: Who founded Acme?", "Maria Okafor [1] re: Q2"]
    assert client.models() == ["fake:scripted"]
    assert gen.calls[0] == MSGS


def test_base_url_may_omit_v1_and_health_answers(serve):
    server = serve(ScriptedGenerator("ok"))
    host, port = server.server_address[:2]
    assert OpenAIClient(f"http://{host}:{port}", timeout=10).generate(MSGS) == "ok"
    with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=10) as r:
        assert json.loads(r.read()) == {"status": "ok", "model": "fake:scripted"}


def test_raw_sse_stream_is_openai_shaped(serve):
    server = serve(ScriptedGenerator("abcdef"))
    req = urllib.request.Request(
        f"{server.url}/chat/completions", method="POST",
        data=json.dumps({"messages": MSGS, "stream": True}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"] == "text/event-stream"
        lines = [x.decode().strip() for x in r if x.strip()]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(x[5:]) for x in lines[:-1]]
    assert events[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events) == "abcdef"


def test_bad_request_reports_status_and_server_message(serve):
    server = serve(ScriptedGenerator())
    client = OpenAIClient(server.url, timeout=10)
    with pytest.raises(ModelError, match=r"HTTP 400.*max_tokens must be an integer"):
        client._request("POST", "/chat/completions", {"messages": MSGS, "max_tokens": 0})
    with pytest.raises(ModelError, match=r"HTTP 400.*messages"):
        client._request("POST", "/chat/completions", {"messages": [{"role": "x"}]})
    with pytest.raises(ModelError, match=r"HTTP 404.*no such endpoint"):
        OpenAIClient(server.url.replace("/v1", "/nope"), timeout=10).generate(MSGS)


def test_generation_failure_is_a_500_with_the_reason(serve):
    server = serve(FailingGenerator())
    with pytest.raises(ModelError, match=r"HTTP 500.*CUDA out of memory"):
        OpenAIClient(server.url, timeout=10).generate(MSGS)


def test_closed_port_is_connection_refused_naming_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OpenAIClient(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(ModelError, match=rf"127\.0\.0\.1:{port}.*connection refused"):
        client.generate(MSGS)
    with pytest.raises(ModelError, match="connection refused"):
        list(client.stream(MSGS))


def test_slow_server_times_out(serve):
    server = serve(SlowGenerator())
    with pytest.raises(ModelError, match=r"did not answer within 0\.2s"):
        OpenAIClient(server.url, timeout=0.2).generate(MSGS)


def test_bad_urls_are_config_errors():
    from kgqa.errors import ConfigError

    with pytest.raises(ConfigError, match="http://HOST:PORT"):
        OpenAIClient("ftp://example")
    with pytest.raises(ConfigError, match="timeout"):
        OpenAIClient("http://127.0.0.1:1", timeout=0)


# -- kgqa ask, in process, against the scripted server --------------------------
ACME = "Acme Robotics builds robots. It was founded in 1998 by Maria Okafor in Lisbon."


@pytest.fixture
def ask(fake_kb, serve, monkeypatch):
    import io
    import sys

    from kgqa.types import Document
    from pipelines import cli_llm
    from pipelines.ingest import IngestOptions
    from pipelines.kb import KnowledgeBase

    fake_kb.ingest([Document("acme.md", "Acme Robotics", ACME)],
                   options=IngestOptions(progress=False))
    monkeypatch.setattr(fake_kb, "close", lambda: None)  # the fixture closes it
    monkeypatch.setattr(KnowledgeBase, "open", classmethod(lambda cls, *a, **k: fake_kb))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def run(reply: str, *args: str, tty: bool = True) -> tuple[int, str]:
        server = serve(ScriptedGenerator(reply))
        out = Terminal() if tty else io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        rc = cli_llm.main(["ask", "Who founded Acme Robotics?", "--kb", "unused",
                           "--llm-url", server.url, "--mode", "vector", *args])
        return rc, out.getvalue()

    return run


def test_ask_streams_on_a_terminal_then_lists_citations(ask):
    rc, out = ask("Maria Okafor [1]")
    assert rc == 0
    assert out.splitlines() == [
        "Maria Okafor [1]", "",
        '[1] Acme Robotics — "It was founded in 1998 by Maria Okafor in Lisbon."',
    ]


def test_ask_without_a_terminal_prints_the_checked_answer(ask):
    rc, out = ask("Maria Okafor [1]", tty=False)
    assert rc == 0 and out.splitlines()[0] == "Maria Okafor"


def test_ask_says_when_a_streamed_reply_is_not_supported(ask):
    rc, out = ask("BANANA [1]")
    assert rc == 0
    assert out.splitlines() == [
        "BANANA [1]",
        "The documents do not say. (the reader's reply \"BANANA\" was refused: no passage shown "
        "states it)",
    ]


def test_ask_json(ask):
    rc, out = ask("Maria Okafor [1]", "--json")
    data = json.loads(out)
    assert rc == 0 and data["answer"] == "Maria Okafor" and data["abstained"] is False
    c = data["citations"][0]
    assert ACME[c["start"]:c["end"]] == c["quote"] and c["doc_id"] == "acme.md"
