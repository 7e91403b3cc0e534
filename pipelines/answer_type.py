"""Answer-type agreement: an answer of the wrong kind is not returned.

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
a small NER model are noisy on rare names ("Toulouse" as a person), so a label
alone rejects an answer only when it is strong: a name of two or more words.
"""

from __future__ import annotations

import re
from typing import Literal

from pipelines.question_shape import AnswerType

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
    r"hospital|museum|church|cathedral)\b\.?", re.I)
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
    kind, strong = answer_kind(answer, label)
    if not strong:
        return "yes"
    if kind in _CONFLICTS.get(expects, frozenset()):
        return "no"
    if kind in _UNLIKELY.get(expects, frozenset()):
        return "unlikely"
    return "yes"


def agrees(expects: AnswerType | str, answer: str, *, label: str | None = None) -> bool:
    """Whether ``answer`` can be of the kind ``expects`` (see :func:`fit`)."""
    return fit(expects, answer, label=label) != "no"
