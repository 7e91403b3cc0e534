"""pipelines.count_reader: the count a passage states, for "how many" questions."""

from __future__ import annotations

import pytest

from kgqa.types import Document
from pipelines.comparison import ComparisonPlan
from pipelines.count_reader import read_count
from pipelines.ingest import IngestOptions
from pipelines.qa import QAConfig
from pipelines.question_shape import QuestionShape
from tests.fakes_llm import ScriptedGenerator, make_hit
from tests.unit.test_qa import ask, reply_by_question

TEAM = ("The Firmware team writes embedded software. The team works from the Porto office "
        "and has 22 engineers. Since 2015 it cut power use by forty percent.")  # fmt: skip


def test_the_count_of_the_best_matching_sentence_is_read():
    hit = make_hit(TEAM, title="Firmware Team")
    assert read_count("How many people does the Firmware team have?", [hit]) == ("22", 1)
    # the thing counted, named after the number, outweighs a sentence's other words
    other = make_hit(
        "The Firmware team had 3 offices and 40 engineers in 2019.",
        doc_id="o",
        title="Offices",
        rank=2,
    )
    assert read_count("How many engineers did the Firmware team have?", [other]) == ("40", 1)


@pytest.mark.parametrize(
    "text",
    [
        "The Firmware team was founded in 2015.",  # a year
        "The Firmware team cut power use by forty percent.",  # a percentage
        "The Firmware team came 3rd in the contest.",  # an ordinal
        "Porto has 22 bridges.",  # a count, but of nothing the question names
    ],
)
def test_what_is_not_an_answering_count_is_not_read(text):
    hit = make_hit(text, title="Notes")
    assert read_count("How many people does the Firmware team have?", [hit]) is None


def test_ties_go_to_the_better_ranked_passage():
    a = make_hit("The Firmware team has 22 engineers.", doc_id="a", title="A", rank=1)
    b = make_hit("The Firmware team has 30 engineers.", doc_id="b", title="B", rank=2)
    assert read_count("How many engineers does the Firmware team have?", [a, b]) == ("22", 1)
    assert read_count("How many engineers does the Firmware team have?", [b, a]) == ("30", 1)


@pytest.fixture
def teams(fake_kb):
    docs = [Document("firmware.md", "Firmware Team", TEAM),
            Document("platform.md", "Platform Team",
                     "The Platform team runs Nimbus Cloud. It works from Toronto and has "
                     "30 people.")]  # fmt: skip
    fake_kb.ingest(docs, options=IngestOptions(progress=False))
    return fake_kb


def test_a_comparison_decides_with_a_count_the_reader_missed(teams):
    q = "Which team has more people, the Firmware team or the Platform team?"
    plan = ComparisonPlan(
        ("the Firmware team", "the Platform team"),
        (
            "How many people does the Firmware team have?",
            "How many people does the Platform team have?",
        ),
        "number",
        "max",
    )
    shape = QuestionShape(q, "comparison", "organisation", comparison=plan)
    # the reader answers a count no passage states for one team, the right one for the other
    gen = ScriptedGenerator(
        reply_by_question({"Firmware team have": "1 [1]", "Platform team have": "30 [1]"})
    )
    ans = ask(teams, q, gen, analyse=lambda t: shape)
    assert [s.answer for s in ans.steps] == ["22", "30", "Platform team"]
    assert ans.text == "Platform team"
    assert any("22 engineers" in c.quote for c in ans.steps[0].citations)
    off = ask(
        teams,
        q,
        ScriptedGenerator(
            reply_by_question({"Firmware team have": "1 [1]", "Platform team have": "30 [1]"})
        ),
        analyse=lambda t: shape,
        config=QAConfig(mode="vector", read_counts=False),
    )
    assert off.steps == () or off.steps[0].abstained  # without it, the comparison is not made


@pytest.mark.parametrize(
    "text",
    [
        "Ana Reis (born January 30, 1977) played for the Lions for nine seasons.",
        "Ana Reis (25 April 1845 - 1925) was premier of the state.",
    ],
)
def test_days_of_dates_and_counts_of_other_things_are_not_read(text):
    hit = make_hit(text, title="Ana Reis")
    assert read_count("How many times was Ana Reis premier of the state?", [hit]) is None
    assert read_count("How many seasons did Ana Reis play for the Lions?", [hit]) == (
        ("nine", 1) if "nine" in text else None
    )


OFFICES = [
    ("Toronto Office", "The Toronto office opened in 2017. The Toronto office has about 85 "
                       "staff. It hosts the sales team."),
    ("Melbourne Office", "The Melbourne office has about 25 staff. It works with Toronto."),
    ("Priya Raman", "Priya Raman built a sales organisation of about twenty people in Toronto."),
    ("Porter Robot", "The Porter robot has 6 wheels, 4 cameras and one arm. Acme sold 1,350 "
                     "Porters in total and 212 Porters in 2023. The HX-60 chip drives it."),
    ("Vision Team", "The Vision team has twenty-two engineers. The Motion team has 18."),
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # the sentence that names the office, not a passage that mentions it in passing
        ("How many people work in the Toronto office?", "85"),
        ("How many staff does the Melbourne office have?", "25"),
        ("How many staff does the Lisbon office have?", None),  # no such office
        ("How many engineers work in the Toronto office?", None),  # staff are not engineers
        ("How many cameras does a Porter robot have?", "4"),  # not the wheels before them
        ("How many Porters did Acme sell in 2023?", "212"),  # the count of the year asked
        ("How many Porters did Acme sell in 2019?", None),
        ("How many chips does the Porter robot have?", None),  # "HX-60" is a name
        ("How many engineers does the Vision team have?", "twenty-two"),
    ],
)
def test_the_count_is_of_what_and_whom_the_question_asks(question, expected):
    hits = [make_hit(text, doc_id=f"d{i}", title=title, rank=i + 1)
            for i, (title, text) in enumerate(OFFICES)]  # fmt: skip
    found = read_count(question, hits)
    assert (found[0] if found else None) == expected
