"""SQuAD exact match and F1, best over the gold answers."""

from __future__ import annotations

import pytest

from llm.metrics import contains_answer, exact_match, f1_score, normalize_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  an   apple, a pear ", "apple pear"),
        ("U.S.A.", "usa"),
        ("Theatre of the Absurd", "theatre of absurd"),  # only whole-word articles go
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_is_best_over_gold_answers():
    assert exact_match("Kraków", ["Krakow", "Kraków"]) == 1.0
    assert exact_match("the University of Lagos", "University of Lagos") == 1.0
    assert exact_match("Lagos", ["University of Lagos"]) == 0.0
    assert exact_match("anything", []) == 0.0


def test_f1_counts_shared_tokens():
    assert f1_score("University of Lagos", ["University of Lagos"]) == 1.0
    # pred: university lagos nigeria; gold: university of lagos -> p = r = 2/3
    assert f1_score("University Lagos Nigeria", "University of Lagos") == pytest.approx(2 / 3)
    assert f1_score("Paris", "London") == 0.0


def test_f1_takes_the_best_gold_answer():
    assert f1_score("Lagos", ["University of Lagos", "Lagos"]) == 1.0
    assert f1_score("Stephen King", ["King", "Stephen King"]) == 1.0


def test_f1_of_empty_strings():
    assert f1_score("", "") == 1.0
    assert f1_score("", "yes") == 0.0
    assert f1_score("the", "a") == 1.0  # both normalise to nothing


def test_repeated_tokens_count_once_per_occurrence():
    # common = min counts: {"new": 1, "york": 1} -> p = 2/3, r = 1
    assert f1_score("new new york", "new york") == pytest.approx(0.8)


def test_contains_answer_matches_whole_words_after_normalisation():
    assert contains_answer("She was born in 1998 in Kraków.", ["1998"])
    assert contains_answer("The Exies are a band.", "the exies")
    assert not contains_answer("born in 19985", ["1998"])
    assert not contains_answer("anything", [""])
