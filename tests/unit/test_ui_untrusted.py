"""The web UI never renders document text, titles or entity names as active markup.

A document full of markdown and HTML (an image that would load from a server, a
link, raw HTML with a script, a Streamlit colour directive, a bare web address,
terminal escapes and a bidirectional override) is ingested and then shown in
every place the page shows document text: the answer's citation card and its
whole-document view, the retrieved passages, the graph's passage and entity
details, the entity browser, the document list. Every markdown string the page
produced is rendered with a CommonMark renderer (HTML allowed, as
``unsafe_allow_html`` allows it): no image, link or script comes out, and no
control character is left in the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from markdown_it import MarkdownIt

from kgqa.types import Chunk, Document, ExtractedEntity, Extraction
from pipelines.ingest import IngestOptions
from tests.conftest import ROOT
from tests.fakes import CapitalizedExtractor
from tests.fakes_llm import ScriptedGenerator

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

HOSTILE_NAME = "[Evil](http://127.0.0.1:9/name) Corp"
TEXT = (
    "Ines Carvalho leads the Porto office. "
    "![pixel](http://127.0.0.1:9/pixel.png) [click here](http://127.0.0.1:9/phish) "
    "<img src=x onerror=alert(1)> <script>alert(2)</script> :red[ALARM] www.example.com "
    f"$x^2$ \x1b]0;title\x07 \u202eevil {HOSTILE_NAME} audits Porto.\n"
)
TITLE = "![t](http://127.0.0.1:9/title.png) <b>Porto</b> office"
ACTIVE = re.compile(r"<(img|a|script|iframe|svg|object)\b", re.IGNORECASE)


class HostileExtractor(CapitalizedExtractor):
    """The fake extractor, plus one entity whose name is markdown."""

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        out = []
        for chunk, ex in zip(chunks, super().extract(chunks), strict=True):
            i = chunk.text.find(HOSTILE_NAME)
            if i >= 0:
                start = chunk.start + i
                extra = ExtractedEntity(HOSTILE_NAME, "ORG", start, start + len(HOSTILE_NAME), 0)
                ex = Extraction(ex.chunk_id, (*ex.entities, extra), ex.relations)
            out.append(ex)
        return out


def answer_porto(messages: list[dict[str, str]]) -> str:
    return "Porto [1]"


@pytest.fixture
def hostile_app(tmp_path):
    from pipelines.kb import KnowledgeBase
    from retrieval.embed import HashEmbedder

    kb = KnowledgeBase.open(
        tmp_path / "kb", embedder=HashEmbedder(64), extractor=HostileExtractor()
    )
    kb.ingest(
        [Document(id="<img src=x>.md", title=TITLE, text=TEXT)],
        options=IngestOptions(progress=False),
    )
    kb.generator = ScriptedGenerator(answer_porto)
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=60)
    at.session_state["kgqa.kb"] = kb
    yield at
    kb.close()


def shown(at) -> list[str]:  # type: ignore[no-untyped-def]
    values = []
    for kind in ("markdown", "caption", "error", "info", "warning", "success"):
        values += [e.value for e in getattr(at, kind)]
    return values


def check(values: list[str]) -> None:
    md = MarkdownIt("commonmark", {"html": True})
    assert values
    for value in values:
        html = md.render(value)
        assert not ACTIVE.search(html), html
        # the raw markdown holds no link syntax, directive or bare address for GFM to act on
        for active in ("](", ":red[", "http://", "www.", "<img", "<script", "<b>Porto"):
            assert active not in value, value
        assert not any(ord(c) < 32 and c not in "\n\t" for c in value), value
        assert "\u202e" not in value, value


def test_document_text_titles_and_names_are_shown_inert(hostile_app) -> None:
    at = hostile_app
    at.run()
    assert not at.exception
    at.text_input(key="question").input("Which city has the office?")
    at.button(key="ask_button").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Porto" in v for v in shown(at))
    texts = shown(at)
    assert any("pixel" in v for v in texts)  # the passage is shown, as text
    check(texts)
    n_nodes = len(next(s for s in at.selectbox if s.label.startswith("Click a node")).options)
    assert n_nodes >= 2  # the cited passage and an entity at least
    for i in range(n_nodes):  # every passage and entity of the graph, one after the other
        picker = next(s for s in at.selectbox if s.label.startswith("Click a node"))
        picker.select_index(i).run()
        assert not at.exception, at.exception
        check(shown(at))
    at.text_input(key="entity_search").input("Evil").run()
    assert not at.exception
    check(shown(at))
    assert any("Evil" in v for v in shown(at))
