"""pipelines.qa comparisons on fakes: values compared in code, "both"/"same" questions."""

from __future__ import annotations

import pytest

from pipelines.comparison import ComparisonPlan, decide, parse_date, parse_number, plan_yes_no
from pipelines.qa import QAConfig
from pipelines.question_shape import QuestionShape
from tests.fakes_llm import ScriptedGenerator
from tests.qa_support import add_docs, ask, reply_by_question, with_acme


@pytest.fixture
def kb(fake_kb):
    return with_acme(fake_kb)


def test_a_comparison_compares_the_values_it_finds(kb):
    q = "Which company was founded first, Acme Robotics or Bolt Logistics?"
    plan = ComparisonPlan(("Acme Robotics", "Bolt Logistics"),
                          ("When was Acme Robotics founded?", "When was Bolt Logistics founded?"),
                          "date", "min")
    shape = QuestionShape(q, "comparison", "organisation", comparison=plan)
    gen = ScriptedGenerator(reply_by_question({"Acme Robotics founded": "1998",
                                               "Bolt Logistics founded": "2004"}))
    ans = ask(kb, q, gen, analyse=lambda t: shape)
    assert ans.text == "Acme Robotics" and ans.shape == "comparison"
    assert [s.answer for s in ans.steps] == ["1998", "2004", "Acme Robotics"]
    assert "1998" in ans.citations[0].quote


def test_a_value_read_from_another_entitys_passage_does_not_decide(kb):
    add_docs(kb, ("zeta.md", "Zeta Works", "Zeta Works makes gears for couriers."))
    q = "Which company was founded first, Acme Robotics or Zeta Works?"
    plan = ComparisonPlan(("Acme Robotics", "Zeta Works"),
                          ("When was Acme Robotics founded?", "When was Zeta Works founded?"),
                          "date", "min")
    shape = QuestionShape(q, "comparison", "organisation", comparison=plan)
    gen = ScriptedGenerator(reply_by_question({"Acme Robotics founded": "1998",
                                               "Zeta Works founded": "2004"}))  # Bolt's year
    ans = ask(kb, q, gen, analyse=lambda t: shape)
    assert ans.abstained and ans.steps == ()  # no passage says when Zeta Works was founded


def test_is_a_older_than_b_is_a_comparison_answered_yes_or_no(kb):
    q = "Was Bolt Logistics founded earlier than Acme Robotics?"
    plan = ComparisonPlan(("Bolt Logistics", "Acme Robotics"),
                          ("When was Bolt Logistics founded?", "When was Acme Robotics founded?"),
                          "date", "min", yes_no=True)
    shape = QuestionShape(q, "comparison", "yes_no", comparison=plan)
    gen = ScriptedGenerator(reply_by_question({"Acme Robotics founded": "1998",
                                               "Bolt Logistics founded": "2004"}))
    ans = ask(kb, q, gen, analyse=lambda t: shape)
    assert ans.text == "no" and [s.answer for s in ans.steps] == ["2004", "1998", "no"]


def test_which_n_is_adjective_picks_the_one_option_said_to_be_it(kb):
    q = "Which company is robotic, Acme Robotics or Bolt Logistics?"
    plan = ComparisonPlan(("Acme Robotics", "Bolt Logistics"),
                          ("Is Acme Robotics a robotic company?",
                           "Is Bolt Logistics a robotic company?"), "yes_no", "max")
    shape = QuestionShape(q, "comparison", "organisation", comparison=plan)
    gen = ScriptedGenerator(reply_by_question({"Is Acme Robotics": "Yes",
                                               "Is Bolt Logistics": "No"}))
    ans = ask(kb, q, gen, analyse=lambda t: shape)
    assert ans.text == "Acme Robotics" and [s.answer for s in ans.steps][:2] == ["yes", "no"]
    both = ScriptedGenerator(reply_by_question({"Is Acme Robotics": "Yes",
                                                "Is Bolt Logistics": "Yes"}))
    assert not ask(kb, q, both, analyse=lambda t: shape).steps  # no choice: the reader's


def test_an_option_whose_value_is_read_from_elsewhere_is_asked_again_by_its_noun(fake_kb):
    add_docs(fake_kb, ("porto.md", "Porto Office", "The Porto office of Acme opened in March "
                       "2011 near the river."),
             ("leeds.md", "Leeds Office", "The Leeds office opened in 2015. It sells to Acme's "
              "customers in the north."))
    q = "Which office opened first, Porto or Leeds?"
    plan = ComparisonPlan(("Porto", "Leeds"), ("When did Porto open?", "When did Leeds open?"),
                          "date", "min", noun="office")
    shape = QuestionShape(q, "comparison", "place", comparison=plan)
    gen = ScriptedGenerator(reply_by_question({"When did Porto open": "2015",  # Leeds' year
                                               "the Porto office open": "March 2011",
                                               "When did Leeds open": "2015"}))
    ans = ask(fake_kb, q, gen, analyse=lambda t: shape)
    assert [s.question for s in ans.steps][:2] == ["When did the Porto office open?",
                                                  "When did Leeds open?"]
    assert ans.text == "Porto" and [s.answer for s in ans.steps][:2] == ["March 2011", "2015"]
    # one number per passage across the two hops, which each numbered theirs from [1]
    numbers = {c.chunk_id: c.number for c in ans.citations}
    assert len(set(numbers.values())) == len(numbers)
    assert all(ans.hits[n - 1].chunk.id == cid for cid, n in numbers.items())


