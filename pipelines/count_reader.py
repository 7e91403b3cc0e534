"""An extractive reader for counts: the number a passage states, read off the sentence
that best matches a "how many" question.

The small generative reader sometimes misses a count the passage states plainly
("has 22 engineers" -> "1", or no answer). When a question expects a number and
the reader gave none that the passages support, the pipeline reads the count off
the evidence instead. Every count in the shown passages (digits such as "2,400",
or number words up to twenty) followed by the thing the question counts is a
candidate ("22 (senior) engineers" for "how many engineers"; for "how many
people", any noun that counts people), except percentages, ordinals, years,
days of dates, and the counts of a passage that lacks one of the question's
names (its capitalised words after the first). A candidate scores the
question's content words that its sentence shares, plus those of its
passage's title (the passage is about them); the best needs one shared word in
its own sentence and two in all; ties go to the better-ranked passage, then
the earlier sentence. The answer is then grounded like any reply (a cited span
that states it). "How many times" is left to the generative reader ("twice",
"a two-time all-star" are not counts followed by "times").

>>> from kgqa.types import Chunk, Hit
>>> text = "The team has 22 engineers. It cut power use by forty percent."
>>> hit = Hit(key=1, chunk=Chunk("t#0", "t", 0, text, 0, len(text)), title="Firmware Team",
...           score=1.0, rank=1)
>>> read_count("How many engineers does the Firmware team have?", [hit])
('22', 1)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kgqa.types import Hit
from llm.grounding import _DIGIT_WORDS, _content_tokens, _found, _stem, sentence_spans

_WORDS = [w for n, w in sorted(_DIGIT_WORDS.items()) if n]  # "one" .. "twenty"
_COUNT = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|" + "|".join(_WORDS) + r")(?![\w]|[.,]\d)",
    re.I,
)
_NOT_A_COUNT = re.compile(r"\s*(?:%|per\s*cent|percent|st\b|nd\b|rd\b|th\b)", re.I)
_MONTH = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b",
    re.I,
)
# Nouns that count people: "how many people" is answered by "22 engineers".
_PEOPLE_WORDS = re.findall(
    r"\w+",
    """people persons employees staff members workers engineers
    researchers scientists students residents inhabitants personnel players soldiers volunteers""",
)
_PEOPLE = frozenset(_stem(w) for w in _PEOPLE_WORDS)
_NAME = re.compile(r"\b[A-Z][\w'-]*")  # capitalised words; a question's first is not a name
_COUNTED = re.compile(r"\bhow\s+many\s+(\w+(?:\s+\w+)?)", re.I)  # "how many (full-time) staff"


def read_count(question: str, hits: Sequence[Hit]) -> tuple[str, int] | None:
    """The count that answers ``question`` and the 1-based number of its passage in
    ``hits``, or ``None`` when no sentence with a count matches the question."""
    q_words = {_stem(w) for w in _content_tokens(question)} - {"many", "much"}
    m = _COUNTED.search(question)
    counted = {_stem(w) for w in _content_tokens(m.group(1))} if m else set()
    best: tuple[int, int, int, str] | None = None  # (-score, passage, sentence, value)
    names = {_stem(w) for w in _content_tokens(" ".join(_NAME.findall(question)[1:]))}
    for n, hit in enumerate(hits, start=1):
        text = hit.chunk.text
        about = {_stem(w) for w in _content_tokens(f"{hit.title} {text}")}
        if not all(_found(w, about) for w in names):
            continue  # a passage about something else the question does not name
        title = {_stem(w) for w in _content_tokens(hit.title)} & q_words
        for s_no, (s, e) in enumerate(sentence_spans(text)):
            sentence = text[s:e]
            words = {_stem(w) for w in _content_tokens(sentence)}
            shared = {w for w in q_words if _found(w, words)}
            if not shared:
                continue
            for c in _COUNT.finditer(sentence):
                value, after = c.group(1), sentence[c.end() :]
                if _NOT_A_COUNT.match(after) or _is_year(value):
                    continue
                if _MONTH.search(sentence[max(0, c.start() - 10) : c.start()] + after[:10]):
                    continue  # a day of a date: "January 30, 1977", "25 April 1845"
                following = {_stem(w.lower()) for w in re.findall(r"[A-Za-z]+", after[:40])[:2]}
                if not (counted & following or (counted & _PEOPLE and following & _PEOPLE)):
                    continue  # "22 (senior) engineers" counts engineers, and people
                score = len(shared) + len(title - shared)
                if score < 2:
                    continue
                key = (-score, n, s_no, value)
                if best is None or key[:3] < best[:3]:
                    best = key
    return (best[3], best[1]) if best is not None else None


def _is_year(value: str) -> bool:
    return value.isdigit() and len(value) == 4 and 1000 <= int(value) <= 2100
