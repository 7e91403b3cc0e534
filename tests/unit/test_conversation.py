"""Conversations through the Python API, on fakes: history, reset, the rewrite carried.

The rewriting itself runs on the real spaCy parse (``tests/integration/
test_conversation_real.py``); here a hand-written rewriter stands in for it, so
what is tested is the conversation: what it passes on, records and forgets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from kgqa.errors import ConfigError
from kgqa.types import Answer, Document
from pipelines.answer_form import answer_as_dict
from pipelines.conversation import Conversation, Rewrite, Turn
from pipelines.ingest import IngestOptions
from tests.fakes_llm import ScriptedGenerator

DOCS = [
    Document(id="kestrel.md", title="Kestrel Station",
             text="Adaeze Nwosu designed the Kestrel Station in Porto."),
    Document(id="nwosu.md", title="Adaeze Nwosu",
             text="Adaeze Nwosu studied at the University of Lagos."),
]


def by_question(table: dict[str, str]):  # type: ignore[no-untyped-def]
    """A reply script: the answer of the first key found in the prompt's question."""

    def reply(messages: list[dict[str, str]]) -> str:
        asked = messages[-1]["content"].rsplit("Question:", 1)[-1]
        return next((a for key, a in table.items() if key in asked), "NOT FOUND")

    return reply


def she_is_the_last_answer(question: str, history: Sequence[Turn]) -> Rewrite:
    """A stand-in rewriter: "she" -> the previous answer."""
    if history and re.search(r"\bshe\b", question):
        new = re.sub(r"\bshe\b", history[-1].answer.text, question)
        return Rewrite(new, "pronoun", (("she", history[-1].answer.text),))
    return Rewrite(question)


@pytest.fixture
def kb(fake_kb):
    fake_kb.ingest(DOCS, options=IngestOptions(progress=False))
    fake_kb.generator = ScriptedGenerator(by_question({
        "Who designed the Kestrel Station": "Adaeze Nwosu",
        "Which university did Adaeze Nwosu attend": "University of Lagos",
    }))
    return fake_kb


def test_a_follow_up_is_answered_as_rewritten_and_says_so(kb):
    conv = Conversation(kb.ask, she_is_the_last_answer)
    first = conv.ask("Who designed the Kestrel Station?")
    assert first.text == "Adaeze Nwosu" and first.understood_as == ""
    follow = conv.ask("Which university did she attend?")
    assert follow.question == "Which university did she attend?"  # as asked
    assert follow.understood_as == "Which university did Adaeze Nwosu attend?"
    assert follow.text == "University of Lagos"
    asked = kb.generator.calls[-1][-1]["content"]  # the model saw the rewritten question
    assert "Question: Which university did Adaeze Nwosu attend?" in asked
    assert [t.question for t in conv.history] == [first.question, follow.question]
    assert conv.history[1].asked == follow.understood_as
    assert answer_as_dict(follow)["understood_as"] == follow.understood_as


def test_reset_forgets_the_turns(kb):
    conv = Conversation(kb.ask, she_is_the_last_answer)
    conv.ask("Who designed the Kestrel Station?")
    conv.reset()
    assert conv.history == ()
    again = conv.ask("Which university did she attend?")  # nothing to resolve it with
    assert again.understood_as == "" and again.abstained


def test_options_reach_the_answer_and_a_failed_question_is_not_recorded(kb):
    conv = Conversation(kb.ask, she_is_the_last_answer)
    pieces: list[str] = []
    ans = conv.ask("Who designed the Kestrel Station?", stream_to=pieces.append, top_k=1)
    assert "".join(pieces).startswith("Adaeze") and len(ans.hits) == 1
    with pytest.raises(ConfigError):
        conv.ask("   ")
    kb.generator = ScriptedGenerator(lambda m: 1 / 0)  # type: ignore[arg-type,return-value]
    with pytest.raises(ZeroDivisionError):
        conv.ask("Who designed the Kestrel Station?")
    assert len(conv.history) == 1


def test_a_pronoun_that_stands_for_no_one_is_asked_about_not_answered(kb):
    def unresolved_she(question: str, history: Sequence[Turn]) -> Rewrite:
        return Rewrite(question, unresolved=("she",) if "she" in question else ())

    conv = Conversation(kb.ask, unresolved_she)
    calls = len(kb.generator.calls)
    ans = conv.ask("Which university did she attend?")
    assert ans.abstained and 'Who is "she"?' in ans.text and ans.citations == ()
    assert len(kb.generator.calls) == calls and conv.history == ()  # not answered, not kept
    assert conv.ask("Who designed the Kestrel Station?").text == "Adaeze Nwosu"


def test_history_keeps_the_last_turns_only():
    conv = Conversation(lambda q, **kw: Answer(question=q, text=q.upper()), max_turns=3)
    for n in range(5):
        conv.ask(f"question {n}")
    assert [t.question for t in conv.history] == ["question 2", "question 3", "question 4"]


def test_understand_shows_the_rewrite_without_answering(kb):
    calls: list[str] = []
    conv = Conversation(lambda q, **kw: calls.append(q) or Answer(q, "Adaeze Nwosu"),  # type: ignore[func-returns-value]
                        she_is_the_last_answer)
    conv.ask("Who designed the Kestrel Station?")
    rw = conv.understand("Where was she born?")
    assert rw.changed and rw.question == "Where was Adaeze Nwosu born?"
    assert rw.replaced == (("she", "Adaeze Nwosu"),)
    assert calls == ["Who designed the Kestrel Station?"]


def test_kb_conversation_without_a_parser_answers_questions_as_asked(kb):
    conv = kb.conversation()  # the fake extractor lends no language pipeline
    assert conv.rewrite is None
    conv.ask("Who designed the Kestrel Station?")
    follow = conv.ask("Which university did she attend?")
    assert follow.understood_as == "" and len(conv.history) == 2
