"""The candidate whose evidence states most of a question that describes its answer.

A question can describe its answer with several facts: "Which Telugu comedy
produced by D. P. Varma had music by the only female music director?", "Who
performed in both Welcome to the Show and the band f(x)?", "... featured a
guest appearance by which rapper, actor, and model from Harlem?". A small
reader often names an entity that fits the first fact it reads (another comedy
of the same year, the first actor of the cast list, a guest of another album of
the same artist) while another passage it was shown states the whole
description of a different one.

:func:`answer_description` finds such questions from the parse: the wh-phrase
is the subject ("Which N verb ...", "Who verb ...") or closes the question with
words of its own after its noun ("by which rapper, actor, and model from
Harlem"). Not one: "Which show does X host?" (the description is X's), "...
the second wife of what singer?" (nothing describes the singer).

:func:`better_described` then weighs the evidence. A candidate is the subject
of a shown passage whose defining sentence calls it one of the asked nouns
("Navvulata is a 1998 Telugu comedy film ..." for "which comedy"; any person
noun for "who"). A name's evidence is its own passage, the shown passages about
names that passage gives, and the sentences of the other shown passages that
name it, each with that passage's subject ("Since 2009 it has been led by X" is
about the foundry the passage is about). Its coverage is the question's words
found there (its own words and words of time aside), stemmed by Porter2 (NLTK's
Snowball stemmer), each weighted by how few of the shown passages hold it, a
local inverse document frequency (Sparck Jones, 1972), so words every passage
shares decide nothing. A candidate replaces the reader's answer only when its
coverage exceeds the answer's by a margin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from kgqa.text import unqualified
from kgqa.types import Answer, Refusal
from llm.grounding import ground_answer, sentence_spans
from llm.words import STOP
from llm.words import tokens as words_of
from pipelines.answer_form import in_asked_form
from pipelines.answer_type import AnswerType, fit, is_person_noun
from pipelines.described import definitions, plural_of
from pipelines.question_parts import AUX, BE, DO, NOUN_TAGS

if TYPE_CHECKING:
    from nltk.stem.api import StemmerI
    from spacy.tokens import Token

    from kgqa.types import Hit

# words that say when, not what: "Who leads X today?" is not answered by a passage's "today"
_NOT_DESCRIPTION = STOP | {"which", "what", "who", "name", "one", "two", "today", "now",
                           "currently", "current", "still", "ever", "once", "later",
                           "recently", "formerly", "presently"}


@dataclass(frozen=True)
class AnswerDescription:
    """What a question says of its answer: ``heads`` are the wh-phrase's nouns, lower
    case ("comedy"; none for "who"), ``person`` whether a person is asked for, and
    ``words`` the question's content words, stemmed (Porter2: NLTK's Snowball stemmer)."""

    heads: tuple[str, ...]
    person: bool
    words: tuple[str, ...]


def answer_description(tokens: Sequence[Token],
                       wh: tuple[int, int] | None) -> AnswerDescription | None:
    """The description of the answer when the question is one (module docstring), from
    the question's tokens and its wh-phrase's token range
    (:func:`pipelines.question_parts.wh_phrase`); else ``None``."""
    if wh is None:
        return None
    start, end = wh
    at = next((i for i in range(start, end) if tokens[i].lower_ in ("which", "what", "who")),
              None)
    if at is None:
        return None
    word = tokens[at].lower_
    heads = tuple(t.lower_ for t in tokens[at + 1 : end] if t.tag_ in ("NN", "NNS"))
    if word != "who" and not heads:
        return None
    after = [t for t in tokens[end:] if not t.is_punct]
    if at == 0:  # the wh-phrase opens the question: is it the subject?
        if not after or after[0].lower_ in DO or after[0].lower_ in AUX - BE:
            return None  # "Which show does X host?"
        if after[0].lower_ in BE and len(after) > 1 and (
                after[1].tag_ in NOUN_TAGS | {"PRP", "PRP$"} or
                (after[1].tag_ == "DT" and word != "who")):
            return None  # "Which city was the band formed in?", "Who was Audrey pregnant with?"
    else:  # the wh-phrase must close the question and say more than its noun
        if any(t.tag_.startswith("VB") for t in after) or not after:
            return None
    said = tokens if at == 0 else tokens[at:]  # a closing wh-phrase: its own words
    words = tuple(dict.fromkeys(
        _stem(w) for t in said if not t.is_punct for w in words_of(t.text)
        if w not in _NOT_DESCRIPTION))
    person = word == "who" or any(is_person_noun(h) for h in heads)
    return AnswerDescription(heads, person, words)


@dataclass(frozen=True)
class Covered:
    """A candidate that states more of the question than the reader's answer: its
    ``name``, the 1-based numbers of the shown passages that are its evidence (its own
    first), and both coverages (sums of word weights)."""

    name: str
    passages: tuple[int, ...]
    coverage: float
    answer_coverage: float


def better_described(description: AnswerDescription, answer: str, question: str,
                     shown: Sequence[Hit], margin: float = 1.0,
                     expects: AnswerType | str = "any") -> Covered | None:
    """The shown passages' subject that states more of ``description`` than ``answer``'s
    evidence does, by at least ``margin``; ``None`` when none does (module docstring).

    ``shown`` are the passages the reader saw, numbered from 1 in order. A candidate
    whose own words make it unlikely of the kind ``expects`` ("Cinderpath Press" for a
    person: :func:`pipelines.answer_type.fit`) is none.
    """
    if len(shown) < 2 or not answer.strip():
        return None
    sentences = [[set(stems(h.chunk.text[a:b])) for a, b in sentence_spans(h.chunk.text)]
                 for h in shown]
    held = [set().union(*s) if s else set() for s in sentences]
    subjects = [stems(unqualified(h.title)) for h in shown]
    weight = {w: math.log(1 + len(shown) / (1 + sum(w in h for h in held)))
              for w in description.words}

    def evidence(name: str) -> tuple[float, tuple[int, ...]]:
        own = stems(name)
        if not own:
            return 0.0, ()
        found: set[str] = set()
        passages: list[int] = []
        mine: set[int] = set()  # its own passage
        for i in range(len(shown)):
            if subjects[i] == own:
                found |= held[i]
                passages.append(i + 1)
                mine.add(i + 1)
                # a shown passage about a name its own passage gives is its evidence too
                # ("Navvulata ... music composed by M. M. Srilekha" and Srilekha's passage)
                for j, other in enumerate(subjects):
                    if j != i and other and other != own and all(w in held[i] for w in other):
                        found |= held[j]
                        passages.append(j + 1)
                continue
            naming = [s for s in sentences[i] if all(w in s for w in own)]
            if naming:  # a passage's sentences speak of its subject ("It was led by X")
                found = found.union(*naming, subjects[i])
                passages.append(i + 1)
        return sum(weight[w] for w in description.words if w in found and w not in own), \
            tuple(sorted(set(passages), key=lambda n: (n not in mine, n)))

    answer_coverage, _ = evidence(answer)
    answer_words = set(stems(answer))
    asked = set(stems(question))
    best: Covered | None = None
    for h in shown:
        name = unqualified(h.title)
        own = stems(name)
        if not own or set(own) <= answer_words or answer_words <= set(own) or set(own) <= asked or \
                fit(expects, name) != "yes" or not _defined_as(name, h, description):
            continue  # the answer itself (or a form of it), or a name the question gives
        coverage, passages = evidence(name)
        if coverage >= answer_coverage + margin and (best is None or coverage > best.coverage):
            best = Covered(name, passages, coverage, answer_coverage)
    return best


def answer_described(description: AnswerDescription, final: Answer, question: str,
                     expects: AnswerType | str, shown: Sequence[Hit],
                     document_text: Callable[[str], str] | None = None) -> Answer:
    """``final``, or the answer naming the candidate of :func:`better_described` with
    checked citations of its evidence (its own passage, then one more) and the reader's
    reply among ``refused``, saying why. ``shown`` are the passages the reader saw."""
    better = better_described(description, final.text, question, shown, expects=expects)
    if better is None:
        return final
    marks = "".join(f"[{n}]" for n in better.passages[:2])
    chosen = ground_answer(question, f"{better.name} {marks}", shown, document_text=document_text)
    if chosen.abstained:
        return final
    why = f"{better.name}'s passages state more of the question"
    return replace(in_asked_form(chosen, question, expects), hits=final.hits,
                   refused=(*final.refused, Refusal(final.text, why)))


def _defined_as(name: str, hit: Hit, description: AnswerDescription) -> bool:
    """Whether ``hit`` (titled ``name``) defines its subject as one of the asked nouns."""
    predicates = definitions(name, hit.title, hit.chunk.text)
    if description.heads:
        return any(plural_of(w, description.heads) for p in predicates for w in p)
    return description.person and any(is_person_noun(w) for p in predicates for w in p)


def stems(text: str) -> list[str]:
    """The content words of ``text`` as coverage compares them: lower case, stemmed."""
    return [_stem(w) for w in words_of(text) if w not in _NOT_DESCRIPTION]


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """``word`` stemmed by Porter2, as NLTK's Snowball stemmer implements it: "resigned"
    and "resignation" -> "resign", "designer" and "designed" -> "design"."""
    return _porter2().stem(word)


@lru_cache(maxsize=1)
def _porter2() -> StemmerI:
    from nltk.stem.snowball import SnowballStemmer  # importing NLTK takes a second: on use

    return SnowballStemmer("english")
