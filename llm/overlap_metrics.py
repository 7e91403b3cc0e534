"""ROUGE-L and BLEU of an answer against its gold answers (0..1, higher is better).

Thin wrappers over maintained implementations, so the figures match what
others report with the same libraries; nothing is fetched at run time:

- ROUGE-L (Lin 2004, "ROUGE: A Package for Automatic Evaluation of
  Summaries"): the F-measure of the longest common subsequence of tokens,
  from Google's ``rouge-score`` package, no stemming. Tokens are runs of
  letters and digits, lower-cased: the package's own tokeniser for ASCII
  text, extended to every script (its default drops "ó" from "Kraków" and
  all of a Chinese answer). With several gold answers the best F-measure
  counts.
- BLEU (Papineni et al. 2002): sentence BLEU from ``sacrebleu``
  (Post 2018), all gold answers as references, lower-cased, its ``13a``
  tokeniser, exponential smoothing and the *effective order* (an answer of
  two words is scored on 1- and 2-grams instead of scoring 0 for having no
  4-gram). Short answers are what a reader writes, so this is the variant
  that says something about them; ``sacrebleu.corpus_bleu`` over a set of
  one-to-three-word answers is 0 whenever no 4-gram matches anywhere.

>>> round(rouge_l("the Eiffel Tower in Paris", ["Eiffel Tower"]), 3)
0.571
>>> round(bleu("Eiffel Tower", ["the Eiffel Tower", "Eiffel Tower"]), 3)
1.0
>>> rouge_l("", ["Paris"]), bleu("", ["Paris"])
(0.0, 0.0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[^\W_]+")


class _Tokenizer:
    """rouge-score's tokeniser contract: ``tokenize(text) -> list[str]``."""

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(text.lower())


@lru_cache(maxsize=1)
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=_Tokenizer())


@lru_cache(maxsize=1)
def _bleu() -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(lowercase=True, effective_order=True)


def _golds(golds: str | Sequence[str]) -> list[str]:
    return [golds] if isinstance(golds, str) else [g for g in golds if g.strip()]


def rouge_l(prediction: str, golds: str | Sequence[str]) -> float:
    """ROUGE-L F-measure (0..1) against the best-matching gold answer; 0 without golds."""
    refs = _golds(golds)
    if not refs or not prediction.strip():
        return 0.0
    return float(_rouge().score_multi(refs, prediction)["rougeL"].fmeasure)


def bleu(prediction: str, golds: str | Sequence[str]) -> float:
    """Sentence BLEU (0..1) with every gold answer as a reference; 0 without golds."""
    refs = _golds(golds)
    if not refs or not prediction.strip():
        return 0.0
    return float(_bleu().sentence_score(prediction, refs).score) / 100.0
