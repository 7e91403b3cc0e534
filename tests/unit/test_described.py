"""An answer that is the entity the question describes (pipelines.described)."""

from __future__ import annotations

from pipelines.described import Description, described_by

PAINTER = Description("a painter", 42, ("painter",), asks_within=True)
FOUNDER = Description("the founder and lead guitarist", 20, ("founder", "guitarist"))
NETWORK = Description("a network", 3, ("network",), asks_within=True)


def test_an_answer_defined_by_the_head_noun_is_the_described_entity():
    passages = [("Tarn Smart", "Tarn Smart (1921 - 2013) was an Australian painter known for "
                 "his depictions of harbours. He lived in Italy.")]
    assert described_by("Tarn Smart", [PAINTER], passages) == PAINTER
    # a plural, a list of roles, an apposition
    assert described_by("Ivo Marsh", [FOUNDER], [("Band", "The band's songs were written by "
                        "Ivo Marsh, who was born in Leeds.")]) is None
    assert described_by("Ivo Marsh", [FOUNDER], [("Band", "Ivo Marsh is an English singer, "
                        "songwriter and guitarist.")]) == FOUNDER
    assert described_by("Ivo Marsh", [FOUNDER], [("Band", "It was formed in 1987 by Ivo "
                        "Marsh, a founder of two labels.")]) == FOUNDER


def test_a_superlative_or_an_aside_still_defines():
    continent = Description("the continent", 40, ("continent",))
    for text in ("Ossland is the coldest of Earth's continents.",
                 "Ossland, on average, is the driest continent, and has ice.",
                 "Ossland is one of the seven continents."):
        assert described_by("Ossland", [continent], [("Ice", text)]) == continent, text
    assert described_by("Ossland", [continent], [("Ice", "Ossland is cold and has the highest "
                        "peaks of the continents.")]) is None


def test_the_titled_passage_defines_its_subject_under_a_longer_name():
    passages = [("Ben Stokes", "Benjamin Andrew Stokes, {'1': \"} (born 1991) is a New "
                 "Zealand-born English painter. He plays for Durham.")]
    assert described_by("Ben Stokes", [PAINTER], passages) == PAINTER
    # only the first sentence of the passage titled with the answer
    other = [("Ben Stokes", "Stokes plays cricket. His father is a painter.")]
    assert described_by("Ben Stokes", [PAINTER], other) is None


def test_an_answer_ending_in_the_head_noun_is_the_described_entity():
    assert described_by("Cartoon Network", [NETWORK], []) == NETWORK
    assert described_by("Cartoon Networks", [NETWORK], []) == NETWORK
    assert described_by("Betty Cohen", [NETWORK], []) is None


def test_the_head_must_be_in_the_definition_not_anywhere_near_the_answer():
    passages = [
        ("Lena Brook", "Lena Brook is a Canadian actress married to the painter Tom Ruiz."),
        ("Tom Ruiz", "Lena Brook met a painter in 1990."),  # not titled with her
        ("Studio", "A portrait of Lena Brook by a painter hangs in the studio."),
    ]
    assert described_by("Lena Brook", [PAINTER], passages) is None
    assert described_by("Lena Brook", [], passages) is None
    assert described_by("", [PAINTER], passages) is None


def test_the_question_is_asked_of_the_named_entity():
    q = "Notable speakers at the Institute include a painter known for what?"
    assert PAINTER.name_in(q, "Tarn Smart") == "Tarn Smart, a painter known for what?"
    q2 = "Under what name did the founder and lead guitarist of the band record?"
    assert FOUNDER.name_in(q2, "Ivo Marsh") == (
        "Under what name did Ivo Marsh, the founder and lead guitarist of the band record?")
    first = Description("The founder", 0, ("founder",))
    assert first.name_in("The founder of X was born where?", "Ivo Marsh") == (
        "Ivo Marsh, the founder of X was born where?")


def test_a_title_in_quotes_is_defined_by_what_follows_the_quote():
    episode = Description("the October 27, 1999 episode", 21, ("episode",))
    passages = [("Ghost Mystery", '"Ghost Mystery" is the tenth episode of the third season '
                 "of Blue Harbour. It aired on October 27, 1999.")]
    assert described_by("Ghost Mystery", [episode], passages) == episode
