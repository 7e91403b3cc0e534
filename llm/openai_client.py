"""A client for OpenAI-compatible chat-completions servers (vLLM, TGI, llama.cpp, kgqa).

>>> gen = OpenAIClient("http://127.0.0.1:8000")            # doctest: +SKIP
>>> gen.generate([{"role": "user", "content": "2+2?"}])      # doctest: +SKIP
'4'

Standard library only (``http.client``). ``url`` is the server's base, with or
without ``/v1``. Every failure is a :class:`ModelError` that names the URL:
connection refused, a timeout, an HTTP error with the server's own message,
or a reply that is not the expected JSON. Decoding is greedy
(``temperature`` 0). An API key, when the server wants one, comes from
``$KGQA_LLM_API_KEY`` (else ``$OPENAI_API_KEY``).
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from kgqa.errors import ConfigError, ModelError
from llm.generator import (
    DEFAULT_MAX_NEW_TOKENS,
    Messages,
    check_messages,
    cut_at_stop,
    stream_until_stop,
)


class OpenAIClient:
    """A :class:`~llm.generator.Generator` backed by a chat-completions server."""

    def __init__(self, url: str, *, model: str | None = None, timeout: float = 120.0,
                 api_key: str | None = None, max_parallel: int = 4) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"LLM server URL must look like http://HOST:PORT, got {url!r}")
        if timeout <= 0:
            raise ConfigError(f"timeout must be positive, got {timeout}")
        self.url = url
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        path = parts.path.rstrip("/")
        self.prefix = path if path.endswith("/v1") else f"{path}/v1"
        self.model = model
        self.timeout = timeout
        self.api_key = api_key or os.environ.get("KGQA_LLM_API_KEY") or os.environ.get(
            "OPENAI_API_KEY")
        self.max_parallel = max(1, max_parallel)
        self.name = f"{model or 'server'}@{self.base_url}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.prefix}"

    # -- the Generator protocol ---------------------------------------------
    def generate(self, messages: Messages, *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 stop: Sequence[str] | None = None) -> str:
        body = self._body(messages, max_new_tokens, stop, stream=False)
        reply = self._json(self._request("POST", "/chat/completions", body))
        try:
            content = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as e:
            raise ModelError(f"{self.base_url}/chat/completions: unexpected reply "
                             f"{str(reply)[:200]!r}") from e
        return cut_at_stop(str(content), stop)

    def stream(self, messages: Messages, *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        body = self._body(messages, max_new_tokens, stop, stream=True)
        yield from stream_until_stop(self._sse(self._request("POST", "/chat/completions", body)),
                                     stop)

    def generate_batch(self, batch: Sequence[Messages], *,
                       max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                       stop: Sequence[str] | None = None) -> list[str]:
        """Concurrent requests (a server such as vLLM batches them on its side)."""
        if len(batch) <= 1:
            return [self.generate(m, max_new_tokens=max_new_tokens, stop=stop) for m in batch]
        with ThreadPoolExecutor(min(self.max_parallel, len(batch))) as pool:
            return list(pool.map(
                lambda m: self.generate(m, max_new_tokens=max_new_tokens, stop=stop), batch))

    # -- other endpoints -----------------------------------------------------
    def models(self) -> list[str]:
        """The model ids the server offers (``GET /v1/models``)."""
        reply = self._json(self._request("GET", "/models", None))
        try:
            return [str(m["id"]) for m in reply["data"]]
        except (KeyError, TypeError) as e:
            raise ModelError(f"{self.base_url}/models: unexpected reply "
                             f"{str(reply)[:200]!r}") from e

    # -- internals -----------------------------------------------------------
    def _body(self, messages: Messages, max_new_tokens: int, stop: Sequence[str] | None,
              *, stream: bool) -> dict[str, Any]:
        if max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        body: dict[str, Any] = {
            "model": self.model or "default",
            "messages": check_messages(messages),
            "max_tokens": max_new_tokens,
            "temperature": 0.0,
            "stream": stream,
        }
        stops = [s for s in (stop or ()) if s]
        if stops:
            body["stop"] = stops[:4]  # the OpenAI API takes up to four
        return body

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        """Send one request; the open response on HTTP 2xx, else a clear ModelError."""
        url = f"{self.base_url}{path}"
        conn_cls = (http.client.HTTPSConnection if self.scheme == "https"
                    else http.client.HTTPConnection)
        conn = conn_cls(self.host, self.port, timeout=self.timeout)
        headers = {"Accept": "application/json, text/event-stream"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            conn.request(method, f"{self.prefix}{path}", body=data, headers=headers)
            resp = conn.getresponse()
        except ConnectionRefusedError as e:
            conn.close()
            raise ModelError(f"cannot reach the LLM server at {url}: connection refused; "
                             "is it running? (start one with: kgqa serve-llm)") from e
        except TimeoutError as e:
            conn.close()
            raise ModelError(f"the LLM server at {url} did not answer within "
                             f"{self.timeout:g}s") from e
        except OSError as e:  # DNS failure, unreachable network, reset...
            conn.close()
            raise ModelError(f"cannot reach the LLM server at {url}: {e}") from e
        if resp.status >= 400:
            raw = resp.read(65536).decode("utf-8", "replace")
            conn.close()
            raise ModelError(f"the LLM server at {url} answered HTTP {resp.status} "
                             f"{resp.reason}: {_server_message(raw)}")
        return resp

    def _json(self, resp: Any) -> Any:
        try:
            raw = resp.read()
        except (TimeoutError, OSError) as e:
            raise ModelError(f"the LLM server at {self.base_url} stopped answering: {e}") from e
        finally:
            resp.close()
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ModelError(f"the LLM server at {self.base_url} sent a reply that is not "
                             f"JSON: {raw[:200]!r}") from e

    def _sse(self, resp: Any) -> Iterator[str]:
        """The ``delta.content`` pieces of a server-sent-events stream, until ``[DONE]``."""
        try:
            while True:
                try:
                    line = resp.readline()
                except TimeoutError as e:
                    raise ModelError(f"the LLM server at {self.base_url} stopped streaming "
                                     f"for {self.timeout:g}s") from e
                if not line:
                    return
                text = line.decode("utf-8", "replace").strip()
                if not text.startswith("data:"):
                    continue  # blank separators, comments, "event:" lines
                data = text[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                except ValueError as e:
                    raise ModelError(f"the LLM server at {self.base_url} streamed a line "
                                     f"that is not JSON: {data[:200]!r}") from e
                if "error" in event:
                    raise ModelError(f"the LLM server at {self.base_url} failed: "
                                     f"{_server_message(json.dumps(event))}")
                for choice in event.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield str(piece)
        finally:
            resp.close()


def _server_message(raw: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the body itself."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.strip()[:500] or "(empty body)"
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body))
        if isinstance(err, dict):
            return str(err.get("message") or err)[:500]
        return str(err)[:500]
    return str(body)[:500]
