"""Dense top-k: exact FAISS search over the vector file, and the IVF-SQ8 index for large bases."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.errors import ConfigError
from retrieval.vector_index import DenseIndex, ivf_shape, read_ivf, train_ivf, wants_ivf, write_ivf


def unit_rows(n: int, dim: int, seed: int = 0, topics: int = 0) -> np.ndarray:
    """Random unit rows; around ``topics`` centres when given (as text embeddings cluster)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    if topics:
        centres = 2.0 * rng.standard_normal((topics, dim)).astype(np.float32)
        x += centres[rng.integers(0, topics, n)]
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["exact", "ivf"])
def dense(request, tmp_path):
    """The same 2,000 vectors, searched exactly or through an IVF written and memory-mapped."""
    vecs = unit_rows(2000, 32, topics=40)
    if request.param == "exact":
        return DenseIndex(vecs)
    ivf = train_ivf(vecs, np.arange(2000, dtype=np.int64))
    write_ivf(ivf, tmp_path / "d.faiss")
    return DenseIndex(vecs, ivf=read_ivf(tmp_path / "d.faiss"), ivf_rows=2000)


def test_finds_each_vector_itself(dense):
    for row in (0, 17, 1999):
        rows, scores = dense.top(dense.vectors[row], k=3)
        assert rows[0] == row and scores[0] == pytest.approx(1.0, abs=1e-5)
        assert np.all(np.diff(scores) <= 0)


def test_scores_are_exact_cosines(dense):
    q = unit_rows(1, 32, seed=5)[0]
    rows, scores = dense.top(q, k=10)
    np.testing.assert_allclose(scores, dense.vectors[rows] @ q, rtol=1e-6)
    exact = np.argsort(-(dense.vectors @ q))[:10]
    assert len(set(rows.tolist()) & set(exact.tolist())) >= 9  # the IVF may miss one


def test_deleted_rows_are_never_returned(dense):
    live = np.ones(2000, np.bool_)
    live[::2] = False
    gone = DenseIndex(dense.vectors, live, dense._ivf, dense.ivf_rows)
    rows, _ = gone.top(dense.vectors[10], k=20)
    assert len(rows) == 20 and np.all(rows % 2 == 1)


def test_rows_past_the_ivf_are_searched_exactly(tmp_path):
    vecs = unit_rows(3000, 32, seed=2)
    ivf = train_ivf(vecs, np.arange(2000, dtype=np.int64))  # the IVF holds rows 0..1999
    index = DenseIndex(vecs, ivf=ivf, ivf_rows=2000)
    for row in (5, 2500, 2999):
        assert index.top(vecs[row], k=1)[0].tolist() == [row]


def test_k_larger_than_the_base_and_an_empty_base():
    index = DenseIndex(unit_rows(3, 8))
    rows, _ = index.top(unit_rows(1, 8)[0], k=10)
    assert sorted(rows.tolist()) == [0, 1, 2]
    empty = DenseIndex(np.zeros((0, 8), np.float32))
    assert len(empty.top(np.ones(8, np.float32), k=5)[0]) == 0


def test_wrong_query_dimension_is_a_clear_error():
    with pytest.raises(ConfigError, match="dim 4"):
        DenseIndex(unit_rows(3, 8)).top(np.ones(4, np.float32), 1)


def test_kind_is_chosen_by_size():
    assert not wants_ivf(10) and wants_ivf(1_000_000)
    assert wants_ivf(10, "ivf") and not wants_ivf(1_000_000, "flat")
    with pytest.raises(ConfigError, match="annoy"):
        wants_ivf(10, "annoy")
    nlist, nprobe = ivf_shape(1_000_000)
    assert nlist == 2000 and nprobe == 125
