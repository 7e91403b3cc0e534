"""The Ask tab as a conversation, through Streamlit's AppTest (fakes, no models).

The fake extractor lends no language pipeline, so the page's conversation gets
a stand-in rewriter here ("she" -> the last answer); the rewriting itself is
tested on the real parse in ``tests/integration/test_conversation_real.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from pipelines.conversation import Conversation, Rewrite, Turn
from tests.unit.test_ui_app import APP, AppTest, StreamCounter, ask, texts, with_documents

FIRST = "Who leads the Porto office?"
FOLLOW = "Where does she work?"


def she_is_the_last_answer(question: str, history: Sequence[Turn]) -> Rewrite:
    if history and re.search(r"\bshe\b", question):
        new = re.sub(r"\bshe\b", history[-1].answer.text, question)
        return Rewrite(new, "pronoun", (("she", history[-1].answer.text),))
    return Rewrite(question)


def reply(messages: list[dict[str, str]]) -> str:
    asked = messages[-1]["content"].rsplit("Question:", 1)[-1]
    if "Who leads" in asked:
        return "Ines Carvalho"
    if "Where does Ines Carvalho work" in asked:
        return "Porto"
    return "NOT FOUND"


@pytest.fixture
def kb(fake_kb):
    with_documents(fake_kb)
    fake_kb.generator = StreamCounter(reply)
    fake_kb.conversation = lambda: Conversation(fake_kb.ask, she_is_the_last_answer)
    return fake_kb


def page(kb):  # type: ignore[no-untyped-def]
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["kgqa.kb"] = kb
    at.run()
    assert not at.exception
    return at


def test_a_two_turn_conversation_keeps_both_answers_with_their_evidence(kb):
    at = page(kb)
    ask(at, FIRST)
    ask(at, FOLLOW)
    markdown = texts(at.markdown)
    assert "#### Ines Carvalho" in markdown and "#### Porto" in markdown  # both turns shown
    users = [texts(m.markdown)[0] for m in at.chat_message if m.name == "user"]
    assert users == [FIRST, FOLLOW]  # as asked, in order
    assert "Understood as: Where does Ines Carvalho work?" in texts(at.caption)
    assert sum(1 for m in markdown if m.startswith("**[1] ")) == 2  # evidence for each answer
    asked = kb.generator.calls[-1][-1]["content"]
    assert "Question: Where does Ines Carvalho work?" in asked
    assert at.text_input(key="question").value == ""  # ready for the next question


def test_new_conversation_forgets_the_turns(kb):
    at = page(kb)
    ask(at, FIRST)
    at.button(key="new_conversation").click().run()
    assert not at.exception
    assert not at.chat_message
    ask(at, FOLLOW)  # "she" has no one to stand for now
    assert not any(c.startswith("Understood as") for c in texts(at.caption))
    assert any("No retrieved passage supports an answer" in w for w in texts(at.warning))


def test_each_browser_session_has_its_own_conversation(kb):
    one, two = page(kb), page(kb)
    ask(one, FIRST)
    two.run()
    assert not two.chat_message  # the other session sees nothing of it
    ask(two, FOLLOW)
    assert not any(c.startswith("Understood as") for c in texts(two.caption))
    one.run()
    assert [m.name for m in one.chat_message] == ["user", "assistant"]


def test_explore_shows_the_graph_behind_the_last_answer_of_the_conversation(kb):
    at = page(kb)
    ask(at, FIRST)
    ask(at, FOLLOW)
    assert at.get("vega_lite_chart")
    (picker,) = [s for s in at.selectbox if s.label.startswith("Click a node")]
    assert any("Porto office" in o for o in picker.options)
