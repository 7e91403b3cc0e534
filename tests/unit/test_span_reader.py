"""pipelines.span_reader: the name or date a passage states, when the reader found none."""

from __future__ import annotations

import pytest

from kgqa.types import Document
from pipelines.ingest import IngestOptions
from pipelines.qa import QAConfig
from pipelines.span_reader import read_span
from tests.fakes_llm import ScriptedGenerator, make_hit
from tests.unit.test_qa import ask

LABELS = {"Barnaby Joyce": "PERSON", "Queensland": "GPE", "San Diego": "GPE",
          "Arden Hills": "GPE", "Bethel University": "ORG", "CQX Group": "ORG"}
BUCHHOLZ = ("Scott Buchholz is an Australian politician. He previously served as chief of staff "
            "to Queensland Senator Barnaby Joyce and was a director of CQX Group.")
BETHEL = ("Bethel University is a Christian institution. The main campus is located in Arden "
          "Hills, and the seminary has a second campus in San Diego.")


def label(name: str) -> str | None:
    return LABELS.get(name)


def test_the_entity_of_the_asked_kind_nearest_the_question_words_is_read():
    hit = make_hit(BUCHHOLZ, title="Scott Buchholz")
    q = "Scott Buchholz previously served as chief of staff to which Queensland Senator?"
    assert read_span(q, [hit], "person", label) == ("Barnaby Joyce", 1)
    q = "Besides serving Barnaby Joyce, Scott Buchholz was a director of which company?"
    assert read_span(q, [hit], "organisation", label) == ("CQX Group", 1)
    other = make_hit(BETHEL, doc_id="b", title="Bethel University", rank=2)
    q = "The university also has a second campus in which California city?"
    assert read_span(q, [hit, other], "place", label) == ("San Diego", 2)


@pytest.mark.parametrize(
    ("question", "expects"),
    [
        ("Which Queensland Senator did Scott Buchholz serve?", "place"),  # no place but the asked
        ("Who was Scott Buchholz?", "person"),  # the only person is the question's own
        ("Which university did the senator attend?", "university"),  # none named
        ("What colour is the Bethel seminary?", "any"),  # not a name or a date
        ("Who owns the Lisbon bakery on Rua Augusta?", "person"),  # no sentence matches
    ],
)
def test_nothing_is_read_without_a_matching_sentence_and_candidate(question, expects):
    assert read_span(question, [make_hit(BUCHHOLZ, title="Scott Buchholz")], expects,
                     label) is None


def test_a_date_is_read_for_a_when_question():
    hit = make_hit("The Skyline Station was first shipped on 3 March 2004 from Porto.",
                   title="Skyline Station")
    assert read_span("When was the Skyline Station first shipped?", [hit], "date",
                     label) == ("3 March 2004", 1)


def test_an_abstention_takes_the_span_its_evidence_states(fake_kb):
    doc = ("Acme Robotics builds warehouse robots. Its chief engineer, the designer of the "
           "Skyline Station, is Keiko Tanaka from Osaka.")
    fake_kb.ingest([Document("acme.md", "Acme Robotics", doc)],
                   options=IngestOptions(progress=False))
    q = "Who is the designer of the Skyline Station at Acme Robotics?"
    refusal = ScriptedGenerator("The documents do not say.")
    ans = ask(fake_kb, q, refusal, labels={"Keiko Tanaka": "PERSON", "Osaka": "GPE"})
    assert ans.text == "Keiko Tanaka" and "Keiko Tanaka" in ans.citations[0].quote
    off = ask(fake_kb, q, refusal, labels={"Keiko Tanaka": "PERSON"},
              config=QAConfig(mode="vector", read_spans=False))
    assert off.abstained
