"""An answer that is the entity the question describes, not the one it asks for.

A small reader given "Notable speakers at the Brisbane Institute include a
painter known for his precisionist depictions of what?" often answers "Jeffrey
Smart": the painter, found in the passage that names him, rather than what he
painted. The question described him ("a painter") to ask something about him;
he is the first hop of a bridge the question analysis did not split (the
description carries no name to anchor a sub-question), and the reader took the
hop and stopped.

:func:`descriptions` finds a question's descriptive noun phrases ("a painter",
"an American actress", "the founder and lead guitarist") outside its wh-phrase,
and :func:`described_by` tells, from the evidence, whether an answer is one of
them: the answer's own words end in the phrase's head noun ("Cartoon Network" for
"a network"), or a passage defines the answer with it ("Jeffrey Smart (1921 -
2013) was an Australian painter ...", "Paul Gross, a Canadian actor, ..."). The
question is then asked again with the answer named beside its description
("... include Jeffrey Smart, a painter known for ...?"), which is the second hop
of the chain (``pipelines.qa``).

Not a description: the wh-phrase's own noun ("which rapper" asks for a
rapper) or its "of" phrase ("What part of the state ...?" is answered within
the state), a predicate after "is/was" ("Who was the actress who ...?" asks for
the actress herself), a phrase said of a name the question gives ("Anders
Holm, a Danish engineer, ...", "the Danish engineer Anders Holm"), nouns that
name no entity ("the name", "the year"); and none at all in a question that
asks for a name ("The fiddler from Quimper is called what?", "What is the
name of the engineer who ...?").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgqa.text import strip_accents
from pipelines.answer_type import is_person_noun
from pipelines.modifier_check import is_nationality

if TYPE_CHECKING:
    from spacy.tokens import Token

_DETERMINERS = frozenset({"the", "a", "an"})
_BE = frozenset({"is", "are", "was", "were", "be", "been", "being", "become", "becomes", "became",
                 "remain", "remains", "remained"})
_RUN_TAGS = frozenset({"JJ", "JJR", "JJS", "CD", "HYPH", "NN", "NNS", "NNP", "NNPS", "VBN",
                       "VBG"})


@dataclass(frozen=True)
class Description:
    """A noun phrase of a question that describes an entity other than the answer.

    ``phrase`` runs from the determiner to the last head noun ("the founder and
    lead guitarist"); ``start`` is its character offset in the question;
    ``heads`` are its head nouns, lower case ("founder", "guitarist");
    ``asks_within`` says the wh-phrase comes after it ("a painter known for his
    depictions of what?"), so the words from the phrase on ask about its entity.
    """

    phrase: str
    start: int
    heads: tuple[str, ...]
    asks_within: bool = False

    def name_in(self, question: str, answer: str) -> str:
        """``question`` asked of ``answer``, the entity the phrase describes.

        When the wh-phrase comes after the phrase, the words from the phrase on
        are the question, with the name before them; otherwise the name is put
        before the phrase in place:

        >>> Description("a painter", 42, ("painter",), True).name_in(
        ...     "Notable speakers at the Institute include a painter known for what?",
        ...     "Jeffrey Smart")
        'Jeffrey Smart, a painter known for what?'
        >>> Description("the founder", 20, ("founder",)).name_in(
        ...     "Under what name did the founder of the band record?", "Steven Wilson")
        'Under what name did Steven Wilson, the founder of the band record?'
        """
        phrase = question[self.start:]
        if self.start == 0 or self.asks_within:
            phrase = phrase[:1].lower() + phrase[1:]
        before = "" if self.asks_within else question[: self.start]
        return f"{before}{answer}, {phrase}"


def descriptions(tokens: Sequence[Token], wh: tuple[int, int] | None,
                 not_entities: Collection[str]) -> tuple[Description, ...]:
    """The descriptive noun phrases of a tagged question (see the module docstring).

    ``wh`` is the token range of the wh-phrase (its nouns are what is asked for);
    ``not_entities`` are head nouns that name no entity ("year", "name").
    """
    if tokens and _ASKS_NAME.search(tokens[0].doc.text):
        return ()  # "The fiddler from Quimper is called what?": the described one is asked for
    asked = {t.lower_ for t in tokens[wh[0]:wh[1]]} if wh is not None else set()
    found = []
    for i, tok in enumerate(tokens):
        if tok.lower_ not in _DETERMINERS or (wh is not None and wh[0] <= i < wh[1]):
            continue
        if i > 0 and tokens[i - 1].lower_ in _BE | {"as"}:
            continue  # "Who was the actress ...", "resigned as the president": a predicate
        if wh is not None and i == wh[1] + 1 and tokens[wh[1]].lower_ == "of":
            continue  # "What part of the state ...": the answer lies within it
        if i > 1 and tokens[i - 1].text == "," and _is_name(tokens[i - 2]):
            continue  # "Anders Holm, a Danish engineer, ...": said of a name the question gives
        heads: list[str] = []
        last = i
        j = i + 1
        while j < len(tokens):
            t = tokens[j]
            if t.tag_ in _RUN_TAGS and not (t.tag_ in ("VBN", "VBG") and heads):
                if t.tag_ in ("NN", "NNS") and t.is_lower and t.is_alpha and not (
                        j + 1 < len(tokens) and tokens[j + 1].tag_ in ("NN", "NNS", "HYPH")):
                    heads.append(t.lower_)
                    last = j
                j += 1
            elif t.lower_ in ("and", "&") and heads and j + 1 < len(tokens) and \
                    tokens[j + 1].tag_ in _RUN_TAGS:
                j += 1  # "the founder and lead guitarist"
            elif t.text == "," and tokens[j - 1].tag_ == "CD" and j + 1 < len(tokens) and \
                    tokens[j + 1].tag_ == "CD":
                j += 1  # "the October 27, 1999 episode"
            else:
                break
        kept = tuple(h for h in heads if h not in asked and h not in not_entities and len(h) > 2)
        if any(_is_name(t) for t in tokens[last + 1 : j]):
            continue  # "the Danish engineer Anders Holm": named in the question
        if any(_is_name(t) and not is_nationality(t.text) and t.lower_ not in _CALENDAR
               for t in tokens[i + 1 : last]) and not any(is_person_noun(h) for h in heads):
            continue  # "the Skagsund strait", "the Ossa project": a named thing (not "the
            # October 27, 1999 episode")
        if kept:
            start = tok.idx
            end = tokens[last].idx + len(tokens[last].text)
            found.append(Description(tokens[0].doc.text[start:end], start, kept,
                                     asks_within=wh is not None and wh[0] > i))
    return tuple(found)


_CALENDAR = frozenset({"january", "february", "march", "april", "may", "june", "july", "august",
                       "september", "october", "november", "december", "monday", "tuesday",
                       "wednesday", "thursday", "friday", "saturday", "sunday"})


def _is_name(token: Token) -> bool:
    return token.tag_ in ("NNP", "NNPS") and not token.is_lower and not token.is_sent_start


# "... is called what?", "what was her name?", "Name the fiddler ...": the question asks
# for the described entity itself
_ASKS_NAME = re.compile(r"\b(?:called|named|known\s+as)\s+(?:what|whom?)\b|"
                        r"\bwhat\s+(?:is|was|are|were)\s+(?:its|his|her|their|the)\s+names?\b|"
                        r"^\s*name\b|\bnames?\s+of\s+(?:the|a|an)\b", re.I)


def described_by(answer: str, found: Sequence[Description],
                 passages: Sequence[tuple[str, str]]) -> Description | None:
    """The description of ``found`` that ``answer`` is, by the evidence, or ``None``.

    ``passages`` are (title, text) pairs the answer was read from. The answer is
    a description's entity when its last word is the head noun ("Cartoon
    Network", "a network"), or when a passage defines it with the head noun: a
    sentence where the answer (or, in the passage titled with it, the first
    sentence's subject) is followed by "is/was ..." or ", a/an/the ..." whose
    words before the first preposition or relative word include the head.
    """
    if not found or not answer.strip():
        return None
    words = _words(answer)
    if not words:
        return None
    for d in found:
        if plural_of(words[-1], d.heads):
            return d
    predicates = [p for title, text in passages for p in definitions(answer, title, text)]
    for d in found:
        if any(plural_of(w, d.heads) for p in predicates for w in p):
            return d
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", strip_accents(text).lower())


def plural_of(word: str, heads: Collection[str]) -> bool:
    """Whether ``word`` is one of ``heads`` or its plural."""
    return word in heads or (word.endswith("s") and word[:-1] in heads) or (
        word.endswith("es") and word[:-2] in heads)


_PAREN = re.compile(r"\s*\([^()]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
# "X, a ...", "X is ...", "X, on average, is ...", '"X" is ...' (a title in quotes), "born
# Y, better known as X, is ..."
_COPULA = re.compile(r"^[\"\u201d]?\s*(?:,\s*(?=(?:a|an|the)\b)|,?\s*(?:,[^,.;]{1,30},\s*)?"
                     r"(?:is|was|are|were)\s+(?:also\s+)?)", re.I)
_FIRST_COPULA = re.compile(r"^[^.;]{0,160}?\b(?:is|was|are|were)\s+(?:also\s+)?", re.I)
_PREDICATE_STOP = frozenset({
    "who", "whom", "whose", "that", "which", "where", "when", "known", "best", "of", "for",
    "from", "in", "with", "by", "at", "on", "to", "as", "since", "during", "after", "before",
    "under", "into", "than", "until", "while", "about", "born", "founded", "based", "has", "had",
    "have", "is", "was", "are", "were", "became"})


def definitions(answer: str, title: str, text: str) -> list[list[str]]:
    """The defining predicates of ``answer`` in one passage titled ``title``, as lists of
    lower-case words ("X is a 1998 Telugu comedy film, produced by ..." -> ``["1998",
    "telugu", "comedy", "film", "produced"]``)."""
    flat = _PAREN.sub("", strip_accents(text))
    name = strip_accents(answer).strip()
    sentences = _SENTENCE_END.split(flat.strip())
    found = []
    titled = _words(title) == _words(answer)
    for k, sentence in enumerate(sentences):
        for m in re.finditer(re.escape(name), sentence, re.I):
            rest = _COPULA.match(sentence[m.end():])
            if rest is not None:
                found.append(_predicate(sentence[m.end() + rest.end():]))
        if titled and k == 0 and not re.search(re.escape(name), sentence, re.I):
            first = _FIRST_COPULA.match(sentence)  # "Benjamin Stokes is ..." for "Ben Stokes"
            if first is not None:
                found.append(_predicate(sentence[first.end():]))
    return found


def _predicate(text: str) -> list[str]:
    words: list[str] = []
    for w in re.findall(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*|[;:.!?]", text):
        low = w.lower()
        if low == "of" and words and (words[-1].endswith("est") or words[-1] == "one"):
            continue  # "the coldest of Earth's continents", "one of the painters"
        if low in _PREDICATE_STOP or w in ";:.!?":
            break
        words.extend(low.split("-"))  # "singer-songwriter", "New Zealand-born"
    return words


__all__ = ["Description", "definitions", "described_by", "descriptions", "plural_of"]
