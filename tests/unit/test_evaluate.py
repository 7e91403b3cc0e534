"""Retrieval metrics against hand-counted values, and search validation, on fakes."""

from __future__ import annotations

import json

import pytest

from kgqa.errors import ConfigError
from kgqa.types import Document, Hit
from pipelines.evaluate import (
    Question,
    all_at,
    distinct_docs,
    evaluate_retrieval,
    format_table,
    load_questions,
    recall_at,
)
from pipelines.ingest import IngestOptions

QUIET = IngestOptions(progress=False)

# -- metrics ------------------------------------------------------------------------


def test_recall_at_counts_gold_documents_among_the_first_k():
    ranked = ["a", "x", "b", "y", "c"]
    assert recall_at(ranked, {"a", "b"}, 1) == 0.5
    assert recall_at(ranked, {"a", "b"}, 2) == 0.5
    assert recall_at(ranked, {"a", "b"}, 3) == 1.0
    assert recall_at(ranked, {"a", "b", "c", "z"}, 5) == 0.75  # z is never retrieved
    assert recall_at(ranked, {"z"}, 5) == 0.0
    assert recall_at(ranked, set(), 5) == 0.0  # no gold: nothing to recall
    assert recall_at([], {"a"}, 5) == 0.0


def test_all_at_needs_every_gold_document():
    ranked = ["a", "x", "b"]
    assert all_at(ranked, {"a", "b"}, 3) is True
    assert all_at(ranked, {"a", "b"}, 2) is False
    assert all_at(ranked, {"a"}, 1) is True
    assert all_at(ranked, {"a", "z"}, 8) is False
    assert all_at(ranked, set(), 8) is False


def test_distinct_docs_keeps_first_occurrence_order():
    assert distinct_docs(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]
    assert distinct_docs([]) == []
    # recall is over distinct documents: three chunks of "a" use one slot
    docs = distinct_docs(["a", "a", "a", "b"])
    assert recall_at(docs, {"a", "b"}, 2) == 1.0


# -- questions file --------------------------------------------------------------------


def q_line(i, question="Who?", **extra):
    return json.dumps({"id": i, "question": question, "answers": ["x"], **extra})


def test_load_questions_reads_records_and_skips_blank_lines(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        q_line("q1", supporting_ids=["a.md", "b.md"]) + "\n\n" + q_line(7) + "\n", encoding="utf-8"
    )
    q1, q2 = load_questions(path)
    assert q1 == Question("q1", "Who?", ("x",), ("a.md", "b.md"))
    assert q2.id == "7" and q2.supporting_ids == ()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{not json\n", ":1:"),
        (q_line("q1") + "\n\n" + json.dumps({"id": "q2"}) + "\n", ":3:"),  # no "question"
        (q_line("q1") + "\n[1, 2]\n", ":2:"),  # not an object
    ],
)
def test_load_questions_errors_name_the_file_and_line(tmp_path, text, where):
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_questions(path)
    assert f"{path}{where}" in str(err.value)


def test_load_questions_missing_or_empty_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(ConfigError, match=r"nope\.jsonl"):
        load_questions(missing)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"empty\.jsonl: no questions"):
        load_questions(empty)


# -- evaluate_retrieval on a tiny base ------------------------------------------------

DOCS = [
    Document("a", "Acme Robotics", "Acme Robotics builds warehouse robots in Lisbon."),
    Document("b", "Maria Okafor", "Maria Okafor founded Acme Robotics after studying in Porto."),
    Document("c", "Zeta Labs", "Zeta Labs sells weather sensors to farmers."),
    Document("d", "Porto", "Porto is a coastal city known for its bridges."),
]
# BM25 tokens that occur in the corpus (question words outside it score nothing):
# Q1 founded, acme, robotics -> a, b > 0; c, d = 0      gold {a, b}: @2 1,  @5 1,  all@8 yes
# Q2 sensors, zeta, labs     -> c > 0; rest 0           gold {c, z}: @2 .5, @5 .5, all@8 no
#                                                       (z is not in the base)
# Q3 maria, okafor, zeta     -> b, c > 0; a, d = 0      gold {d}:    @2 0,  @5 0,  all@8 no
#    ("study", "sell" are not corpus words), and chunks without evidence are not hits
QUESTIONS = [
    Question("q1", "Who founded Acme Robotics?", (), ("a", "b")),
    Question("q2", "Which sensors does Zeta Labs sell?", (), ("c", "z")),
    Question("q3", "Where did Maria Okafor study, and what does Zeta sell?", (), ("d",)),
]


