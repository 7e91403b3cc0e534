"""FAISS vector index over chunk embeddings.

Vectors are L2-normalised float32 rows, so inner product is cosine
similarity. Ids are the chunks' integer row ids in the knowledge base store.

The index is *derived* data: the store keeps every vector, and the index is
rebuilt from it whenever it is missing or stale. ``kind`` picks the FAISS
structure:

- ``flat``: exact inner product (``IndexFlatIP``); the default below
  :data:`IVF_THRESHOLD` vectors.
- ``ivf``: inverted lists (``IndexIVFFlat``, ``nlist ~ 4 * sqrt(n)``,
  ``nprobe = nlist / 8``); approximate, much faster on large bases.
- ``hnsw``: graph index (``IndexHNSWFlat``, M=32); approximate, no training.

On a machine where FAISS sees a GPU, searches run on it (``index_cpu_to_gpu``);
the file on disk is always the CPU form.

>>> import numpy as np
>>> idx = FaissIndex.build(np.array([7, 9]), np.eye(2, 4, dtype=np.float32))
>>> scores, ids = idx.search(np.eye(1, 4, dtype=np.float32), k=1)
>>> int(ids[0, 0])
7
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kgqa.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from numpy.typing import NDArray

KINDS = ("auto", "flat", "ivf", "hnsw")
IVF_THRESHOLD = 50_000


class VectorIndex(Protocol):
    """Nearest-neighbour search over id-keyed vectors."""

    kind: str
    dim: int

    def __len__(self) -> int: ...

    def search(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray, NDArray]:
        """Return ``(scores, ids)``, each ``(n_queries, k)``; missing slots have id -1."""
        ...

    def save(self, path: Path) -> None: ...


def choose_kind(n: int, kind: str = "auto") -> str:
    if kind not in KINDS:
        raise ConfigError(f"unknown vector index kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    return "flat" if n < IVF_THRESHOLD else "ivf"


def _faiss() -> Any:
    import faiss  # heavy import, kept lazy

    return faiss


class FaissIndex:
    """A FAISS index with integer ids (see the module docstring)."""

    def __init__(self, index: Any, kind: str, dim: int) -> None:
        self._index = index
        self.kind = kind
        self.dim = dim
        self._search_index = _maybe_to_gpu(index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @classmethod
    def build(
        cls, ids: NDArray[np.int64], vectors: NDArray[np.float32], kind: str = "auto"
    ) -> FaissIndex:
        """Build an index from ``ids`` ``(n,)`` and ``vectors`` ``(n, dim)``."""
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or len(ids) != len(vectors):
            raise ValueError(
                f"need ids (n,) and vectors (n, dim); got {ids.shape}, {vectors.shape}"
            )
        n, dim = vectors.shape
        kind = choose_kind(n, kind)
        if kind == "flat" or n == 0:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
            kind = "flat"
        elif kind == "ivf":
            nlist = max(1, min(int(4 * math.sqrt(n)), n // 39 or 1))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            index.nprobe = max(1, nlist // 8)
        else:  # hnsw
            hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efSearch = 128
            index = faiss.IndexIDMap2(hnsw)
        if n:
            index.add_with_ids(vectors, ids)
        return cls(index, kind, dim)

    def search(self, queries: NDArray[np.float32], k: int) -> tuple[NDArray, NDArray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ConfigError(
                f"query vectors have dim {queries.shape[1]}, the index has {self.dim}"
            )
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            empty = np.full((len(queries), k), -1, dtype=np.int64)
            return np.zeros((len(queries), k), dtype=np.float32), empty
        scores, ids = self._search_index.search(queries, k)
        return scores, ids

    def save(self, path: Path) -> None:
        """Write the index to ``path`` atomically (temp file, fsync, rename)."""
        tmp = path.with_name(path.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        try:
            index = _faiss().read_index(str(path))
        except RuntimeError as e:
            raise StoreError(f"{path}: cannot read the vector index ({e})") from e
        kind = "flat"
        inner = getattr(index, "index", index)
        name = type(_faiss().downcast_index(inner)).__name__
        if "IVF" in name:
            kind = "ivf"
        elif "HNSW" in name:
            kind = "hnsw"
        return cls(index, kind, int(index.d))


def _maybe_to_gpu(index: Any) -> Any:
    """Return a GPU copy of ``index`` when FAISS was built with CUDA and sees a GPU."""
    faiss = _faiss()
    if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        return index
    try:  # pragma: no cover - needs a GPU
        res = faiss.StandardGpuResources()
        return faiss.index_cpu_to_gpu(res, 0, index)
    except Exception:  # pragma: no cover - fall back to the CPU index
        return index


def write_sidecar(path: Path, **fields: object) -> None:
    """Write a small JSON file atomically next to a derived index."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(fields, sort_keys=True))
    os.replace(tmp, path)


def read_sidecar(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
