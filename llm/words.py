"""Word matching shared by the grounding check and the readers of the evidence.

Words are SQuAD-normalised (``llm.metrics.normalize_answer``: lower case, no
punctuation or articles) with accents folded; :data:`STOP` holds the function
words a question or an answer shares with any passage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from kgqa.text import strip_accents
from llm.metrics import normalize_answer

STOP = frozenset([
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and",
    "or", "but", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this",
    "that", "these", "those", "as", "which", "who", "whom", "whose", "what", "when",
    "where", "why", "how", "do", "does", "did", "has", "have", "had", "not", "no", "yes",
    "than", "then", "there", "their", "they", "he", "she", "his", "her", "him", "i", "you",
    "we", "our", "your", "my", "me", "us", "both", "either", "neither", "also", "into",
    "about", "after", "before", "over", "under",
])


def stem(word: str) -> str:
    """A crude English stem: "studied" and "study" -> "study", "outbreaks" -> "outbreak"."""
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""),
                         ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + repl
    return word


_CURRENCY = re.compile(r"[€£¥₹¢₩₽₺]")


def tokens(text: str) -> list[str]:
    """SQuAD-normalised words, accents folded and currency signs apart ("€18,500" holds
    "18500", as "$18,500" does)."""
    return normalize_answer(strip_accents(_CURRENCY.sub(" ", text))).split()


def content_tokens(text: str) -> set[str]:
    return {t for t in tokens(text) if t not in STOP}


DIGIT_WORDS = dict(enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty"]))
#: "4" <-> "four": a number is found written either way (0 to 20).
SAME_NUMBER = {**{str(n): w for n, w in DIGIT_WORDS.items()},
                **{w: str(n) for n, w in DIGIT_WORDS.items()}}


def word_found(word: str, have: set[str]) -> bool:
    """The word itself, a small number written the other way ("4", "four"), or one of
    4+ letters that it starts or that starts it ("nobel(s)")."""
    if word in have or SAME_NUMBER.get(word, "") in have:
        return True
    return len(word) >= 4 and any(
        len(h) >= 4 and (h.startswith(word) or word.startswith(h)) for h in have
    )


_LETTERS = re.compile(r"[^\W\d_]+")


def respelled(answer: str, passages: Sequence[str]) -> str:
    """``answer`` with each word of 5+ letters that no passage holds replaced by the
    passage word it misspells: the same first letter, at most two letters longer or
    shorter, and 85 % alike (``difflib`` ratio). "Goththenburg" -> "Gothenburg" when a
    passage says "Gothenburg"; a word no passage comes near stays.

    >>> respelled("Goththenburg", ["Brightforge is based in Gothenburg, Sweden."])
    'Gothenburg'
    """
    surface: dict[str, str] = {}
    for text in passages:
        for w in _LETTERS.findall(text):
            surface.setdefault(w.casefold(), w)

    def fix(m: re.Match[str]) -> str:
        word = m.group()
        low = word.casefold()
        if len(low) < 5 or low in surface:
            return word
        near = [s for s in surface if s[:1] == low[:1] and abs(len(s) - len(low)) <= 2
                and not (s.startswith(low) or low.startswith(s))]  # "States" is no "State"
        best = max(near, key=lambda s: SequenceMatcher(None, low, s).ratio(), default="")
        if best and SequenceMatcher(None, low, best).ratio() >= 0.85:
            return surface[best]
        return word

    return _LETTERS.sub(fix, answer)
