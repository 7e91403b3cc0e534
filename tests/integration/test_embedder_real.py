"""The default embedder, loaded offline from its PyPI package, and a local model directory."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.errors import ModelError
from retrieval.embed import SentenceTransformerEmbedder, make_embedder, resolve_model_dir

pytestmark = pytest.mark.models


def test_default_model_embeds_normalised_vectors(real_embedder):
    texts = [
        "Maria Okafor founded Acme Robotics.",
        "Acme Robotics was founded by Maria Okafor.",
        "The tide tables for Lisbon harbour.",
    ]
    v = real_embedder.embed(texts, batch_size=2)  # (3, 384), two batches
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2  # paraphrases are closer than unrelated text
    assert real_embedder.name == "sentence-transformers:all-MiniLM-L6-v2"
    assert real_embedder.embed([]).shape == (0, 384)


def test_a_local_model_directory_gives_the_same_vectors(real_embedder):
    local = SentenceTransformerEmbedder(str(resolve_model_dir("all-MiniLM-L6-v2")), device="cpu")
    text = ["Harrowgate Rail runs Kestrel Stations."]
    assert np.allclose(local.embed(text), real_embedder.embed(text), atol=1e-5)
    assert local.name != real_embedder.name  # recorded by its own directory name


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="nor a local sentence-transformers directory"):
        make_embedder(str(tmp_path / "nope")).embed(["x"])
