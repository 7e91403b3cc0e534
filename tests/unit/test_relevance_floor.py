"""A question nothing in the base is about gets no hit, in every mode; real ones still do."""

from __future__ import annotations

import numpy as np
import pytest

from kgqa.types import RETRIEVAL_MODES as MODES
from kgqa.types import Document
from pipelines.ingest import IngestOptions
from retrieval.hybrid import HybridRetriever, RetrievalConfig
from tests.unit.test_hybrid import Q_VEC, make_index, unit

FAR = unit(0, -1.0)  # cosine <= 0 with every chunk of the hand-made base


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return make_index(tmp_path_factory.mktemp("floor"))


def retrieve(index, question, vec, surfaces, mode, config=None):
    return HybridRetriever(config).retrieve(index, question, vec, surfaces, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_no_word_no_entity_no_close_chunk_means_no_hit(index, mode: str) -> None:
    assert retrieve(index, "???", FAR, [], mode) == []
    assert retrieve(index, "zorblax quintessimal flurbo", FAR, ["Zorblax"], mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_one_shared_word_is_evidence(index, mode: str) -> None:
    hits = retrieve(index, "Who sells gauges?", FAR, [], mode)
    assert hits or mode == "graph"  # the walk starts from entities and close chunks only
    if mode in ("lexical", "hybrid"):
        assert hits[0].key == 104


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_a_close_chunk_is_evidence_without_any_shared_word(index, mode: str) -> None:
    hits = retrieve(index, "???", Q_VEC, [], mode)
    assert hits and hits[0].key == 100  # cosine 0.8
    strict = RetrievalConfig(min_dense=0.9)
    assert retrieve(index, "???", Q_VEC, [], mode, strict) == []


def test_a_linked_entity_is_evidence(index) -> None:
    hits = retrieve(index, "Kestrel Station", FAR, ["Kestrel Station"], "graph")
    assert hits and hits[0].key == 100


def test_the_floor_on_a_whole_base(fake_kb) -> None:
    fake_kb.ingest(
        [
            Document("acme.md", "Acme Robotics", "Acme Robotics was founded by Maria Okafor."),
            Document("zeta.md", "Zeta Labs", "Zeta Labs sells weather gauges in Porto."),
        ],
        options=IngestOptions(progress=False),
    )
    for mode in MODES:
        assert fake_kb.search("???", mode=mode) == [], mode
        assert fake_kb.search("the of and is", mode=mode) == [], mode
        assert fake_kb.search("Blorptang Vexmire quintessimal", mode=mode) == [], mode
    hits = fake_kb.search("Who founded Acme Robotics?", mode="hybrid")
    assert hits[0].chunk.doc_id == "acme.md"
    assert np.isfinite(hits[0].score)
