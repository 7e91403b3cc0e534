"""A small OpenAI-compatible server around an in-process generator (``kgqa serve-llm``).

    kgqa serve-llm [--model PATH] [--port 8000] [--host 127.0.0.1]

Endpoints: ``POST /v1/chat/completions`` (``stream`` true or false),
``GET /v1/models``, ``GET /health``. One model is loaded once and shared by
all clients; generations run one at a time behind a lock (the model is the
bottleneck either way), each request in its own thread. It listens on the
loopback interface unless told otherwise, and has no authentication: put a
proxy in front before you open it to a network.

>>> server = make_server(generator, port=0)     # doctest: +SKIP
>>> server.server_address                       # doctest: +SKIP
('127.0.0.1', 43817)
>>> server.serve_forever()                      # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kgqa.errors import ConfigError, KgqaError
from llm.generator import DEFAULT_MAX_NEW_TOKENS, Generator, check_messages

log = logging.getLogger(__name__)
MAX_TOKENS_LIMIT = 4096
MAX_BODY_BYTES = 8 << 20


class LLMServer(ThreadingHTTPServer):
    """A threading HTTP server holding one generator and the lock around it."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], generator: Generator) -> None:
        super().__init__(address, _Handler)
        self.generator = generator
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            log.info("client %s went away before its reply: %s", client_address, exc)
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}/v1"


def make_server(generator: Generator, host: str = "127.0.0.1", port: int = 8000) -> LLMServer:
    """Bind (``port`` 0: any free one) without serving yet; the model is not loaded here."""
    try:
        return LLMServer((host, port), generator)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e}; choose another --port") from e


class _Handler(BaseHTTPRequestHandler):
    server: LLMServer
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends with it
    server_version = "kgqa-llm/0.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    # -- routing ---------------------------------------------------------------
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        name = self.server.generator.name
        if path == "/health":
            self._send_json(200, {"status": "ok", "model": name})
        elif path in ("/v1/models", "/models"):
            self._send_json(200, {"object": "list", "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "kgqa"}]})
        else:
            self._error(404, f"no such endpoint: GET {path}", "not_found")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._error(404, f"no such endpoint: POST {path}", "not_found")
            return
        try:
            req = self._read_request()
        except ValueError as e:
            self._error(400, str(e), "invalid_request_error")
            return
        if req["stream"]:
            self._stream(req)
        else:
            self._complete(req)

    # -- chat completions ------------------------------------------------------
    def _read_request(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            raise ValueError(f"a JSON body of 1 to {MAX_BODY_BYTES} bytes is required")
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError as e:
            raise ValueError(f"the body is not valid JSON: {e}") from e
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        try:
            messages = check_messages(body.get("messages") or [])
        except ConfigError as e:
            raise ValueError(f"messages: {e}") from e
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        max_tokens = DEFAULT_MAX_NEW_TOKENS if max_tokens is None else max_tokens
        if not isinstance(max_tokens, int) or not 1 <= max_tokens <= MAX_TOKENS_LIMIT:
            raise ValueError(f"max_tokens must be an integer from 1 to {MAX_TOKENS_LIMIT}")
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else stop
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise ValueError("stop must be a string or a list of strings")
        return {"messages": messages, "max_tokens": max_tokens, "stop": stop,
                "stream": bool(body.get("stream", False))}

    def _complete(self, req: dict[str, Any]) -> None:
        gen = self.server.generator
        try:
            with self.server.lock:
                text = gen.generate(req["messages"], max_new_tokens=req["max_tokens"],
                                    stop=req["stop"] or None)
        except KgqaError as e:
            self._error(500, f"generation failed: {e}", "server_error")
            return
        self._send_json(200, {
            "id": _completion_id(), "object": "chat.completion", "created": int(time.time()),
            "model": gen.name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
        })

    def _stream(self, req: dict[str, Any]) -> None:
        gen = self.server.generator
        cid, created = _completion_id(), int(time.time())

        def event(delta: dict[str, str], finish: str | None = None) -> bytes:
            chunk = {"id": cid, "object": "chat.completion.chunk", "created": created,
                     "model": gen.name,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(chunk)}\n\n".encode()

        with self.server.lock:
            pieces: Iterator[str] = gen.stream(req["messages"], max_new_tokens=req["max_tokens"],
                                              stop=req["stop"] or None)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            try:
                self._write(event({"role": "assistant"}))
                for piece in pieces:
                    self._write(event({"content": piece}))
                self._write(event({}, "stop"))
            except (BrokenPipeError, ConnectionResetError):
                log.info("client went away; generation stopped")
                return
            except KgqaError as e:  # headers are out: report it as a final event
                err = {"error": {"message": f"generation failed: {e}", "type": "server_error"}}
                self._write(f"data: {json.dumps(err)}\n\n".encode())
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()  # stops the model's decoding thread at once
            self._write(b"data: [DONE]\n\n")

    # -- responses -------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._send_json(status, {"error": {"message": message, "type": kind, "code": status}})


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def serve(generator: Generator, host: str = "127.0.0.1", port: int = 8000,
          on_ready: Any = None) -> None:
    """Load the model, bind, call ``on_ready(server)`` and serve until interrupted."""
    load = getattr(generator, "load", None)
    if load is not None:
        load()
    server = make_server(generator, host, port)
    if on_ready is not None:
        on_ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
