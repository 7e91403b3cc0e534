"""Answer types: what a question expects, and whether an answer can be of that kind.

:func:`expected_type` reads the wh-phrase ("in which city" -> ``place``,
"which university" -> ``university``, "who" -> ``person``, "when" -> ``date``)
and :func:`noun_type` a head noun ("designer" -> ``person``).

Agreement: an answer of the wrong kind is not returned.

"In which city ...?" wants a place, "Which university ...?" a university,
"Who ...?" a person (or a group acting as one), "When ...?" a date. A small
reader often names the organisation its passage is about instead; this module
says when an answer plainly cannot be of the expected kind, so the pipeline can
ask again or abstain::

    >>> agrees("place", "Stratwell Instruments", label="ORG")
    False
    >>> agrees("university", "Stratwell Instruments", label="ORG")
    False
    >>> agrees("university", "University of Lagos", label="ORG")
    True
    >>> agrees("person", "Adaeze Nwosu", label="PERSON")
    True

The kind of an answer comes from what it says (an institution word such as
"University", a company word such as "Instruments" or "Ltd", a date, a number)
and from the label the knowledge graph gives the entity of that name. Labels of
a small NER model are noisy on rare names ("Toulouse" as a person, a director
as a place, a band as a person), so a label alone never rejects an answer: for
a name of two or more words it makes the answer ``unlikely`` (asked once more,
kept when the second look does no better); only the answer's own words do.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from spacy.tokens import Doc

#: What kind of answer a question expects (see :func:`expected_type`).
AnswerType = Literal[
    "person", "place", "location", "university", "organisation", "date", "number", "yes_no",
    "any",
]

#: Head nouns that name a person (beyond the -er/-or/-ist/-ian endings).
_PERSON_HEADS = frozenset({
    "person", "man", "woman", "wife", "husband", "son", "daughter", "father", "mother",
    "brother", "sister", "child", "children", "parent", "spouse", "chief", "head",
    "president", "ceo", "cto", "cfo", "king", "queen", "prince", "princess", "emperor", "pope",
    "star", "actor", "actress", "artist", "scientist", "chemist", "physicist", "novelist",
    "poet", "composer", "author", "director", "sponsor", "captain", "coach", "mayor",
    "governor", "senator", "minister", "chancellor", "premier", "heir", "successor",
    "predecessor", "founder", "co-founder", "cofounder", "owner", "creator", "inventor",
    "architect", "engineer", "designer", "editor", "host", "presenter", "narrator", "singer",
    "vocalist", "guitarist", "drummer", "rapper", "musician", "lead", "leader", "member",
    "friend", "colleague", "manager", "analyst", "student", "graduate", "professor", "teacher",
    "player", "athlete", "winner", "runner-up", "champion", "candidate", "nominee",
    "mentor", "supervisor", "patron", "saint", "bishop", "general", "admiral", "officer",
    "resident", "citizen", "native", "nephew", "niece", "uncle", "aunt", "cousin", "grandson",
    "granddaughter", "grandfather", "grandmother", "widow", "fiancé", "fiancee", "girlfriend",
    "boyfriend", "lover", "godfather", "godmother", "producer", "writer", "performer",
})
#: -er/-or nouns that are not people (or organisations acting as people).
_NOT_PERSON_ER = frozenset({
    "river", "tower", "center", "centre", "number", "border", "chapter", "water", "paper",
    "theater", "theatre", "computer", "letter", "order", "member", "quarter", "thriller",
    "bestseller", "blockbuster", "cover", "poster", "banner",
    "meter", "metre", "corridor", "sensor", "monitor", "motor", "sector", "factor", "floor",
    "door", "error", "colour", "color", "harbour", "harbor", "laser", "container", "cluster",
    "layer", "server", "power", "flower", "winter", "summer", "character", "matter",
    "counter", "filter", "folder", "transmitter", "receiver", "processor", "controller",
    "detector", "reactor", "generator", "calendar", "pillar", "collar", "headquarter",
    # devices and parts ("the card readers", "the traction motors" of a product)
    "reader", "scanner", "printer", "charger", "router", "adapter", "adaptor", "connector",
    "projector", "compressor", "converter", "inverter", "transformer", "amplifier", "heater",
    "boiler", "burner", "cylinder", "radiator", "regulator", "actuator", "indicator",
    "elevator", "tractor", "trailer", "locomotor", "refrigerator", "freezer", "thermometer",
    "barometer", "transistor", "resistor", "capacitor", "semiconductor", "encoder", "decoder",
    "timer", "dispenser", "simulator", "accelerator", "propeller", "helicopter", "carburettor",
    "carburetor", "speedometer", "odometer", "roller", "shutter", "buffer", "cooler", "fryer",
})
_PLACE_HEADS = frozenset({
    "city", "town", "village", "country", "state", "county", "region", "province", "capital",
    "island", "continent", "place", "location", "district", "birthplace", "hometown", "nation",
    "municipality", "borough", "suburb", "neighbourhood", "neighborhood", "territory",
    "kingdom", "republic", "prefecture", "parish", "commune", "department", "canton",
    "peninsula", "archipelago", "valley", "coast", "port", "site", "settlement", "metropolis",
    "colony", "landmark", "headquarters",
})
_UNIVERSITY_HEADS = frozenset({"university", "college", "school", "institute", "academy",
                               "conservatory", "polytechnic", "seminary", "universities",
                               "mater"})  # "alma mater"
_ORG_HEADS = frozenset({
    "company", "firm", "organisation", "organization", "team", "band", "group", "association",
    "society", "club", "party", "agency", "customer", "client", "supplier", "vendor",
    "manufacturer", "publisher", "label", "network", "broadcaster", "airline", "corporation",
    "business", "startup", "brand", "bank", "studio", "office", "department", "ministry",
    "government", "council", "committee", "league", "federation", "union", "orchestra",
    "choir", "ensemble", "institution", "charity", "foundation", "lab", "laboratory",
    "newspaper", "magazine", "station", "channel", "franchise", "employer", "subsidiary",
    "competitor", "rival", "distributor", "retailer", "contractor", "partner", "sponsor",
})
_PREPOSITIONS = frozenset({"in", "of", "at", "on", "for", "from", "to", "by", "with", "into",
                           "under", "during", "after", "before", "about"})
_WH = frozenset({"which", "what", "whose", "who", "whom", "when", "where", "how"})
_AUXILIARIES = frozenset({"do", "does", "did", "is", "are", "was", "were", "has", "have", "had"})
_WHEN = re.compile(r"^\s*when\b|\b(?:what|which)\s+(?:year|decade|century|date|month|day)\b",
                   re.I)
_HOW_MANY = re.compile(r"\bhow\s+(?:many|much|old|long|tall|far|high|large|big)\b", re.I)


def expected_type(question: str, doc: Doc | None = None) -> AnswerType:
    """The kind of answer the question's wh-phrase asks for.

    >>> expected_type("In which city is Stratwell Instruments based?")
    'place'
    >>> expected_type("Which university did Adaeze Nwosu attend?")
    'university'
    >>> expected_type("Who designed the Kestrel Station?")
    'person'
    >>> expected_type("How many employees does Stratwell have?")
    'number'
    >>> expected_type("What is the state where Pocahontas Mounds is located?")
    'place'

    A relative "which" is passed over for the wh-phrase after it:

    >>> expected_type("He coaches at a University which has a campus in which city?")
    'place'
    >>> expected_type("Name the city where the publisher of Saltglass is headquartered.")
    'place'
    """
    q = re.sub(r"(?i)\b(what|who|where)['’]s\b", r"\1 is", question.strip())  # "What's the"
    low = q.lower()
    named = re.match(r"^\s*(?:please\s+)?(?:name|list|give|identify)\s+(?:me\s+)?(?:the|a|an)\s+"
                     r"((?:[a-z]+\s+){0,2}[a-z]+)", low)  # "Name the city where ..."
    if named is not None:
        for noun in named.group(1).split():
            if noun_type(noun) != "any":
                return noun_type(noun)
    if _WHEN.search(low):
        return "date"
    if _HOW_MANY.search(low):
        return "number"
    words = re.findall(r"[a-z][a-z'-]*", low)
    for i, w in enumerate(words):
        if w not in ("which", "what", "whose"):
            continue
        if w != "what" and i > 0 and words[i - 1] not in _PREPOSITIONS and any(
                x in _WH for x in words[i + 1:]):
            continue  # "The band whose singer is X was formed in which city?": a relative word
        if words[i + 1 : i + 3] in (["is", "the"], ["was", "the"]):  # "What is the state where"
            kind = noun_type(words[i + 3]) if len(words) > i + 3 else "any"
            if kind != "any":
                return kind
        relative = False
        for noun in words[i + 1 : i + 4]:
            kind = noun_type(noun)
            if kind != "any":
                return kind
            if noun in _AUXILIARIES:
                # "a University which also has ... in which city?": a relative clause
                relative = i > 0 and words[i - 1] not in _PREPOSITIONS
                break
        if not relative:
            break
    if re.match(r"^\s*(?:\w+\s+)?where\b", low) or re.search(r"\bwhere\s*\?\s*$", low):
        return "location"  # a place, or an institution ("Where did she study?")
    if re.match(r"^\s*(?:\w+\s+)?(?:who|whom)\b", low) or re.search(r"\bwhom?\s*\?\s*$", low):
        return "person"
    return "any"


def noun_type(noun: str) -> AnswerType:
    """The answer type a head noun names ("city" -> place, "designer" -> person)."""
    n = noun.lower()
    if n in _UNIVERSITY_HEADS:
        return "university"
    if n in _PLACE_HEADS:
        return "place"
    if n in ("year", "decade", "century", "date", "month", "day"):
        return "date"
    if is_person_noun(n):
        return "person"
    if n in _ORG_HEADS or n.rstrip("s") in _ORG_HEADS:
        return "organisation"
    return "any"


def is_person_noun(noun: str) -> bool:
    """Whether a common noun names a person: a listed one or an agent noun ("designer")."""
    n = noun.lower()
    if n in _PERSON_HEADS or n.rstrip("s") in _PERSON_HEADS:
        return True
    if n in _NOT_PERSON_ER or n[:-1] in _NOT_PERSON_ER or n in _ORG_HEADS or \
            n.rstrip("s") in _ORG_HEADS:  # "motors" as "motor"
        return False
    return len(n) > 4 and n.endswith(("er", "or", "ist", "ian", "ee", "ers", "ors", "ists"))

_EDU = re.compile(r"\b(?:universit\w*|college|institute|school|academy|polytechnic|conservatoire|"
                  r"conservatory|seminary|faculty|hochschule|école|ecole|universidad|università|"
                  r"universität|universite|université)\b", re.I)
_COMPANY = re.compile(
    r"\b(?:inc|ltd|llc|plc|gmbh|corp|corporation|company|co|instruments|industries|systems|"
    r"technologies|technology|labs|group|holdings|partners|bank|airways|airlines|motors|"
    r"components|rail|railways|media|records|studios|pictures|enterprises|solutions|"
    r"services|consulting|foods|cooperative|vineyards|orchards|authority|agency|ministry|"
    r"association|society|foundation|council|committee|club|team|band|party|league|"
    r"federation|union|network|broadcasting|magazine|newspaper|robotics|logistics|"
    r"electronics|software|energy|capital|ventures|insurance|pharmaceuticals|airport|"
    r"hospital|museum|church|cathedral|games|studio|entertainment|interactive|publishing|"
    r"publishers|press)\b\.?", re.I)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"^\s*(?:(?:in|on|around|about|circa|c\.)\s+)?(?:\d{{1,2}}\s+)?"
                   rf"(?:(?:{_MONTHS})\.?\s+)?(?:\d{{1,2}},?\s+)?\d{{3,4}}s?\s*$|"
                   rf"^\s*(?:{_MONTHS})\.?\s+\d{{1,2}}(?:,?\s+\d{{4}})?\s*$", re.I)
_NUMBER = re.compile(r"^\s*(?:about|around|over|nearly|some|approximately)?\s*[\d.,]+\s*\S{0,12}$")

#: Entity labels (spaCy's) that name each kind.
_PERSON_LABELS = frozenset({"PERSON"})
_PLACE_LABELS = frozenset({"GPE", "LOC"})
_ORG_LABELS = frozenset({"ORG", "NORP"})


def answer_kind(answer: str, label: str | None = None) -> tuple[str, bool]:
    """``(kind, strong)``: what ``answer`` is and whether that is certain.

    Kinds: ``university``, ``organisation``, ``person``, ``place``, ``date``,
    ``number`` or ``other``. Words of the answer are strong evidence; a graph
    label is strong for names of two or more words.
    """
    text = answer.strip()
    if _EDU.search(text):
        return "university", True
    if _DATE.match(text):
        return "date", True
    if _NUMBER.match(text) and not re.search(r"[A-Za-z]{3,}", text.split()[0] if text else ""):
        return "number", True
    if _COMPANY.search(text):
        return "organisation", True
    strong = len(text.split()) >= 2
    if label in _PERSON_LABELS:
        return "person", strong
    if label in _PLACE_LABELS:
        return "place", strong
    if label in _ORG_LABELS:
        return "organisation", strong
    return "other", False


#: For each expected type, the kinds that cannot answer it (when strong).
_CONFLICTS: dict[str, frozenset[str]] = {
    "person": frozenset({"place", "date", "number", "university"}),
    "place": frozenset({"person", "organisation", "university", "date", "number"}),
    "location": frozenset({"person", "date", "number"}),
    "university": frozenset({"person", "place", "organisation", "date", "number"}),
    "organisation": frozenset({"person", "date", "number"}),
}


#: Kinds that can answer but seldom do: "Who designed X?" is rarely a company.
_UNLIKELY: dict[str, frozenset[str]] = {
    "person": frozenset({"organisation"}),
}

Fit = Literal["yes", "unlikely", "no"]


def fit(expects: AnswerType | str, answer: str, *, label: str | None = None) -> Fit:
    """``yes``, ``unlikely`` (worth asking again) or ``no`` (never return it).

    ``label`` is the knowledge graph's label for the entity named ``answer``, if
    one is known. Types with no conflicts (``any``, ``yes_no``; ``date`` and
    ``number`` are checked by the grounding step) always fit.
    """
    if expects == "person" and len(answer.split()) >= 3 and not re.search(r"\b[A-Z]", answer):
        return "no"  # a description ("privately funded foundation created to ..."), no name
    kind, strong = answer_kind(answer, label)
    if not strong:
        return "yes"
    if kind in _CONFLICTS.get(expects, frozenset()):
        # the answer's own words ("University", "Ltd", a date) rule it out; a graph label
        # only makes it unlikely: a small NER model calls a director "LOC", a band "PERSON"
        return "no" if answer_kind(answer)[0] == kind else "unlikely"
    if kind in _UNLIKELY.get(expects, frozenset()):
        return "unlikely"
    return "yes"


def agrees(expects: AnswerType | str, answer: str, *, label: str | None = None) -> bool:
    """Whether ``answer`` can be of the kind ``expects`` (see :func:`fit`)."""
    return fit(expects, answer, label=label) != "no"