@pytest.fixture
def tiny_kb(fake_kb):
    report = fake_kb.ingest(DOCS, options=QUIET)
    assert report.documents_added == 4 and fake_kb.stats().chunks == 4
    return fake_kb


def test_lexical_ranking_is_what_the_hand_count_assumes(tiny_kb):
    def positive(question):
        return {h.chunk.doc_id for h in tiny_kb.search(question, mode="lexical", top_k=8)
                if h.scores["lexical"] > 0}  # fmt: skip

    assert [positive(q.question) for q in QUESTIONS] == [{"a", "b"}, {"c"}, {"b", "c"}]


def test_evaluate_retrieval_lexical_matches_the_hand_count(tiny_kb):
    done = []
    results = evaluate_retrieval(tiny_kb, QUESTIONS, ["lexical"], progress=done.append)
    assert done == ["lexical"]
    lex = results["lexical"]
    assert lex["recall@2"] == 50.0  # (1 + 0.5 + 0) / 3
    assert lex["recall@5"] == 50.0  # (1 + 0.5 + 0) / 3
    assert lex["all@8"] == 33.3  # 1 of 3
    assert 0 <= lex["latency_ms_p50"] <= lex["latency_ms_p95"]


def test_evaluate_every_mode_and_format_the_table(tiny_kb):
    modes = ["vector", "lexical", "graph", "hybrid"]
    results = evaluate_retrieval(tiny_kb, QUESTIONS, modes)
    assert list(results) == modes
    for r in results.values():
        assert set(r) == {"recall@2", "recall@5", "all@8", "latency_ms_p50", "latency_ms_p95"}
        assert all(0 <= r[m] <= 100 for m in ("recall@2", "recall@5", "all@8"))
    # Vector search ranks all 4 documents; only "z" (not in the base) is ever missed.
    assert results["vector"]["recall@5"] == 83.3 and results["vector"]["all@8"] == 66.7
    assert results["lexical"]["recall@5"] == 50.0
    table = format_table(results)
    lines = table.splitlines()
    assert len(lines) == 1 + len(modes)
    assert lines[0].split() == ["mode", *results["vector"]]
    for mode, line in zip(modes, lines[1:], strict=True):
        assert line.split()[0] == mode
    assert "83.3" in lines[1] and "66.7" in lines[1]


def test_format_table_orders_columns_and_fills_gaps():
    table = format_table(
        {"vector": {"all@8": 50.0, "recall@2": 25.0}, "hybrid": {"recall@2": 75.0, "f1": 0.5}}
    )
    header, vector, hybrid = table.splitlines()
    assert header.split() == ["mode", "recall@2", "all@8", "f1"]
    assert vector.split() == ["vector", "25.0", "50.0", "nan"]
    assert hybrid.split() == ["hybrid", "75.0", "nan", "0.5"]


# -- kb.search ----------------------------------------------------------------------------


