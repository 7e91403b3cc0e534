"""Other scripts on fakes: the once-per-base notice, and bases chunked before versions."""

from __future__ import annotations

import json

import pytest

from kgqa.types import Document
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from pipelines.languages import NOTICE_ID, LanguageCheck, dominant_script, english_only_models
from pipelines.manifest import read_manifest
from retrieval.embed import HashEmbedder
from tests.fakes import CapitalizedExtractor

QUIET = IngestOptions(progress=False)
ZH = (
    "星河海洋研究院位于浙江省舟山市。"
    "研究院的首任院长是林晓岚，她在二零零八年创办了深海声学实验室。"
)


class EnglishExtractor(CapitalizedExtractor):
    """The fake extractor, declaring (like en_core_web_sm) that it reads English only."""

    model = "fake_en"
    language = "en"


@pytest.mark.parametrize(
    ("text", "script"),
    [
        (ZH, "Han (Chinese, Japanese)"),
        ("東京タワーはとても高いです", "Japanese kana"),
        ("ภาษาไทยไม่มีช่องว่างระหว่างคำ", "Thai"),
        ("Москва — столица России.", "Cyrillic"),
        ("Glenrock Council approved the harbour budget.", None),
        ("Café crème, naïve façade, São João.", None),
        ("Acme Robotics (アクメ) builds arms for the Porto plant.", None),  # mostly Latin
        ("1234 5678", None),
    ],
)
def test_dominant_script(text: str, script: str | None) -> None:
    assert dominant_script(text) == script


def test_the_notice_names_the_models_and_is_silent_once_given() -> None:
    check = LanguageCheck(["the embedder all-MiniLM-L6-v2"])
    check.see(Document("a", "", ZH))
    check.see(Document("b", "", "An English document."))
    notice = check.notice()
    assert notice is not None and "1 document is written in Han" in notice
    assert "all-MiniLM-L6-v2" in notice and "--embedder" in notice and "--extractor" in notice
    given = LanguageCheck(["the embedder all-MiniLM-L6-v2"], given=True)
    given.see(Document("a", "", ZH))
    assert given.notice() is None
    assert english_only_models(HashEmbedder(8), CapitalizedExtractor()) == []
    assert english_only_models(HashEmbedder(8), EnglishExtractor()) == [
        "the spaCy pipeline fake_en"
    ]


def test_ingest_gives_the_notice_once_per_base(tmp_path) -> None:
    ext = EnglishExtractor()
    kb = KnowledgeBase.open(tmp_path / "kb", embedder=HashEmbedder(64), extractor=ext)
    english = kb.ingest([Document("en", "En", "Acme Robotics builds arms.")], options=QUIET)
    assert english.notices == ()
    first = kb.ingest([Document("zh", "Zh", ZH)], options=QUIET)
    assert len(first.notices) == 1 and "Han" in first.notices[0]
    kb.close()
    manifest = read_manifest(tmp_path / "kb")
    assert manifest is not None and manifest.notices == (NOTICE_ID,)
    kb = KnowledgeBase.open(tmp_path / "kb", embedder=HashEmbedder(64), extractor=ext)
    again = kb.ingest([Document("zh2", "Zh2", ZH + "再见。")], options=QUIET)
    assert again.notices == () and again.documents_added == 1
    kb.close()


def test_a_base_from_before_chunker_versions_keeps_its_chunker(tmp_path) -> None:
    ext = CapitalizedExtractor()
    kb = KnowledgeBase.open(tmp_path / "old", embedder=HashEmbedder(64), extractor=ext)
    kb.close()
    path = tmp_path / "old" / "manifest.json"
    data = json.loads(path.read_text())
    del data["chunker"]["version"], data["notices"]  # as kgqa wrote manifests before
    path.write_text(json.dumps(data))
    kb = KnowledgeBase.open(tmp_path / "old", embedder=HashEmbedder(64), extractor=ext)
    assert kb.manifest.chunker.version == 1
    text = ZH * 10  # 860 characters, no spaces: version 1 counts few tokens
    kb.ingest([Document("zh", "", text)], options=QUIET)
    old_chunks = kb.stats().chunks
    kb.close()
    new = KnowledgeBase.open(tmp_path / "new", embedder=HashEmbedder(64), extractor=ext)
    assert new.manifest.chunker.version == 2
    new.ingest([Document("zh", "", text)], options=QUIET)
    assert new.stats().chunks > old_chunks
    new.close()
    assert json.loads((tmp_path / "new" / "manifest.json").read_text())["chunker"]["version"] == 2
