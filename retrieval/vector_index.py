"""Dense top-k over chunk vectors: FAISS, exact below a size, IVF above it.

The search index keeps every chunk vector in one append-only float32 file
``(R, dim)`` (L2-normalised rows, so inner product is cosine similarity),
memory-mapped. Rows ``[0, ivf_rows)`` may also be in a FAISS IVF index; the
rest (the *tail*: all rows of a small base, the rows added since the IVF was
last written on a large one) is searched exactly with ``faiss.knn`` on the
memory-mapped rows.

The IVF is ``IVF{nlist},SQ8`` (8-bit scalar-quantised codes, a quarter of the
vectors' size) with ``nlist = 2 * sqrt(n)`` and ``nprobe = max(8, nlist / 16)``;
its candidates (twice the asked ``k``) are re-scored exactly from the vector
file, so scores are exact cosines. Measured on synthetic clustered vectors
(``benchmarks/dense_kinds.py``, 200k x 384, questions at cosine ~0.7 from
their passage): recall@10 of the exact top 10 was 1.000 for IVF-Flat,
IVF-SQ8 + re-scoring and 0.94 for IVF-PQ48; IVF-SQ8 took 1-3 ms a query against
24 ms exact, at a quarter of IVF-Flat's 312 MB. HNSW was not kept: FAISS can
neither memory-map it nor remove from it, and it builds slowest.

The IVF file is opened with ``IO_FLAG_MMAP`` (opening costs the same at any
size) and is read-only; an ingest that grows the tail past
:data:`TAIL_MAX` rows writes a new IVF (adding the tail, or retraining when
the base has grown 4x since training). Deleted rows are excluded with an
``IDSelectorBitmap`` (IVF) or by fetching more and dropping them (exact).
Where FAISS sees a GPU the IVF is copied to it and exact search uses
``knn_gpu``.

>>> vecs = np.eye(3, 4, dtype=np.float32)  # (3, 4)
>>> rows, scores = DenseIndex(vecs).top(np.eye(1, 4, dtype=np.float32)[0], k=1)
>>> rows.tolist()
[0]
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kgqa.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from numpy.typing import NDArray

KINDS = ("auto", "flat", "ivf")
EXACT_MAX = 50_000  # live rows searched exactly; above it "auto" builds an IVF
TAIL_MAX = 20_000  # rows outside the IVF before an ingest folds them in
RETRAIN_GROWTH = 4.0  # retrain the IVF when the base has grown this much since


def _faiss() -> Any:
    import faiss  # heavy import, kept lazy

    return faiss


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run FAISS on one OpenMP thread: a single query gains nothing from more.

    Measured on a shared 2-core machine: ``knn`` of one query over 10,000 x 384
    took 40 ms on 2 threads (waiting at OpenMP barriers) and 1.5 ms on 1.
    """
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def ivf_shape(n: int) -> tuple[int, int]:
    """``(nlist, nprobe)`` for ``n`` vectors."""
    nlist = max(1, min(int(2 * math.sqrt(n)), n // 40 or 1))
    return nlist, max(8, nlist // 16)


def wants_ivf(live_rows: int, kind: str = "auto") -> bool:
    if kind not in KINDS:
        raise ConfigError(f"unknown vector index kind {kind!r}; choose one of {', '.join(KINDS)}")
    return kind == "ivf" or (kind == "auto" and live_rows >= EXACT_MAX)


def train_ivf(vectors: NDArray[np.float32], rows: NDArray[np.int64], seed: int = 0) -> Any:
    """An IVF-SQ8 index trained on (a sample of) ``vectors[rows]``, holding them with ids = rows."""
    faiss = _faiss()
    dim = vectors.shape[1]
    nlist, nprobe = ivf_shape(len(rows))
    index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
    n_train = min(len(rows), 40 * nlist)
    sample = np.sort(np.random.default_rng(seed).choice(rows, n_train, replace=False))
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    index.nprobe = nprobe
    add_rows(index, vectors, rows)
    return index


def add_rows(index: Any, vectors: NDArray[np.float32], rows: NDArray[np.int64]) -> None:
    """Add ``vectors[rows]`` to an IVF in memory, in slices (ids = rows)."""
    for i in range(0, len(rows), 65536):
        part = rows[i : i + 65536]
        index.add_with_ids(np.ascontiguousarray(vectors[part], dtype=np.float32), part)


def write_ivf(index: Any, path: Path) -> None:
    """Write ``index`` to the new file ``path``, fsynced (the caller commits it)."""
    _faiss().write_index(index, str(path))
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def read_ivf(path: Path, mmap: bool = True) -> Any:
    faiss = _faiss()
    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
    try:
        return faiss.read_index(str(path), flags)
    except RuntimeError as e:
        raise StoreError(f"{path}: cannot read the vector index ({e})") from e


class DenseIndex:
    """Inner-product top-k over ``vectors`` ``(R, dim)`` (see the module docstring).

    ``ivf`` holds rows ``[0, ivf_rows)``; ``live`` ``(R,)`` is False for
    deleted rows (None: none deleted).
    """

    def __init__(
        self,
        vectors: NDArray[np.float32],
        live: NDArray[np.bool_] | None = None,
        ivf: Any = None,
        ivf_rows: int = 0,
    ) -> None:
        self.vectors = vectors
        self.live = live
        self.ivf_rows = ivf_rows if ivf is not None else 0
        self._ivf = _maybe_to_gpu(ivf) if ivf is not None else None
        self._on_gpu = ivf is not None and self._ivf is not ivf
        self._params: Any = None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vectors)

    def top(
        self, query: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` rows nearest ``query`` ``(dim,)``: ``(rows, scores)``, best first."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.dim:
            raise ConfigError(f"query vectors have dim {query.shape[1]}, the index has {self.dim}")
        with one_thread():
            found = [self._exact(query, k)]
            if self._ivf is not None:
                found.append(self._approximate(query, k))
        rows = np.unique(np.concatenate(found))
        if not len(rows):
            return rows, np.zeros(0, np.float32)
        scores = self.scores(query[0], rows)
        order = np.lexsort((rows, -scores))[:k]
        return rows[order], scores[order]

    def scores(self, query: NDArray[np.float32], rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """Exact cosine of ``query`` ``(dim,)`` with each of ``rows``."""
        rows = np.asarray(rows, np.int64)
        if not len(rows):
            return np.zeros(0, np.float32)
        return (self.vectors_of(rows) @ np.asarray(query, np.float32)).astype(np.float32)

    def vectors_of(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """``(len(rows), dim)`` vectors, read in row order from the file."""
        rows = np.asarray(rows, np.int64)
        order = np.argsort(rows, kind="stable")
        out = np.empty((len(rows), self.dim), np.float32)
        out[order] = self.vectors[rows[order]]
        return out

    def _exact(self, query: NDArray[np.float32], k: int) -> NDArray[np.int64]:
        start, end = self.ivf_rows, len(self.vectors)
        if end <= start:
            return np.zeros(0, np.int64)
        dead = 0
        if self.live is not None:
            dead = int(end - start - np.count_nonzero(np.asarray(self.live[start:end])))
        kk = min(end - start, k + dead)
        faiss = _faiss()
        block = self.vectors[start:end]
        if self._on_gpu:  # pragma: no cover - needs a GPU
            _, ids = faiss.knn_gpu(_gpu_resources(), query, block, kk,
                                   metric=faiss.METRIC_INNER_PRODUCT)  # fmt: skip
        else:
            _, ids = faiss.knn(query, block, kk, metric=faiss.METRIC_INNER_PRODUCT)
        rows = ids[0][ids[0] >= 0].astype(np.int64) + start
        if self.live is not None:
            rows = rows[np.asarray(self.live)[rows]]
        return rows

    def _approximate(self, query: NDArray[np.float32], k: int) -> NDArray[np.int64]:
        fetch = max(2 * k, k + 10)
        ivf = self._ivf
        assert ivf is not None
        if self.live is not None and not self._on_gpu:
            if self._params is None:
                faiss = _faiss()
                bits = np.packbits(np.asarray(self.live[: self.ivf_rows]), bitorder="little")
                sel = faiss.IDSelectorBitmap(self.ivf_rows, faiss.swig_ptr(bits))
                self._params = (faiss.SearchParametersIVF(sel=sel, nprobe=ivf.nprobe), bits)
            _, ids = ivf.search(query, fetch, params=self._params[0])
        else:
            _, ids = ivf.search(query, fetch)
        rows = ids[0][ids[0] >= 0].astype(np.int64)
        if self.live is not None:
            rows = rows[np.asarray(self.live)[rows]]
        return rows


_GPU: list[Any] = []


def _gpu_resources() -> Any:  # pragma: no cover - needs a GPU
    if not _GPU:
        _GPU.append(_faiss().StandardGpuResources())
    return _GPU[0]


def _maybe_to_gpu(index: Any) -> Any:
    """A GPU copy of ``index`` when FAISS was built with CUDA and sees a GPU."""
    faiss = _faiss()
    if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
        return index
    try:  # pragma: no cover - needs a GPU
        return faiss.index_cpu_to_gpu(_gpu_resources(), 0, index)
    except Exception:  # pragma: no cover - fall back to the CPU index
        return index
