"""One contract for every FAISS index kind (flat, IVF, HNSW)."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.errors import ConfigError
from retrieval.vector_index import FaissIndex, choose_kind


def unit_rows(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "ivf", "hnsw"])
def kind(request):
    return request.param


def test_finds_each_vector_itself(kind):
    vecs = unit_rows(400, 32)
    ids = np.arange(1000, 1400, dtype=np.int64)
    index = FaissIndex.build(ids, vecs, kind)
    assert len(index) == 400 and index.kind == kind and index.dim == 32
    scores, found = index.search(vecs[:50], k=3)  # (50, 3)
    assert scores.shape == found.shape == (50, 3)
    hit = (found[:, 0] == ids[:50]).mean()
    assert hit >= (1.0 if kind == "flat" else 0.9)
    assert np.all(scores[:, 0] >= scores[:, 1])


def test_save_and_load_round_trip(kind, tmp_path):
    vecs = unit_rows(300, 16, seed=1)
    ids = np.arange(300, dtype=np.int64) * 7
    index = FaissIndex.build(ids, vecs, kind)
    path = tmp_path / "v.faiss"
    index.save(path)
    assert not (tmp_path / "v.faiss.tmp").exists()
    loaded = FaissIndex.load(path)
    assert loaded.kind == kind and len(loaded) == 300
    a = index.search(vecs[:10], 5)[1]
    b = loaded.search(vecs[:10], 5)[1]
    assert np.array_equal(a, b)


def test_empty_index_returns_no_ids():
    index = FaissIndex.build(np.zeros(0, np.int64), np.zeros((0, 8), np.float32))
    _scores, ids = index.search(np.ones((1, 8), np.float32), k=5)
    assert (ids == -1).all()


def test_k_larger_than_the_index_is_clamped():
    index = FaissIndex.build(np.arange(3), unit_rows(3, 8))
    _scores, ids = index.search(unit_rows(1, 8), k=10)
    assert ids.shape == (1, 3) and set(ids[0]) == {0, 1, 2}


def test_wrong_query_dimension_is_a_clear_error():
    index = FaissIndex.build(np.arange(3), unit_rows(3, 8))
    with pytest.raises(ConfigError, match="dim 4"):
        index.search(np.ones((1, 4), np.float32), 1)


def test_kind_is_chosen_by_size():
    assert choose_kind(10) == "flat"
    assert choose_kind(1_000_000) == "ivf"
    assert choose_kind(10, "hnsw") == "hnsw"
    with pytest.raises(ConfigError, match="annoy"):
        choose_kind(10, "annoy")