def test_values_are_parsed_and_compared():
    plan = ComparisonPlan(("a", "b"), ("qa", "qb"), "number", "max")
    assert decide(plan, ("about 70 staff", "85")) == 1
    assert decide(plan, ("eleven", "nine")) == 0
    assert decide(plan, ("70", "seventy")) is None  # equal values do not decide
    assert decide(plan, ("unknown", "85")) is None
    dates = ComparisonPlan(("a", "b"), ("qa", "qb"), "date", "min")
    assert decide(dates, ("September 2016", "2018")) == 0
    assert decide(dates, ("March 2016", "September 2016")) == 0
    assert decide(dates, ("2016", "September 2016")) is None  # not finely enough known
    assert parse_number("2.5 million") == 2_500_000 and parse_number("none") is None
    assert parse_date("9 February 2020") == (2020, 2, 9)


def test_a_both_question_checks_each_option():
    from pipelines.comparison import YesNoPlan, decide_yes_no, plan_yes_no

    plan = plan_yes_no("Are Medici and Senet both board games?")
    assert plan == YesNoPlan(("Medici", "Senet"),
                             ("Is Medici a board game?", "Is Senet a board game?"), "all")
    assert decide_yes_no(plan, ("Yes", "yes")) == "yes"
    assert decide_yes_no(plan, ("yes", "No")) == "no"
    assert decide_yes_no(plan, ("yes", "Italy")) is None
    same = plan_yes_no("Are Nantong and Jingdezhen situated in the same province?")
    assert same is not None and same.test == "same"
    assert same.questions[0] == "In which province is Nantong situated?"
    assert decide_yes_no(same, ("Jiangsu", "Jiangxi")) == "no"
    assert decide_yes_no(same, ("Jiangsu province", "Jiangsu")) == "yes"
    assert plan_yes_no("Is Lena older than Ivo?") is None
    born = plan_yes_no("Were Ana Reis and Ivo Marsh both born in Lyon?")
    assert born is not None and born.test == "value" and born.value == "Lyon"
    assert born.questions == ("Where was Ana Reis born?", "Where was Ivo Marsh born?")
    assert decide_yes_no(born, ("Lyon, France", "Lyon")) == "yes"
    assert decide_yes_no(born, ("Lyon", "Swansea")) == "no"
    studied = plan_yes_no("Did Ana Reis and Ivo Marsh study at the same university?")
    assert studied is not None and studied.test == "same"
    assert studied.questions == ("Which university did Ana Reis study at?",
                                 "Which university did Ivo Marsh study at?")
    used = plan_yes_no("Do Acme and Bolt use the same supplier?")
    assert used is not None and used.questions[0] == "Which supplier does Acme use?"
    released = plan_yes_no("Were Night Harbour and Blue Lantern both released in 2013?")
    assert released is not None and released.questions[0] == "When was Night Harbour released?"
    assert decide_yes_no(released, ("March 2013", "2013")) == "yes"


def _pair(kb, q, replies, planned=None, **kw):
    """``q`` asked with the yes/no plan of ``planned`` (default ``q``) and ``replies`` by
    sub-question; the answer and the plan."""
    plan = plan_yes_no(planned or q)
    assert plan is not None
    shape = QuestionShape(q, "comparison", "yes_no", pair=plan)
    return ask(kb, q, ScriptedGenerator(reply_by_question(replies)), analyse=lambda t: shape,
               **kw), plan


def test_a_both_question_on_a_value_asks_each_option_for_it(kb):
    ans, plan = _pair(kb, "Were Acme Robotics and Bolt Logistics both founded in Lisbon?",
                      {"Where was Acme Robotics": "Lisbon", "Where was Bolt Logistics": "Porto"})
    assert plan.test == "value"
    assert ans.text == "no" and [s.answer for s in ans.steps] == ["Lisbon", "Porto", "no"]


def test_a_both_question_is_answered_option_by_option(kb):
    ans, _ = _pair(kb, "Were Acme Robotics and Bolt Logistics both founded in Lisbon?",
                   {"Is Acme Robotics": "Yes", "Is Bolt Logistics": "Yes"},
                   planned="Are Acme Robotics and Bolt Logistics both companies?")
    assert ans.text == "yes" and [s.answer for s in ans.steps] == ["yes", "yes", "yes"]


def test_a_both_question_without_the_modifier_in_the_evidence_is_no(kb):
    q = "Are Acme Robotics and Bolt Logistics both listed companies?"
    replies = {"Is Acme Robotics": "Yes", "Is Bolt Logistics": "Yes"}
    ans, _ = _pair(kb, q, replies)  # neither passage says "listed"
    assert ans.text == "no"
    assert [s.answer for s in ans.steps] == ["no", "no", "no"]  # the steps say why
    off, _ = _pair(kb, q, replies, config=QAConfig(check_modifiers=False))
    assert off.text == "yes"
