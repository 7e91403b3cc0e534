"""SQuAD answer metrics: exact match and token F1, best over all gold answers.

>>> normalize_answer("The  Eiffel Tower!")
'eiffel tower'
>>> exact_match("the eiffel tower", ["Eiffel Tower", "La tour Eiffel"])
1.0
>>> round(f1_score("Eiffel Tower in Paris", ["Eiffel Tower"]), 3)
0.667

The normalisation is the official SQuAD v1.1 script's: lower case, drop
punctuation, drop the articles a/an/the, collapse white space.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _em(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction: str, gold: str) -> float:
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: str | Sequence[str]) -> float:
    """1.0 when the prediction equals one of the gold answers after normalisation."""
    golds = [golds] if isinstance(golds, str) else list(golds)
    return max((_em(prediction, g) for g in golds), default=0.0)


def f1_score(prediction: str, golds: str | Sequence[str]) -> float:
    """Token F1 (0..1) against the best-matching gold answer."""
    golds = [golds] if isinstance(golds, str) else list(golds)
    return max((_f1(prediction, g) for g in golds), default=0.0)


def contains_answer(passage: str, golds: str | Sequence[str]) -> bool:
    """Whether a normalised gold answer occurs, as whole words, in the normalised passage.

    >>> contains_answer("Born in 1998 in Kraków.", ["1998"])
    True
    """
    golds = [golds] if isinstance(golds, str) else list(golds)
    hay = f" {normalize_answer(passage)} "
    return any(g and f" {g} " in hay for g in (normalize_answer(x) for x in golds))
