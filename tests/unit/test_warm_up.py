"""Loading the models ahead of the first question: ``kb.warm_up`` and the web UI's warm-up."""

from __future__ import annotations

from kgqa.errors import StoreError
from kgqa.types import Document
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from tests.fakes_llm import ScriptedGenerator
from ui import warm


def test_warm_up_loads_and_prepares_the_generator_with_one_short_answer(fake_kb):
    fake_kb.ingest([Document(id="a.md", title="A", text="Ana Silva works at Acme in Porto.")],
                   options=IngestOptions(progress=False))
    gen = fake_kb.generator = ScriptedGenerator("Ana Silva")
    stages: list[str] = []
    fake_kb.warm_up(on_stage=stages.append)
    assert stages == ["loading the search models", "loading the answer model",
                      "preparing the answer model"]  # the fake extractor has no parser
    assert len(gen.calls) == 1  # one short answer, no second look


def test_warm_up_of_an_empty_base_loads_nothing(fake_kb):
    gen = fake_kb.generator = ScriptedGenerator("x")
    fake_kb.warm_up()
    assert gen.calls == []


def test_the_ui_warm_up_opens_the_base_once_per_process(tmp_path):
    path = tmp_path / "kb"
    KnowledgeBase.open(path, embedder="hash:32").close()
    try:
        first = warm.warm(path)
        assert warm.warm(str(path) + "/") is first  # one per base directory
        assert first.wait(60) and first.ready and first.stage == "ready"
        assert first.base().path == path
    finally:
        warm.forget(path)
        first.kb.close()  # type: ignore[union-attr]
    assert warm.warm(path) is not first  # forgotten: a new warm-up
    warm.warm(path).wait(60)
    warm.warm(path).kb.close()  # type: ignore[union-attr]
    warm.forget(path)


def test_a_missing_base_is_the_open_error(tmp_path):
    w = warm.warm(tmp_path / "nothing-here")
    try:
        assert w.wait(60) and not w.ready
        try:
            w.base()
        except StoreError as e:
            assert "no knowledge base here" in str(e)
        else:
            raise AssertionError("a missing base opened")
    finally:
        warm.forget(tmp_path / "nothing-here")
