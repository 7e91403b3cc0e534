"""An extractive reader for counts: the number a passage states, read off the sentence
that best matches a "how many" question.

The small generative reader sometimes misses a count the passage states plainly
("has 22 engineers" -> "1", or no answer). When a question expects a number and
the reader gave none that the passages support, the pipeline reads the count off
the evidence instead.

A candidate is a count (digits such as "2,400", number words such as
"twenty-two") followed, before any comma or number, by the thing the question
counts ("22 (senior) engineers" for "how many engineers"; for a generic "how
many people/staff/employees", any noun that counts people). Never a
percentage, an ordinal, a year, the day of a date, or digits inside a name
("HX-60"). Its sentence must name what the question names (its capitalised
words after the first; the passage's title counts too: "The team has 22
engineers" under "Firmware Team") and every year the question asks about ("in
2023"). It scores the question's content words its sentence shares, those of
the passage's title, and one more for each pair of neighbouring question words
it has as neighbours ("the Toronto office"); the best needs two. Ties go to the
better-ranked passage, the earlier sentence, then the count nearest the year
asked about. The answer is then grounded like any reply (a cited span that
states it). "How many times" is left to the generative reader ("twice", "a
two-time all-star" are not counts followed by "times").

>>> from kgqa.types import Chunk, Hit
>>> text = "The team has 22 engineers. It cut power use by forty percent."
>>> hit = Hit(key=1, chunk=Chunk("t#0", "t", 0, text, 0, len(text)), title="Firmware Team",
...           score=1.0, rank=1)
>>> read_count("How many engineers does the Firmware team have?", [hit])
('22', 1)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from kgqa.types import Hit
from llm.grounding import _MONTHS, sentence_spans
from llm.words import DIGIT_WORDS, content_tokens, stem, tokens, word_found

_UNITS = [w for n, w in sorted(DIGIT_WORDS.items()) if n]  # "one" .. "twenty"
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_COUNT = rf"(?:{'|'.join(_TENS)})(?:-(?:{'|'.join(_UNITS[:9])}))?|{'|'.join(_UNITS)}"
# digits not inside a name or code ("HX-60", "v2.1") or a larger number; or number words
_COUNT = re.compile(
    rf"(?<![\w.,-])(\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|{_WORD_COUNT})(?![\w-]|[.,]\d)",
    re.I,
)
_NOT_A_COUNT = re.compile(r"\s*(?:%|per\s*cent|percent|st\b|nd\b|rd\b|th\b)", re.I)
_MONTH = re.compile(rf"\b(?:{_MONTHS})\b", re.I)
# Nouns that count people: "how many people" (a generic count) is answered by "22
# engineers"; "how many engineers" only by engineers.
_GENERIC_PEOPLE = frozenset(stem(w) for w in re.findall(
    r"\w+", "people persons employees staff members workers personnel"))  # fmt: skip
_PEOPLE = _GENERIC_PEOPLE | frozenset(
    stem(w)
    for w in re.findall(
        r"\w+",
        """engineers
    researchers scientists students residents inhabitants players soldiers volunteers""",
    )
)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NAME = re.compile(r"\b[A-Z][\w'-]*")  # capitalised words; a question's first is not a name
_COUNTED = re.compile(r"\bhow\s+many\s+(\w+(?:\s+\w+)?)", re.I)  # "how many (full-time) staff"


def read_count(question: str, hits: Sequence[Hit]) -> tuple[str, int] | None:
    """The count that answers ``question`` and the 1-based number of its passage in
    ``hits``, or ``None`` when no sentence with a count matches the question."""
    q_tokens = [stem(w) for w in tokens(question) if w in content_tokens(w)]
    q_words = set(q_tokens) - {"many", "much"}
    pairs = set(itertools.pairwise(q_tokens))  # "toronto office"
    years = set(_YEAR.findall(question))  # "in 2012": the count of that year
    m = _COUNTED.search(question)
    counted = {stem(w) for w in content_tokens(m.group(1))} if m else set()
    names = {stem(w) for w in content_tokens(" ".join(_NAME.findall(question)[1:]))}
    best: tuple[int, int, int, int, str] | None = None  # (-score, passage, sentence, near, value)
    for n, hit in enumerate(hits, start=1):
        text = hit.chunk.text
        title = {stem(w) for w in content_tokens(hit.title)}
        for s_no, (s, e) in enumerate(sentence_spans(text)):
            sentence = text[s:e]
            stems = [stem(w) for w in tokens(sentence)]
            words = set(stems)
            if not all(word_found(w, words | title) for w in names):
                continue  # about something else the question does not name
            if not years <= set(_YEAR.findall(sentence)):
                continue
            shared = {w for w in q_words if word_found(w, words)}
            if not shared:
                continue
            for c in _COUNT.finditer(sentence):
                value, after = c.group(1), sentence[c.end() :]
                if _NOT_A_COUNT.match(after) or _is_year(value):
                    continue
                if _MONTH.search(sentence[max(0, c.start() - 10) : c.start()] + after[:10]):
                    continue  # a day of a date: "January 30, 1977", "25 April 1845"
                # the words right after it, up to a comma or a number: "22 (senior) engineers"
                head = re.split(r"[,;:.()\d]", after)[0]
                following = {stem(w.lower()) for w in re.findall(r"[A-Za-z]+", head)[:2]}
                if not (counted & following or (counted & _GENERIC_PEOPLE and following & _PEOPLE)):
                    continue
                score = len(shared) + len((title & q_words) - shared)
                score += len(pairs & set(itertools.pairwise(stems)))
                if score < 2:
                    continue
                # in the sentence, the count nearest the year asked about ("212 in 2023")
                near = min((abs(y.start() - c.start()) for y in _YEAR.finditer(sentence)
                            if y.group(1) in years), default=0)  # fmt: skip
                key = (-score, n, s_no, near, value)
                if best is None or key[:4] < best[:4]:
                    best = key
    return (best[4], best[1]) if best is not None else None


def _is_year(value: str) -> bool:
    return value.isdigit() and len(value) == 4 and 1000 <= int(value) <= 2100
