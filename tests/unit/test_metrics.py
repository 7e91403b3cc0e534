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


# -- ROUGE-L and BLEU (rouge-score, sacrebleu) -----------------------------------------------


def test_rouge_l_is_the_lcs_f_measure_best_over_golds():
    from llm.overlap_metrics import rouge_l

    # pred: the eiffel tower in paris (5), gold: eiffel tower (2); LCS 2 -> p 2/5, r 1
    assert rouge_l("the Eiffel Tower in Paris", ["Eiffel Tower"]) == pytest.approx(4 / 7)
    assert rouge_l("Tower Eiffel", "Eiffel Tower") == pytest.approx(0.5)  # order matters
    assert rouge_l("Stephen King", ["King", "Stephen King"]) == 1.0
    assert rouge_l("Kraków", ["Krakow"]) == 0.0 and rouge_l("Kraków", ["kraków"]) == 1.0
    assert rouge_l("北京", ["北京"]) == 1.0  # every script has tokens
    assert rouge_l("", ["Paris"]) == 0.0 and rouge_l("Paris", []) == 0.0


def test_bleu_is_sentence_bleu_with_every_gold_as_reference():
    import math

    from llm.overlap_metrics import bleu

    assert bleu("Paris", ["paris"]) == pytest.approx(1.0)  # lower-cased
    # 2 of 3 reference words, all matching: precisions 1, brevity penalty e^(1 - 3/2)
    assert bleu("Eiffel Tower", ["the Eiffel Tower"]) == pytest.approx(math.exp(-0.5), abs=1e-4)
    assert bleu("Eiffel Tower", ["the Eiffel Tower", "Eiffel Tower"]) == pytest.approx(1.0)
    assert bleu("London", ["Paris"]) < 0.01
    assert bleu("", ["Paris"]) == 0.0 and bleu("Paris", []) == 0.0
