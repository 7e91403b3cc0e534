"""The web UI, driven through Streamlit's testing API (``streamlit.testing.v1.AppTest``).

Fast and deterministic: the knowledge base runs on the hash embedder and the
capitalised-words extractor (``fake_kb``), answers come from the scripted
generator of ``tests/fakes_llm.py``, and the page gets the base through
``st.session_state["kgqa.kb"]``.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kgqa.errors import ModelError
from kgqa.types import Document
from pipelines.ingest import IngestOptions
from tests.conftest import ROOT
from tests.fakes_llm import ScriptedGenerator
from ui.components import MAX_FILE_BYTES, Upload, ingest_uploads, upload_problem

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = str(ROOT / "ui" / "app.py")
OFFICE = (
    "# Porto office\n\n"
    "Stratwell Instruments opened its office in Porto in 2012. "
    "Ines Carvalho leads the Porto office.\n"
)
BUOY = "The Driftline Buoy was designed by Henrik Dahl at Stratwell Instruments in Edinburgh.\n"
QUESTION = "Which city has the office that Ines Carvalho leads?"


def citing(answer: str) -> Callable[[list[dict[str, str]]], str]:
    """A reply script: ``answer [n]``, n the first passage of the prompt that contains it."""

    def reply(messages: list[dict[str, str]]) -> str:
        for m in re.finditer(r"^\[(\d+)\] (.*)$", messages[-1]["content"], re.M):
            if answer in m.group(2):
                return f"{answer} [{m.group(1)}]"
        return "NOT FOUND"

    return reply


def failing(error: Exception) -> Callable[[list[dict[str, str]]], str]:
    def reply(messages: list[dict[str, str]]) -> str:
        raise error

    return reply


class StreamCounter(ScriptedGenerator):
    """The scripted generator, counting the pieces it streams (the page must stream)."""

    streamed = 0

    def stream(self, *args: Any, **kw: Any) -> Iterator[str]:
        for piece in super().stream(*args, **kw):
            self.streamed += 1
            time.sleep(0.01)
            yield piece


def plain(text: str) -> str:
    """Markdown as read: character references decoded (``ui.components.inert``)."""
    return html.unescape(text)


def texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [plain(e.value) for e in elements]


@pytest.fixture
def app(fake_kb):
    fake_kb.generator = StreamCounter(citing("Porto"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["kgqa.kb"] = fake_kb
    return at


def with_documents(kb) -> None:  # type: ignore[no-untyped-def]
    docs = [
        Document(id="office.md", title="Porto office", text=OFFICE),
        Document(id="buoy.md", title="Driftline Buoy", text=BUOY),
    ]
    kb.ingest(docs, options=IngestOptions(progress=False))


def ask(at, question: str = QUESTION) -> None:  # type: ignore[no-untyped-def]
    at.text_input(key="question").input(question)
    at.button(key="ask_button").click()
    at.run()
    assert not at.exception, at.exception


def upload(at, files: list[tuple[str, bytes, str]]) -> None:  # type: ignore[no-untyped-def]
    at.file_uploader[0].set_value(files)
    at.run()
    at.button(key="ingest_button").click()
    at.run()
    assert not at.exception, at.exception


def metric(at, label: str) -> str:  # type: ignore[no-untyped-def]
    return next(m.value for m in at.metric if m.label == label)


# -- ask -------------------------------------------------------------------------
def test_ask_shows_the_answer_and_citation_cards(app, fake_kb):
    with_documents(fake_kb)
    app.run()
    assert not app.exception
    ask(app)
    markdown = texts(app.markdown)
    assert "#### Porto" in markdown  # the checked answer
    assert fake_kb.generator.streamed > 0  # it was streamed in, piece by piece
    assert "**[1] Porto office**" in markdown  # a card titled by its document
    marked = [m for m in markdown if "<mark>" in m and "kgqa-passage" in m]
    assert any("<mark>Ines Carvalho leads the Porto office.</mark>" in m for m in marked)
    assert any(e.label == "Whole document" for e in app.expander)
    assert any("retrieval" in c and "generation" in c and "total" in c for c in texts(app.caption))
    assert any(e.label.startswith("All retrieved passages") for e in app.expander)


def test_a_multi_hop_answer_shows_how_it_was_answered(app, fake_kb):
    from pipelines.question_shape import Bridge, QuestionShape

    with_documents(fake_kb)
    q = "In which city does the designer of the Driftline Buoy work?"
    phrase = "the designer of the Driftline Buoy"
    start = q.index(phrase)
    bridge = Bridge("Who is the designer of the Driftline Buoy?", phrase, start,
                    start + len(phrase), "person", q)
    fake_kb.analyser = lambda text: (QuestionShape(text, "bridge", "place", bridge) if text == q
                                     else QuestionShape(text, "single", "place"))

    def reply(messages: list[dict[str, str]]) -> str:
        asked = messages[-1]["content"].rsplit("Question:", 1)[1]
        return "Henrik Dahl" if "designer" in asked else "Edinburgh"

    fake_kb.generator = StreamCounter(reply)
    app.run()
    ask(app, q)
    markdown = texts(app.markdown)
    assert "#### Edinburgh" in markdown
    assert "**How this was answered**" in markdown
    assert "**1.** Who is the designer of the Driftline Buoy? → **Henrik Dahl**" in markdown
    assert "**2.** In which city does Henrik Dahl work? → **Edinburgh**" in markdown
    assert any("stands for" in c and "the designer of the Driftline Buoy" in c
               for c in texts(app.caption))
    marked = [m for m in markdown if "<mark>" in m and "Henrik Dahl" in m]
    assert len(marked) >= 2  # each hop's evidence, its span marked


def test_refused_replies_are_shown_beside_the_answer(app, fake_kb):
    with_documents(fake_kb)
    fake_kb.generator = StreamCounter(lambda messages: "Yes")  # no answer to "Who ...?"
    app.run()
    ask(app, "Who leads the Porto office?")
    assert any("The documents do not say." in w for w in texts(app.warning))
    assert any('The reader\'s reply "Yes" was refused: yes/no to a question that is not' in c
               for c in texts(app.caption))


def test_a_name_two_documents_share_is_noted_beside_the_answer(app, fake_kb):
    fake_kb.ingest([Document("film.md", "Night Harbour (film)", "Night Harbour is a film "
                             "directed by Ana Reis in 2001."),
                    Document("novel.md", "Night Harbour (novel)", "Night Harbour is a novel "
                             "written by Mira Kellan in 1994.")],
                   options=IngestOptions(progress=False))
    fake_kb.generator = StreamCounter(lambda messages: "Mira Kellan")
    app.run()
    ask(app, "Who wrote Night Harbour?")
    assert any("shared by 2 documents" in c and "Night Harbour (novel)" in c
               for c in texts(app.caption))


def test_a_question_before_any_ingest_says_to_add_documents(app, fake_kb):
    app.run()
    assert any("no documents yet" in i for i in texts(app.info))
    ask(app, "Who leads the Porto office?")
    assert any("no documents yet" in w and "Build" in w for w in texts(app.warning))
    assert fake_kb.generator.streamed == 0
    assert "ask_job" not in app.session_state


def test_generator_errors_are_messages_not_tracebacks(app, fake_kb):
    with_documents(fake_kb)
    fake_kb.generator = StreamCounter(failing(ModelError("the answer model is missing; reinstall")))
    app.run()
    ask(app)
    assert texts(app.error) == ["the answer model is missing; reinstall"]
    fake_kb.generator = StreamCounter(failing(RuntimeError("CUDA out of memory")))
    ask(app)
    (message,) = texts(app.error)
    assert "RuntimeError: CUDA out of memory" in message
    assert "Traceback" not in message


def test_explore_draws_the_graph_behind_the_answer_and_shows_mentions(app, fake_kb):
    with_documents(fake_kb)
    app.run()
    ask(app)
    assert app.get("vega_lite_chart")  # the node-link picture
    (picker,) = [s for s in app.selectbox if s.label.startswith("Click a node")]
    assert picker.options[0] == "Porto office #0  (cited passage)"  # shown first
    assert "Ines Carvalho  (entity)" in picker.options
    picker.set_value("entity:ines carvalho").run()
    assert not app.exception
    assert any("<mark>Ines Carvalho</mark>" in m for m in texts(app.markdown))


def test_entity_browser_searches(app, fake_kb):
    with_documents(fake_kb)
    app.run()
    app.text_input(key="entity_search").input("henrik").run()
    (table,) = [d for d in app.dataframe if "aliases" in d.value.columns]
    assert list(table.value["name"]) == ["Henrik Dahl"]
    assert any("<mark>Henrik Dahl</mark>" in m for m in texts(app.markdown))


# -- build -----------------------------------------------------------------------
def test_upload_a_markdown_file_adds_it_and_the_counts_go_up(app, fake_kb):
    app.run()
    assert metric(app, "Documents") == "0"
    upload(app, [("office.md", OFFICE.encode(), "text/markdown")])
    assert any("1 added" in s for s in texts(app.success))
    assert not app.error
    assert [d.id for d in fake_kb.documents()] == ["office.md"]
    docs_table = next(d for d in app.dataframe if "passages" in d.value.columns)
    assert list(docs_table.value["id"]) == ["office.md"]
    assert metric(app, "Documents") == "1"
    assert int(metric(app, "Entities").replace(",", "")) > 0


def test_a_bad_upload_is_named_with_its_reason_and_the_rest_is_ingested(app, fake_kb):
    app.run()
    upload(
        app,
        [
            ("office.md", OFFICE.encode(), "text/markdown"),
            ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "text/plain"),
            ("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
        ],
    )
    errors = texts(app.error)
    assert any(e.startswith("**photo.txt** was not added") and "binary" in e for e in errors)
    assert any(e.startswith("**setup.exe** was not added") and "'.exe'" in e for e in errors)
    assert len(errors) == 2
    assert any("1 added" in s for s in texts(app.success))
    assert [d.id for d in fake_kb.documents()] == ["office.md"]


OTHER_OFFICE = "# Porto office\n\nTobias Lindqvist runs the Porto office since 2020.\n"


def wait_for_ingest(at) -> None:  # type: ignore[no-untyped-def]
    job = at.session_state["ingest_job"]
    assert job.wait(60)
    at.run()
    assert not at.exception, at.exception


@pytest.mark.parametrize(
    ("choice", "ids", "text"),
    [
        ("keep-both", ["office-2.md", "office.md"], "Ines Carvalho"),
        ("replace", ["office.md"], "Tobias Lindqvist"),
        ("skip", ["office.md"], "Ines Carvalho"),
    ],
)
def test_an_upload_named_like_a_document_asks_before_anything_changes(
    app, fake_kb, choice, ids, text
):
    app.run()
    upload(app, [("office.md", OFFICE.encode(), "text/markdown")])
    wait_for_ingest(app)
    upload(app, [("office.md", OTHER_OFFICE.encode(), "text/markdown")])
    wait_for_ingest(app)
    question = " ".join(texts(app.warning))
    assert "office.md" in question and "already in the knowledge base" in question
    assert "Ines Carvalho" in fake_kb.document("office.md").text  # nothing changed yet
    assert [d.id for d in fake_kb.documents()] == ["office.md"]
    app.radio(key="conflict_choice").set_value(choice).run()
    app.button(key="conflict_button").click().run()
    if choice == "skip":
        assert any("Skipped office.md" in i for i in texts(app.info))
    wait_for_ingest(app)
    assert sorted(d.id for d in fake_kb.documents()) == ids
    assert text in fake_kb.document("office.md").text
    assert not app.warning  # answered
    if choice == "keep-both":
        assert "Tobias Lindqvist" in fake_kb.document("office-2.md").text
        assert any("office-2.md" in i for i in texts(app.info))


def test_the_same_file_uploaded_again_is_unchanged_without_a_question(app, fake_kb):
    app.run()
    for _ in range(2):
        upload(app, [("office.md", OFFICE.encode(), "text/markdown")])
        wait_for_ingest(app)
    assert not app.warning
    assert any("1 unchanged" in s for s in texts(app.success))
    assert [d.id for d in fake_kb.documents()] == ["office.md"]


def test_delete_removes_the_document(app, fake_kb):
    with_documents(fake_kb)
    app.run()
    assert metric(app, "Documents") == "2"
    app.multiselect(key="delete_ids").set_value(["buoy.md"]).run()
    app.button(key="delete_button").click().run()
    assert not app.exception
    assert "Deleted buoy.md." in texts(app.success)
    assert [d.id for d in fake_kb.documents()] == ["office.md"]
    docs_table = next(d for d in app.dataframe if "passages" in d.value.columns)
    assert list(docs_table.value["id"]) == ["office.md"]
    assert metric(app, "Documents") == "1"


def test_overview_names_the_models(app, fake_kb):
    with_documents(fake_kb)
    app.run()
    models = next(m for m in texts(app.markdown) if "Embeddings" in m)
    assert "hash:64" in models and "fake:capitalized" in models and "fake:scripted" in models
    assert "never" not in texts(app.markdown)  # a last ingest is recorded


# -- the upload function on its own ----------------------------------------------------
def test_upload_limits():
    assert upload_problem("notes.MD", 100) is None
    assert "unsupported file type '.exe'" in upload_problem("setup.exe", 10)  # type: ignore[operator]
    assert "no suffix" in upload_problem("README", 10)  # type: ignore[operator]
    assert "20 MB" in upload_problem("big.pdf", MAX_FILE_BYTES + 1)  # type: ignore[operator]
    assert "hidden" in upload_problem(".env.txt", 10)  # type: ignore[operator]


def test_ingest_uploads_names_each_problem_by_its_file(fake_kb):
    progress: list[tuple[int, int]] = []
    result = ingest_uploads(
        fake_kb,
        [
            Upload("office.md", OFFICE.encode()),
            Upload("dir/buoy.txt", BUOY.encode()),  # a browser may send a path
            Upload("office.md", b"# again"),
            Upload("empty.txt", b""),
            Upload("bad.jsonl", b'{"id": "a", "title": "A", "text": "Ana is here."}\nnot json\n'),
        ],
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert result.accepted == ("office.md", "buoy.txt", "empty.txt", "bad.jsonl")
    reasons = {p.source: p.reason for p in result.problems}
    assert reasons["office.md"] == "another uploaded file has the same name"
    assert "empty.txt" in reasons
    assert any(s.startswith("bad.jsonl:2") for s in reasons)  # the line, not a temp path
    assert all("kgqa-upload-" not in s for s in reasons)
    assert result.report is not None and result.report.documents_added == 3
    assert sorted(d.id for d in fake_kb.documents()) == ["a", "buoy.txt", "office.md"]
    assert progress and progress[-1][0] == progress[-1][1]


# -- no base yet -------------------------------------------------------------------------
def test_a_missing_base_is_a_message_with_a_way_to_create_it(monkeypatch, tmp_path):
    monkeypatch.setenv("KGQA_KB", str(tmp_path / "new-kb"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("no knowledge base here" in e for e in texts(at.error))
    assert [b.label for b in at.button] == ["Create an empty knowledge base here"]


def test_a_folder_that_is_not_a_base_is_a_message(monkeypatch, tmp_path):
    (tmp_path / "notes.txt").write_text("not a knowledge base")
    monkeypatch.setenv("KGQA_KB", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("no knowledge base here" in e for e in texts(at.error))
    assert not at.button  # nothing is created in a folder that holds other files
