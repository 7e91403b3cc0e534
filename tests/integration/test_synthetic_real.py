"""Synthetic questions from the relations the real spaCy extractor finds (demo documents)."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_CORPUS

pytestmark = pytest.mark.models


def test_demo_relations_make_natural_questions_with_their_answers(tmp_path, real_extractor):
    from pipelines.ingest import IngestOptions
    from pipelines.kb import KnowledgeBase
    from pipelines.synthetic import kb_relations, make_pairs
    from retrieval.embed import HashEmbedder

    files = [DEMO_CORPUS / "people-freya-lindqvist.md", DEMO_CORPUS / "office-edinburgh.md"]
    with KnowledgeBase.open(tmp_path / "kb", embedder=HashEmbedder(64),
                            extractor=real_extractor) as kb:
        kb.ingest(files, options=IngestOptions(progress=False))
        relations = kb_relations(kb)
        entities = {e.id: e for e in kb.entities(None, limit=10_000)}
    pairs = {p.question: p for p in make_pairs(relations, entities)}
    assert relations and all(r.label != "co_occurs" for r in relations)
    # "Lindqvist joined Stratwell Instruments in 2019 ..." (people-freya-lindqvist.md)
    joined = pairs["Which organisation did Freya Lindqvist join?"]
    assert joined.answers[0] == "Stratwell Instruments"
    assert joined.supporting_ids == ("people-freya-lindqvist.md",)
    assert "joined Stratwell Instruments" in joined.evidence
    assert "Freya Lindqvist" in pairs["Who joined Stratwell Instruments?"].answers
    assert all(q.endswith("?") and q[0].isupper() for q in pairs)
