"""An extractive reader for names and dates: the entity a passage names right where
it says what the question asks, read off when the generative reader found nothing.

The small generative reader sometimes gives up on a question whose answer a
passage states plainly ("He previously served as chief of staff to Queensland
Senator Barnaby Joyce" for "... chief of staff to which Queensland Senator
...?"), or restates the question's own subject, which grounding refuses. When
a question expects a person, a place, an organisation, a university or a date
and no checked answer came back, the pipeline reads one off the evidence, as
the IR-based question answering systems before neural readers did (the answer
is the entity of the expected type nearest the question's words in the
passage that matches the question best; Harabagiu et al., FALCON, TREC 2000).

A sentence is scored on the question's content words it shares (the passage's
title counts too), plus one for each pair of neighbouring question words it has
as neighbours ("second campus"); it needs three, and two of them in the
sentence itself. Its candidates are the names in it (runs of capitalised words,
"of"/"de"/"von" inside) that share no word with the question and that the
knowledge graph knows with a label of the expected kind (``PERSON`` for a
person; ``GPE``, ``LOC``, ``FAC`` for a place; ``ORG`` for an organisation; a
university is an organisation called University, College, Institute...), or,
for a date, the dates the sentence states. The best sentence wins (ties: the
better-ranked passage, the earlier sentence); within it, the candidate nearest
a shared question word. The answer is then grounded like any reply.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence

from kgqa.types import Hit
from llm.grounding import _MONTHS, _content_tokens, _found, _stem, _tokens, sentence_spans

# a name: capitalised words, with lower-case particles between them
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|del|da|di|von|van|der|la|le|the|and)\s+)?[A-Z][\w'’.-]*)*"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTHS})\s+\d{{4}}|(?:{_MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|"
    rf"(?:{_MONTHS})\s+\d{{4}}|1[0-9]{{3}}|20[0-9]{{2}})\b",
    re.I,
)
_LABELS = {
    "person": frozenset({"PERSON"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "location": frozenset({"GPE", "LOC", "FAC"}),
    "organisation": frozenset({"ORG"}),
    "university": frozenset({"ORG", "FAC"}),
}
_SCHOOL = re.compile(r"\b(?:Universit\w*|College|Institute|School|Academy|Conservatory)\b")
_LEADING = frozenset({"the", "a", "an", "he", "she", "it", "they", "his", "her", "its", "their",
                      "in", "on", "at", "by", "from", "after", "before", "during", "since"})
MIN_SCORE = 3  # shared words (sentence and title) plus neighbouring pairs


def read_span(question: str, hits: Sequence[Hit], expects: str,
              label_of: Callable[[str], str | None]) -> tuple[str, int] | None:
    """The name or date that answers ``question`` and the 1-based number of its
    passage in ``hits``, or ``None`` (see the module docstring).

    ``label_of`` gives the knowledge graph's label of a name (None: unknown).
    """
    if expects != "date" and expects not in _LABELS:
        return None
    q_tokens = [_stem(w) for w in _tokens(question) if w in _content_tokens(w)]
    q_words = set(q_tokens)
    pairs = set(itertools.pairwise(q_tokens))
    best: tuple[int, int, int, int, str] | None = None  # (-score, passage, sentence, gap, text)
    for n, hit in enumerate(hits, start=1):
        text = hit.chunk.text
        title = {_stem(w) for w in _content_tokens(hit.title)}
        for s_no, (s, e) in enumerate(sentence_spans(text)):
            sentence = text[s:e]
            tokens = [_stem(w) for w in _tokens(sentence)]
            shared = {w for w in q_words if _found(w, set(tokens))}
            if len(shared) < 2:
                continue
            score = len(shared) + len((title & q_words) - shared)
            score += len(pairs & set(itertools.pairwise(tokens)))
            if score < MIN_SCORE or (best is not None and -score > best[0]):
                continue
            for start, value in _candidates(sentence, expects, q_words, label_of):
                gap = _gap(sentence, start, shared)
                key = (-score, n, s_no, gap, value)
                if best is None or key[:4] < best[:4]:
                    best = key
    return (best[4], best[1]) if best is not None else None


def _candidates(sentence: str, expects: str, q_words: set[str],
                label_of: Callable[[str], str | None]) -> list[tuple[int, str]]:
    """``(offset, text)`` of the sentence's answers of the expected kind."""
    if expects == "date":
        return [(m.start(), m.group(0)) for m in _DATE.finditer(sentence)
                if not _found(_stem(m.group(0).lower()), q_words)]  # fmt: skip
    out = []
    for m in _NAME.finditer(sentence):
        words = m.group(0).rstrip(".").split()
        start = m.start()
        # "Queensland Senator Barnaby Joyce" for "which Queensland Senator": the name
        # follows what the question says; "The", "In" open a sentence
        while words and (words[0].lower() in _LEADING or _found(_stem(words[0].lower()), q_words)):
            start += len(words[0]) + 1
            words = words[1:]
        if any(_found(_stem(w), q_words) for w in _tokens(" ".join(words))):
            continue  # says what the question says: the subject, not the answer
        name = _labelled(words, expects, label_of)
        if name:
            out.append((start, name))
    return out


def _labelled(words: list[str], expects: str, label_of: Callable[[str], str | None]) -> str:
    """The longest run of ``words`` (leftmost first) the graph knows as the expected kind."""
    words = words[:8]
    for size in range(len(words), 0, -1):
        for i in range(len(words) - size + 1):
            name = " ".join(words[i : i + size])
            if expects == "university" and not _SCHOOL.search(name):
                continue
            if label_of(name) in _LABELS[expects]:
                return name
    return ""


def _gap(sentence: str, start: int, shared: set[str]) -> int:
    """Characters between ``start`` and the nearest word of ``shared`` in ``sentence``."""
    gaps = [abs(m.start() - start) for m in re.finditer(r"[\w'-]+", sentence)
            if _stem(m.group(0).lower()) in shared]  # fmt: skip
    return min(gaps, default=len(sentence))
