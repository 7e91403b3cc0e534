"""Entity linking on hand-made entity lists: alias and fuzzy matches, weights."""

from __future__ import annotations

import math

import pytest

from kg.resolve import normalize
from retrieval.linking import EntityLinker


def linker(ids, aliases=None, df=None, **kw):
    return EntityLinker.from_names(ids, aliases or {}, df or [1] * len(ids), normalize, **kw)


def linked(lnk, question, *args):
    return [(x.entity_id, x.how) for x in lnk.link(question, *args)]


# -- alias match ---------------------------------------------------------------


def test_multi_word_match_beats_the_shorter_match_inside_it():
    lnk = linker(["new york", "new york times", "times"])
    assert linked(lnk, "Who owns the New York Times?") == [("new york times", "alias")]
    # the shorter name still links where it stands alone
    assert linked(lnk, "Who lives in New York?") == [("new york", "alias")]


def test_two_separate_names_both_link():
    lnk = linker(["acme robotics", "lisbon"])
    got = {x.entity_id: x.surface for x in lnk.link("Did Acme Robotics leave Lisbon?")}
    assert got == {"acme robotics": "acme robotics", "lisbon": "lisbon"}


def test_stop_words_and_one_or_two_letter_grams_are_ignored():
    lnk = linker(["will", "ai", "x", "acme"])
    assert linked(lnk, "Will AI help X or Acme?") == [("acme", "alias")]


def test_lowercase_common_words_are_not_linked_but_capitalised_names_are():
    lnk = linker(["apple", "the series", "model 3"])
    assert linked(lnk, "I ate an apple while I watched the series") == []
    assert linked(lnk, "Does Apple sell phones?") == [("apple", "alias")]
    assert linked(lnk, "Who wrote The Series?") == [("the series", "alias")]
    # a digit makes a gram name-like too
    assert linked(lnk, "how fast is model 3") == [("model 3", "alias")]


def test_aliases_map_to_their_entity():
    lnk = linker(
        ["acme robotics", "maria okafor", "acme foods"],
        {
            "acme robotics": ["Acme", "ACME R&D"],
            "acme foods": ["Acme"],
            "maria okafor": ["M. Okafor"],
        },
    )
    [one] = lnk.link("Who runs ACME R&D today?")
    assert (one.entity_id, one.surface, one.how, one.score) == (
        "acme robotics",
        "acme r&d",
        "alias",
        1.0,
    )
    # an alias shared by two entities links both
    assert {x.entity_id for x in lnk.link("Where is Acme?")} == {"acme robotics", "acme foods"}


def test_extracted_surface_that_is_an_alias_links_as_alias():
    lnk = linker(["maria okafor"], {"maria okafor": ["Okafor"]})
    # lower case in the question, so the n-gram rule skips it; the extractor's surface links it
    [one] = lnk.link("what did okafor found", ["Okafor"])
    assert (one.entity_id, one.how, one.score) == ("maria okafor", "alias", 1.0)


# -- fuzzy match ----------------------------------------------------------------
# trigrams of "  lisbon "  : "  l" " li" lis isb sbo bon "on "           (7)
# trigrams of "  lisbonn " : "  l" " li" lis isb sbo bon onn "nn "       (8), 6 shared
# trigrams of "  lisboa "  : "  l" " li" lis isb sbo boa "oa "           (7), 5 shared
# Dice: lisbonn 2*6/15 = 0.8, lisboa 2*5/14 = 0.714


def test_fuzzy_match_of_a_misspelling_above_the_threshold():
    lnk = linker(["lisbon", "porto"])
    [one] = lnk.link("Where is Lisbonn?", ["Lisbonn"])
    assert (one.entity_id, one.surface, one.how) == ("lisbon", "lisbonn", "fuzzy")
    assert one.score == pytest.approx(0.8)


def test_fuzzy_match_skips_entities_without_live_chunks():
    lnk = linker(["lisbon", "porto"], df=[0, 3])  # every chunk mentioning lisbon is gone
    assert lnk.link("Where is Lisbonn?", ["Lisbonn"]) == []


def test_fuzzy_match_below_the_threshold_is_dropped():
    lnk = linker(["lisbon", "porto"])
    assert lnk.link("Where is Lisboa?", ["Lisboa"]) == []  # 0.714 < 0.75
    strict = linker(["lisbon", "porto"], fuzzy_threshold=0.85)
    assert strict.link("Where is Lisbonn?", ["Lisbonn"]) == []  # 0.8 < 0.85
    loose = linker(["lisbon", "porto"], fuzzy_threshold=0.7)
    [one] = loose.link("Where is Lisboa?", ["Lisboa"])
    assert one.entity_id == "lisbon" and one.score == pytest.approx(10 / 14)


# -- weights and ordering -----------------------------------------------------------


def test_specificity_weight_decreases_with_df():
    lnk = linker(["a1", "a2", "a3", "a4"], df=[0, 1, 10, 100])
    weights = [lnk.weight(i) for i in range(4)]
    assert weights == sorted(weights, reverse=True) and len(set(weights)) == 4
    assert weights[0] == pytest.approx(1 / math.log(2))  # finite for an unmentioned entity
    assert weights[3] == pytest.approx(1 / math.log(102))


def test_one_result_per_entity_ordered_by_score_times_weight():
    lnk = linker(["acme robotics", "united states", "lisbon"], df=[100, 1, 0])
    # lisbon is linked twice (alias "Lisbon", fuzzy "Lisbonn"): one result, the alias one
    got = lnk.link("Did Acme Robotics leave Lisbon or Lisbonn for the United States?", ["Lisbonn"])
    assert [x.entity_id for x in got] == ["lisbon", "united states", "acme robotics"]
    assert [x.how for x in got] == ["alias", "alias", "alias"]
    assert got[0].score == 1.0 and got[0].surface == "lisbon"
    keys = [x.score * x.weight for x in got]
    assert keys == sorted(keys, reverse=True)


def test_a_rare_fuzzy_link_outranks_a_common_exact_one():
    lnk = linker(["acme robotics", "lisbon"], df=[100, 1])
    got = lnk.link("Did Acme Robotics leave Lisbonn?", ["Lisbonn"])
    assert [(x.entity_id, x.how) for x in got] == [("lisbon", "fuzzy"), ("acme robotics", "alias")]
    # 0.8 / log(3) = 0.73 against 1.0 / log(102) = 0.22
    assert got[0].score * got[0].weight > got[1].score * got[1].weight


def test_a_title_with_a_disambiguator_is_known_without_it():
    lk = linker(["girl who kicked the hornets nest film", "paris", "paris band"])
    assert lk.names_disambiguated("girl who kicked the hornets nest")
    assert not lk.names_disambiguated("girl who kicked")  # more than two words cut off
    assert not lk.names_disambiguated("girl who kicked the hornets nest again and again")
