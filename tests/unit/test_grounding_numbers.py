"""Grounding: a small number is supported by a passage that writes it the other way."""

from __future__ import annotations

from llm.grounding import ground_answer, support_score
from tests.fakes_llm import make_hit

TEXT = "In his free time he runs marathons and has completed the Melbourne Marathon four times."


def test_a_digit_answer_is_found_written_as_a_word_and_the_other_way_round():
    assert support_score("4", TEXT) == 1.0
    assert support_score("four", "He finished 4 marathons.") == 1.0
    assert support_score("5", TEXT) == 0.0  # another number is not


def test_the_answer_4_cites_the_sentence_that_says_four():
    question = "How many times has Samuel Otieno completed the Melbourne Marathon?"
    ans = ground_answer(question, "4", [make_hit("Samuel Otieno runs marathons. " + TEXT)])
    assert not ans.abstained and ans.text == "4"
    assert ans.citations[0].quote == TEXT