def test_search_returns_typed_ranked_hits(tiny_kb):
    hits = tiny_kb.search("Who founded Acme Robotics?", mode="hybrid", top_k=3)
    assert 1 <= len(hits) <= 3
    assert all(isinstance(h, Hit) for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert {h.chunk.doc_id for h in hits} >= {"a", "b"}
    assert set(hits[0].scores) == {"vector", "lexical", "graph"}
    assert hits[0].title in {"Acme Robotics", "Maria Okafor"}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"question": "Who?", "mode": "semantic"}, "'semantic'"),
        ({"question": "Who?", "top_k": 0}, "got 0"),
        ({"question": "Who?", "top_k": -3}, "got -3"),
        ({"question": "   "}, "empty"),
    ],
)
def test_search_validation_errors_are_config_errors(fake_kb, kwargs, needle):
    question = kwargs.pop("question")
    with pytest.raises(ConfigError) as err:
        fake_kb.search(question, **kwargs)
    assert needle in str(err.value)


# -- evaluate_answers ------------------------------------------------------------------------


def test_evaluate_answers_scores_and_reports_per_type(tiny_kb):
    from pipelines.evaluate import evaluate_answers
    from tests.fakes_llm import ScriptedGenerator

    questions = [
        Question("q1", "Who founded Acme Robotics?", ("Maria Okafor",), ("b",), "bridge"),
        Question("q2", "Which city is Acme Robotics in?", ("Lisbon",), ("a",), "single"),
        Question("q3", "Is Porto a coastal city?", ("yes",), ("d",), "single"),
    ]

    def reply(msgs):
        q = msgs[-1]["content"].rsplit("Question:", 1)[1]
        return "Maria Okafor" if "founded" in q else "yes" if "Porto" in q else "Porto"

    rows = []
    out = evaluate_answers(tiny_kb, questions, "vector", ScriptedGenerator(reply),
                           on_answer=rows.append)
    assert out["em"] == 66.7 and out["answered"] == 100.0
    # each question's row: what was answered, against what, scored how
    assert [(r["id"], r["answer"], r["em"]) for r in rows] == [
        ("q1", "Maria Okafor", 1.0), ("q2", "Porto", 0.0), ("q3", "yes", 1.0)]
    assert rows[0]["golds"] == ("Maria Okafor",) and rows[0]["cited"] == ["b"]
    # cites_gold leaves the yes/no question out: q1 cites Maria's passage, q2 cites none
    assert out["cites_gold"] == 50.0
    assert out["by_type"] == {"bridge": {"n": 1, "em": 100.0, "f1": 100.0},
                              "single": {"n": 2, "em": 50.0, "f1": 50.0}}
    assert out["single_hop_n"] == 3 and out["multi_hop_n"] == 0
    assert out["answer_cpu_s_p50"] >= 0
    table = format_table({"vector": out})
    assert "vector answers, bridge (1 questions): em 100.0, f1 100.0" in table


def test_evaluate_answers_reports_em_f1_rouge_l_and_bleu(tiny_kb):
    from pipelines.evaluate import evaluate_answers
    from tests.fakes_llm import ScriptedGenerator

    questions = [
        Question("q1", "Who founded Acme Robotics?", ("Maria Okafor",), ("b",)),
        Question("q2", "Where does Acme Robotics build robots?", ("Lisbon",), ("a",)),
    ]
    replies = {"Who founded Acme Robotics?": "Maria Okafor",
               "Where does Acme Robotics build robots?": "warehouse robots in Lisbon"}

    def reply(messages):
        return replies[messages[-1]["content"].rsplit("Question: ", 1)[1].split("\n")[0]]

    metrics = evaluate_answers(tiny_kb, questions, "lexical", ScriptedGenerator(reply))
    assert {"em", "f1", "rouge_l", "bleu", "answered", "cites_gold"} <= set(metrics)
    assert metrics["em"] == 50.0  # the second answer is longer than its gold
    # q2: 1 of 4 words -> F1 = 2 * 1/4 * 1 / (1/4 + 1) = 0.4; ROUGE-L the same (LCS 1)
    assert metrics["f1"] == 70.0 and metrics["rouge_l"] == 70.0
    assert 50.0 < metrics["bleu"] < 70.0  # q2: unigram precision 1/4, bigrams smoothed
    header = format_table({"lexical": metrics}).splitlines()[0].split()
    assert header[1:5] == ["em", "f1", "rouge_l", "bleu"]
