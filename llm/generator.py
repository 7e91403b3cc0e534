"""The ``Generator`` protocol: chat messages in, text out.

Every backend (in-process Transformers, an OpenAI-compatible server, the
scripted fake of the tests) implements exactly this::

    >>> gen = open_generator()                                 # doctest: +SKIP
    >>> gen.generate([{"role": "user", "content": "Say hi"}], max_new_tokens=8)  # doctest: +SKIP
    'Hi!'
    >>> "".join(gen.stream([{"role": "user", "content": "Say hi"}]))   # doctest: +SKIP
    'Hi!'

Decoding is greedy. ``stop`` strings end the text before the first one found
(the stop string itself is not returned).

A backend may also offer ``generate_avoiding(messages, avoid, *, max_new_tokens,
stop)``: the reply that does not open the way any string of ``avoid`` does
(``llm.transformers_backend``). Answering uses it, when present, to ask again
after a reply that cannot be an answer; without it that step is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypedDict, runtime_checkable

from kgqa.errors import ConfigError

DEFAULT_MAX_NEW_TOKENS = 48
ROLES = ("system", "user", "assistant")


class ChatMessage(TypedDict):
    """One chat message, as in the OpenAI chat-completions API."""

    role: str  # "system" | "user" | "assistant"
    content: str


Messages = Sequence[ChatMessage]


@dataclass(frozen=True)
class GenerationConfig:
    """How much to generate and where to stop; decoding is always greedy."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")


@runtime_checkable
class Generator(Protocol):
    """A language model behind one small interface."""

    name: str

    def generate(
        self, messages: Messages, *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        stop: Sequence[str] | None = None,
    ) -> str:
        """The model's reply to ``messages``."""
        ...

    def stream(
        self, messages: Messages, *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        stop: Sequence[str] | None = None,
    ) -> Iterator[str]:
        """The same reply as :meth:`generate`, piece by piece as it is decoded."""
        ...

    def generate_batch(
        self, batch: Sequence[Messages], *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        stop: Sequence[str] | None = None,
    ) -> list[str]:
        """One reply per conversation of ``batch``, in order."""
        ...


def check_messages(messages: Messages) -> list[ChatMessage]:
    """Validate chat messages early, naming the bad one."""
    if not messages:
        raise ConfigError("messages must not be empty")
    out: list[ChatMessage] = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role not in ROLES or not isinstance(content, str):
            raise ConfigError(
                f"message {i} must be {{'role': one of {ROLES}, 'content': str}}, got {m!r}"
            )
        out.append({"role": role, "content": content})
    return out


def cut_at_stop(text: str, stop: Sequence[str] | None) -> str:
    """``text`` up to (not including) the first stop string.

    >>> cut_at_stop("Paris [1]\\nQuestion: ...", ["\\n"])
    'Paris [1]'
    """
    if not stop:
        return text
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]


def stream_until_stop(pieces: Iterable[str], stop: Sequence[str] | None) -> Iterator[str]:
    """Re-chunk a token stream so that no stop string (nor text after it) is yielded.

    A stop string may straddle two pieces, so the last ``len(longest stop) - 1``
    characters are held back until the next piece shows they are safe.
    """
    stops = [s for s in (stop or ()) if s]
    if not stops:
        yield from (p for p in pieces if p)
        return
    hold = max(len(s) for s in stops) - 1
    buf = ""
    for piece in pieces:
        buf += piece
        cut = cut_at_stop(buf, stops)
        if len(cut) < len(buf):  # a stop string arrived
            if cut:
                yield cut
            return
        safe = len(buf) - hold
        if safe > 0:
            yield buf[:safe]
            buf = buf[safe:]
    if buf:
        yield buf


def open_generator(
    model: str | Path | None = None,
    *,
    url: str | None = None,
    api_model: str | None = None,
    timeout: float = 120.0,
    device: str = "auto",
    precision: str = "auto",
    threads: int | None = None,
) -> Generator:
    """A generator: a server at ``url``, else the model at ``model``, else the default model.

    ``model`` is a local Transformers directory or a ``.gguf`` file; ``None``
    means the default model (assembled from its PyPI packages). Nothing loads
    until the first generation.
    """
    if url and model:
        raise ConfigError("give either a model path or a server URL, not both")
    if url:
        from llm.openai_client import OpenAIClient

        return OpenAIClient(url, model=api_model, timeout=timeout)
    from llm.transformers_backend import TransformersGenerator

    return TransformersGenerator(model, device=device, precision=precision, threads=threads)
