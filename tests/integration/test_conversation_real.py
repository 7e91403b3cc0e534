"""Conversations on the real spaCy parse: follow-ups rewritten, self-contained questions not.

The demo corpus on the hash embedder (fast) and the real spaCy extractor, so the
resolver sees the graph's real names and labels. Answers come from a scripted
generator (a reply per question), in process and behind an OpenAI-compatible
server for ``kgqa chat`` fed from a pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from kgqa.types import Answer
from pipelines.follow_up import FollowUpResolver, Turn
from pipelines.ingest import IngestOptions
from pipelines.kb import KnowledgeBase
from tests.conftest import DEMO_CORPUS, ROOT
from tests.fakes_llm import ScriptedGenerator

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("conversation") / "demo"
    with KnowledgeBase.open(path, embedder="hash:256") as kb:
        kb.ingest([DEMO_CORPUS], options=IngestOptions(progress=False))
    return path


@pytest.fixture(scope="module")
def kb(demo_path):
    with KnowledgeBase.open(demo_path, create=False) as kb:
        yield kb


@pytest.fixture(scope="module")
def resolver(kb):
    return FollowUpResolver(kb.extractor.load, is_name=kb.searcher().corpus.is_name,
                            entity_label=kb.entity_label)


def turn(question: str, answer: str) -> Turn:
    return Turn(question, Answer(question=question, text=answer))


# Hand-written conversations (none is a pair of demo/followups.jsonl):
# (first question, its answer, follow-up, how it must be understood).
CONVERSATIONS = [
    ("Who designed the Rainmark Gauge?", "Samuel Otieno",
     "Where was he born?", "Where was Samuel Otieno born?"),
    ("Who designed the Rainmark Gauge?", "Samuel Otieno",
     "When did it go on sale?", "When did the Rainmark Gauge go on sale?"),
    ("Who leads the Porto office?", "Ines Carvalho",
     "Which university did she attend?", "Which university did Ines Carvalho attend?"),
    ("Who leads the Porto office?", "Ines Carvalho",
     "Who hired her?", "Who hired Ines Carvalho?"),
    ("Which company supplies the humidity chip of the Kestrel Station?", "Helix Components",
     "Who is its account director?", "Who is Helix Components' account director?"),
    ("Which company supplies the humidity chip of the Kestrel Station?", "Helix Components",
     "When did Stratwell sign its first supply agreement with that company?",
     "When did Stratwell sign its first supply agreement with Helix Components?"),
    ("Which team maintains the software of the Kestrel Station?", "Firmware team",
     "How many engineers are in that team?", "How many engineers are in the Firmware team?"),
    ("Which office hosted the Stratwell Field Summit 2023?", "Porto",
     "When did that office open?", "When did the Porto office open?"),
    ("Who designed the Kestrel Station?", "Adaeze Nwosu",
     "And the Driftline Buoy?", "Who designed the Driftline Buoy?"),
    ("How many Kestrel Mini stations did Coral Coast Vineyards buy in 2023?", "six",
     "What about 2021?", "How many Kestrel Mini stations did Coral Coast Vineyards buy in 2021?"),
    ("Who leads the Firmware team?", "Samuel Otieno",
     "What about the Platform team?", "Who leads the Platform team?"),
    ("How many staff does the Toronto office have?", "40",
     "How about the Porto office?", "How many staff does the Porto office have?"),
]


@pytest.mark.parametrize(("first", "answer", "follow", "expected"), CONVERSATIONS)
def test_follow_ups_are_rewritten(resolver, first, answer, follow, expected):
    rw = resolver.rewrite(follow, [turn(first, answer)])
    assert rw.question == expected
    assert rw.changed


def test_the_demo_follow_ups_name_what_they_refer_to(resolver):
    """The 12 pairs of demo/followups.jsonl, given their gold first answers."""
    for line in (ROOT / "demo" / "followups.jsonl").open():
        pair = json.loads(line)
        first, follow = pair["first"], pair["followup"]
        rw = resolver.rewrite(follow["question"], [turn(first["question"], first["answers"][0])])
        assert rw.changed, pair["id"]
        words = rw.question.lower().replace("?", "").split()
        assert not {"she", "he", "it", "they", "that", "this"} & set(words), rw.question
        if pair["kind"] != "ellipsis":
            assert first["answers"][0] in rw.question, rw.question
        else:
            assert rw.question == follow["rewritten"]


def test_self_contained_questions_are_never_rewritten(resolver):
    """All 72 demo questions, each after the question before it and after other topics."""
    questions = [json.loads(x) for name in ("questions.jsonl", "questions_dev.jsonl")
                 for x in (ROOT / "demo" / name).open()]
    assert len(questions) == 72
    before = [turn(q, a) for q, a, _, _ in CONVERSATIONS[::2]]
    for i, q in enumerate(questions):
        prev = questions[i - 1]
        for history in ([turn(prev["question"], prev["answers"][0])], before, []):
            rw = resolver.rewrite(q["question"], history)
            assert rw.question == q["question"] and not rw.unresolved, rw


def test_a_pronoun_whose_name_is_in_the_question_is_left_alone(resolver):
    history = [turn("Who designed the Rainmark Gauge?", "Samuel Otieno")]
    for q in ("Did Stratwell Instruments sign its first supply agreement in 2012?",
              "Where did Adaeze Nwosu study before she joined Stratwell Instruments?",
              "Who founded the company?",  # "the company" alone, no earlier company
              "And where was the Rainmark Gauge designed?"):
        assert resolver.rewrite(q, history).question == q


def test_nothing_is_rewritten_without_history_and_a_lone_pronoun_is_unresolved(resolver):
    rw = resolver.rewrite("Which university did she attend?", [])
    assert not rw.changed and rw.unresolved == ("she",)
    rw = resolver.rewrite("Where did Adaeze Nwosu study before she joined Stratwell?", [])
    assert not rw.changed and rw.unresolved == ()
    rw = resolver.rewrite("How far is it from Porto to Braga?", [])  # "it" is impersonal
    assert rw.unresolved == ()


def _scripted(table: dict[str, str]) -> ScriptedGenerator:
    def reply(msgs):  # type: ignore[no-untyped-def]
        q = msgs[-1]["content"].rsplit("Question:", 1)[-1]
        return next((a for key, a in table.items() if key in q), "NOT FOUND")

    return ScriptedGenerator(reply)


TABLE = {
    "Who designed the original Kestrel Station?": "Adaeze Nwosu",
    "Which university did Adaeze Nwosu attend?": "University of Lagos",
    "In what year did Adaeze Nwosu join Stratwell Instruments?": "2012",
}


def test_kb_conversation_answers_a_follow_up_as_understood(kb):
    kb.generator = _scripted(TABLE)
    conv = kb.conversation()
    first = conv.ask("Who designed the original Kestrel Station?")
    assert first.text == "Adaeze Nwosu" and not first.understood_as
    follow = conv.ask("Which university did she attend?")
    assert follow.understood_as == "Which university did Adaeze Nwosu attend?"
    assert follow.text == "University of Lagos" and follow.citations
    conv.reset()
    alone = conv.ask("Which university did she attend?")
    assert not alone.understood_as and alone.abstained and 'Who is "she"?' in alone.text


def test_kgqa_chat_from_a_pipe_prints_each_answer_and_how_it_was_understood(demo_path):
    from llm.server import make_server

    server = make_server(_scripted(TABLE), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    questions = ("Who designed the original Kestrel Station?\n"
                 "Which university did she attend?\n\n"
                 "/new\n"
                 "In what year did she join Stratwell Instruments?\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "pipelines.cli", "chat", "--kb", str(demo_path), "--llm-url", url]
    try:
        proc = subprocess.run(cmd, input=questions, capture_output=True, text=True, env=env,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr
        blocks = proc.stdout.split("\n\n")
        assert blocks[0].splitlines()[0] == "Adaeze Nwosu"
        assert 'Kestrel Station — "Adaeze Nwosu designed' in proc.stdout
        follow = proc.stdout[proc.stdout.index("understood as:"):]
        lines = follow.splitlines()
        assert lines[0] == "understood as: Which university did Adaeze Nwosu attend?"
        assert lines[1] == "University of Lagos"
        after_new = proc.stdout[proc.stdout.index("(a new conversation)"):]
        assert "understood as" not in after_new  # "she" has no one to stand for any more

        proc = subprocess.run([*cmd, "--json"], input=questions, capture_output=True, text=True,
                              env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        rows = [json.loads(x) for x in proc.stdout.splitlines()]  # one JSON object per line
        assert [r["answer"] for r in rows[:2]] == ["Adaeze Nwosu", "University of Lagos"]
        assert rows[1]["question"] == "Which university did she attend?"
        assert rows[1]["understood_as"] == "Which university did Adaeze Nwosu attend?"
        assert len(rows) == 3 and rows[2]["understood_as"] == ""
    finally:
        server.shutdown()


def test_the_entity_a_reread_question_described_is_a_referent(resolver):
    from kgqa.types import Step

    q = "Stratwell Instruments hired a designer who studied at which university?"
    reread = Turn(q, Answer(question=q, text="University of Lagos", shape="single", steps=(
        Step(q, "Adaeze Nwosu", replaces="a designer"),
        Step("Adaeze Nwosu, a designer who studied at which university?",
             "University of Lagos"))))
    rw = resolver.rewrite("In which city was she born?", [reread])
    assert rw.question == "In which city was Adaeze Nwosu born?"


def test_yes_no_and_comparison_values_are_not_referents(resolver):
    from kgqa.types import Step

    yes = turn("Is the Rainmark Gauge older than the Driftline Buoy?", "yes")
    assert resolver.rewrite("When did it go on sale?", [yes]).question == (
        "When did the Rainmark Gauge go on sale?")
    q = "Which team has more people, the Firmware team or the Platform team?"
    compared = Turn(q, Answer(question=q, text="Platform team", shape="comparison", steps=(
        Step("How many people work in the Firmware team?", "12", replaces="the Firmware team"),
        Step("How many people work in the Platform team?", "30", replaces="the Platform team"),
        Step(q, "Platform team"))))
    rw = resolver.rewrite("Who leads that team?", [compared])
    assert rw.question == "Who leads the Platform team?"
