"""No input can take down an ingest (case ``giant-token-line/``).

Every component limit is met before it is hit; a document that fails on its
own becomes a problem naming it, and every other document is ingested.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from kgqa.types import Document
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from pipelines.payloads import MAX_CHUNK_CHARS
from retrieval.embed import HashEmbedder
from tests.fakes import FaultyExtractor

CASE = Path(__file__).resolve().parents[1] / "data" / "cases" / "giant-token-line"
QUIET = IngestOptions(progress=False)
NORMAL = "Priya Raghunathan leads the Elsworth Genome Centre in Dunmore.\n"


def make_giant(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case's own generator: a lab note whose second line is 1,200,000 letters."""
    monkeypatch.setattr(sys, "argv", ["make_input.py", str(path)])
    runpy.run_path(str(CASE / "make_input.py"), run_name="__main__")


def all_chunks(kb: KnowledgeBase) -> list:
    return kb.chunks([key for key, _, _ in kb.store.iter_chunk_texts()])


@pytest.fixture
def faulty_kb(tmp_path: Path):
    kb = KnowledgeBase.open(tmp_path / "kb", embedder=HashEmbedder(64), extractor=FaultyExtractor())
    yield kb
    kb.close()


def test_the_giant_token_file_and_its_neighbour_are_both_ingested(
    faulty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    make_giant(folder / "lab.txt", monkeypatch)
    (folder / "normal.txt").write_text(NORMAL)
    report = faulty_kb.ingest([folder], options=QUIET)
    assert report.documents_added == 2
    (problem,) = report.problems
    assert problem.partial and problem.source == str(folder / "lab.txt")
    assert problem.reason.startswith("line 2: 1,200,000 characters of non-prose data")
    chunks = all_chunks(faulty_kb)
    assert max(len(c.chunk.text) for c in chunks) <= MAX_CHUNK_CHARS
    assert not any("ACGTACGT" in c.chunk.text for c in chunks)
    lab = faulty_kb.document("lab.txt").text
    assert len(lab) > 1_200_000  # the stored document is the file, as it was
    for c in chunks:
        assert faulty_kb.document(c.chunk.doc_id).text[c.chunk.start : c.chunk.end] == c.chunk.text
    said = " ".join(c.chunk.text for c in chunks)
    assert "sequenced by Priya Raghunathan" in said and "river otter found near Dunmore" in said
    names = {e.name for e in faulty_kb.entities(limit=100)}
    assert "Elsworth Genome Centre" in names and not any(len(n) > 100 for n in names)


def test_a_document_that_breaks_the_extractor_is_a_problem_and_the_rest_goes_on(
    faulty_kb: KnowledgeBase,
) -> None:
    docs = [Document(f"d{i}.md", f"D{i}", f"Acme Robotics hired Okafor {i}.") for i in range(6)]
    docs[2] = Document("bad.md", "Bad", "This chunk will FAIL in the parser.")
    report = faulty_kb.ingest(docs, options=IngestOptions(progress=False, batch_docs=4))
    assert report.documents_added == 5
    (problem,) = report.problems
    assert problem.source == "bad.md" and not problem.partial
    assert "RuntimeError: the parser cannot read this chunk" in problem.reason
    assert sorted(d.id for d in faulty_kb.documents()) == sorted(
        d.id for d in docs if d.id != "bad.md"
    )
    assert faulty_kb.check() == []


def test_an_embedder_that_returns_nan_fails_only_its_document(tmp_path: Path) -> None:
    class NanOnWord(HashEmbedder):
        def embed(self, texts, **kw):  # type: ignore[no-untyped-def]
            out = super().embed(texts, **kw)
            out[[i for i, t in enumerate(texts) if "Zeta" in t]] = np.nan
            return out

    kb = KnowledgeBase.open(tmp_path / "kb", embedder=NanOnWord(64), extractor=FaultyExtractor())
    report = kb.ingest(
        [Document("ok.md", "Ok", "Acme is fine."), Document("nan.md", "Nan", "Zeta breaks.")],
        options=QUIET,
    )
    assert [d.id for d in kb.documents()] == ["ok.md"]
    assert report.problems[0].source == "nan.md" and "not finite" in report.problems[0].reason
    kb.close()


def test_a_crash_of_the_extraction_process_fails_only_its_document(
    faulty_kb: KnowledgeBase,
) -> None:
    docs = [Document(f"d{i}.md", f"D{i}", f"Acme Robotics hired Okafor {i}.") for i in range(5)]
    docs[1] = Document("crash.md", "Crash", "This chunk makes the parser CRASH.")
    docs[3] = Document("fail.md", "Fail", "This one will FAIL.")
    options = IngestOptions(progress=False, batch_docs=8, extract_in_process=True)
    report = faulty_kb.ingest(docs, options=options)
    assert sorted(p.source for p in report.problems) == ["crash.md", "fail.md"], report.problems
    crash = next(p for p in report.problems if p.source == "crash.md")
    assert "the extraction process stopped" in crash.reason
    assert sorted(d.id for d in faulty_kb.documents()) == ["d0.md", "d2.md", "d4.md"]
    assert faulty_kb.check() == []


def test_over_long_ids_and_names_are_refused_before_the_store(
    faulty_kb: KnowledgeBase, tmp_path: Path
) -> None:
    long_title = "Acme " * 500
    long_name = "Verylongname " * 60
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"id": "i" * 2000, "title": "x", "text": "Too long an id."})
        + "\n"
        + json.dumps({"id": "ok", "title": long_title, "text": f"{long_name} went to Porto."})
        + "\n"
    )
    report = faulty_kb.ingest([corpus], options=QUIET)
    assert report.documents_added == 1
    assert report.problems[0].source == f"{corpus}:1" and "id too long" in report.problems[0].reason
    assert all(len(e.id) <= 300 for e in faulty_kb.entities(limit=500))


def test_an_unexpected_error_in_a_loader_names_the_file(
    faulty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.loaders as loaders

    def broken(html: str, fallback: str) -> tuple[str, str]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(loaders, "html_to_text", broken)
    (tmp_path / "page.html").write_text("<p>Deep.</p>")
    (tmp_path / "note.txt").write_text(NORMAL)
    report = faulty_kb.ingest([tmp_path / "page.html", tmp_path / "note.txt"], options=QUIET)
    assert report.documents_added == 1
    assert report.problems[0].source == str(tmp_path / "page.html")
    assert "RecursionError" in report.problems[0].reason


def test_huge_files_are_refused_unread(
    faulty_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.loaders as loaders

    monkeypatch.setattr(loaders, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.txt").write_text("word " * 400)
    report = faulty_kb.ingest([tmp_path / "big.txt"], options=QUIET)
    assert "file too large" in report.problems[0].reason and report.documents_added == 0


def test_a_title_that_is_no_name_ties_no_documents_together() -> None:
    from kgqa.types import Chunk, Document
    from pipelines.ingest import TITLE_LABEL, title_mentions

    def titled(title: str) -> tuple[str, ...]:
        doc = Document(id=f"{title}.md", title=title, text="Some text.")
        return tuple(m.entity_id for m in title_mentions(
            doc, [Chunk(f"{title}#0", doc.id, 0, "Some text.", 0, 10)], []))

    assert titled("notes") == () and titled("readme") == ()  # file names, not names
    assert titled("Kestrel Station") == ("kestrel station",)
    assert titled("深海声学实验室") != ()  # a caseless script is a name
    assert titled("2021 report") == ("2021 report",)
    assert TITLE_LABEL == "TITLE"
