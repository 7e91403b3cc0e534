"""pipelines.modifier_check: a "yes" to "both <modifier> N" needs the modifier said."""

from __future__ import annotations

import pytest

from pipelines.comparison import plan_yes_no
from pipelines.modifier_check import lacks, lacks_modifiers, modifiers


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["American", "film"], ("American",)),  # a noun modifier is not checked
        (["Nobel", "Prize"], ()),  # a name, not a nationality: not checked
        (["computer-animated"], ("computer-animated",)),
        (["board"], ()),
        (["Formula", "1"], ()),
        (["Hale's"], ()),  # a possessive
        (["U.S."], ("U.S.",)),
        (["Québécois"], ("Québécois",)),
    ],
)
def test_the_modifiers_are_proper_adjectives_and_participles(words, expected):
    assert modifiers(words) == expected


@pytest.mark.parametrize(
    ("modifier", "text"),
    [
        ("American", "Walter Hale is a U.S.-born film director."),
        ("American", "Jonas Meyer is a film director from the United States."),
        ("American", "Christopher Nolan is an English-American film director."),
        ("British", "The Northern Review is published in London, England."),
        ("British", "Pick Me Up! is a British weekly magazine."),
        ("Spanish", "Carlos Ortega was born in Spain."),
        ("French", "She moved from France in 1990."),
        ("Dutch", "He studied in the Netherlands."),
        ("Swiss", "The firm is based in Switzerland."),
        ("Italian", "Lucia Ferri is a director from Italy."),
        ("Canadian", "He grew up in Canada."),
        ("animated", "Frozen is a 2013 computer-animation musical film."),
        ("American", "Tom Reid is a film director from the US."),
        ("U.S.", "Tom Reid is a U.S. senator."),
        ("Québécois", "Xavier Dolan is a Québécois filmmaker."),
        ("Ukrainian", "Olena Kovalenko is a film director from Ukraine."),
        ("Belgian", "Jonas Peeters is a film director from Belgium."),
        # a nationality not said, but no other named either: the reader's answer stands
        ("British", "The Woman's Viewpoint was a magazine founded in Texas in 1923."),
        ("Ukrainian", "Jonathan Nolan is a film director born in Kyiv."),
        ("Italian-American", "He is an Italian-American actor."),
    ],
)
def test_a_modifier_said_in_other_words_is_said(modifier, text):
    assert not lacks(modifier, [text])


@pytest.mark.parametrize(
    ("modifier", "text"),
    [
        ("American", "Géza von Cziffra was a Hungarian and Austrian film director."),
        ("American", "He is a French-Canadian actor."),
        ("British", "The Tour is a French cycling race held in Brittany."),  # no stem of British
        ("animated", "Escape from the Dark is a 1976 British-American family drama film."),
        ("animated", "The film is about an animal."),
    ],
)
def test_a_modifier_not_said_is_lacking(modifier, text):
    assert lacks(modifier, [text])


def test_only_the_evidence_about_the_option_counts():
    shared = ("Team", "Carlos Ortega, a Spanish engineer, works with Maria Lindqvist in Madrid.")
    own = ("Maria Lindqvist", "Maria Lindqvist is a Swedish engineer. She designs sensors.")
    assert lacks_modifiers(("Spanish",), "Maria Lindqvist", [shared, own])
    assert not lacks_modifiers(("Spanish",), "Carlos Ortega", [shared, own])
    # nothing about the option: nothing to check, the reader's answer stands
    assert not lacks_modifiers(("Spanish",), "Maria Lindqvist", [shared])
    titled = ("Frozen (2013 film)", "It is a 2013 American computer-animated musical film.")
    assert not lacks_modifiers(("animated",), "Frozen", [titled])
    assert not lacks_modifiers((), "Frozen", [titled])


@pytest.mark.parametrize(
    ("question", "questions", "mods"),
    [
        ("Are both magazines, the Woman's Viewpoint and Pick Me Up, British publications?",
         ("Is Woman's Viewpoint a British publication?", "Is Pick Me Up a British publication?"),
         ("British",)),
        ("Are both films, Moonfall and Sky Pirates, animated?",
         ("Is Moonfall an animated film?", "Is Sky Pirates an animated film?"), ("animated",)),
        ("Are both directors, Ana Diaz and Ivo Sousa, American?",
         ("Is Ana Diaz an American director?", "Is Ivo Sousa an American director?"),
         ("American",)),
        ("Are Lena Park and Ivo Sousa both Formula 1 drivers?",
         ("Is Lena Park a Formula 1 driver?", "Is Ivo Sousa a Formula 1 driver?"), ()),
        ("Are both women, Ada Lee and Grace Ho, mathematicians?",
         ("Is Ada Lee a mathematician?", "Is Grace Ho a mathematician?"), ()),
    ],
)
def test_the_listed_form_and_names_with_digits_are_planned(question, questions, mods):
    plan = plan_yes_no(question)
    assert plan is not None and plan.questions == questions and plan.modifiers == mods


def test_a_predicate_that_is_no_noun_phrase_is_left_to_the_reader():
    # ... unless it is a participle with a value: each option is asked for the value
    for q in ("Were Frozen and Up both released in 2013?",
              "Were both films, Frozen and Up, released in 2013?"):
        plan = plan_yes_no(q)
        assert plan is not None and (plan.test, plan.value) == ("value", "2013")
        assert plan.questions == ("When was Frozen released?", "When was Up released?")
    assert plan_yes_no("Are Ada Lee and Bo Kim both married?") is None
    assert plan_yes_no("Are Ada Lee and Bo Kim both directors and writers?") is None


def test_a_heading_is_no_evidence_about_the_option():
    page = ("directors", "## Peter Jackson\n\nHe is a New Zealand film director.")
    assert not lacks_modifiers(("American",), "Peter Jackson", [page])
    line = ("x", "Peter Jackson\nHe is an Irish film director.")
    assert not lacks_modifiers(("American",), "Peter Jackson", [line])
