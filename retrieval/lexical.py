"""BM25 over chunks (bm25s), scoring every chunk of a base for one query.

Tokens (:func:`tokenize`) come from the text folded for matching
(:func:`kgqa.text.fold`: case, NFKC, invisible characters, curly quotes), so
"\ufb01nance" finds "finance" and "Ya\u00adsmin" finds "Yasmin". Words are
``\\w+`` runs minus English stop words. Scripts written without spaces
(Chinese, Japanese, Korean, Thai...) have no words to split on, so each run of
them gives its overlapping character bigrams, as Lucene's CJK analyzer does:
"深海声学" -> "深海" "海声" "声学". The text indexed for a chunk is its document
title plus the chunk, as for embeddings.

>>> idx = BM25Index.build([10, 11], ["Acme builds robots", "Zeta sells sensors"])
>>> keys, scores = idx.top("who builds robots", k=1)
>>> int(keys[0])
10
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import regex

from kgqa.text import SPACELESS_RUN, fold, has_spaceless

if TYPE_CHECKING:
    from numpy.typing import NDArray

_TOKEN = regex.compile(r"\w+")
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


def tokenize(text: str) -> list[str]:
    """BM25 terms of ``text`` (see the module docstring).

    >>> tokenize("The \ufb01nance office of Glenrock")
    ['finance', 'office', 'glenrock']
    >>> tokenize("谁创办了实验室？")
    ['谁创', '创办', '办了', '了实', '实验', '验室']
    """
    out: list[str] = []
    for word in _TOKEN.findall(fold(text)):
        if not has_spaceless(word):
            if word not in STOP_WORDS:
                out.append(word)
            continue
        pos = 0
        for run in SPACELESS_RUN.finditer(word):
            if run.start() > pos:
                out.append(word[pos : run.start()])
            out.extend(_bigrams(run.group()))
            pos = run.end()
        if pos < len(word):
            out.append(word[pos:])
    return out


def _bigrams(run: str) -> list[str]:
    """Overlapping character pairs of ``run``; a lone character is its own term."""
    if len(run) < 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


class BM25Index:
    """BM25 (Lucene variant, k1=1.5, b=0.75) over integer-keyed texts."""

    def __init__(self, keys: NDArray[np.int64], model: Any, vocab: set[str]) -> None:
        self.keys = keys  # (n,) chunk keys, in index order
        self._model = model
        self._vocab = vocab

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(cls, keys: Sequence[int], texts: Sequence[str]) -> BM25Index:
        import bm25s

        tokens = [tokenize(t) for t in texts]
        model = bm25s.BM25()
        if tokens:
            model.index(tokens, show_progress=False)
        vocab = {t for doc in tokens for t in doc}
        return cls(np.asarray(keys, dtype=np.int64), model, vocab)

    def scores(self, query: str) -> NDArray[np.float32]:
        """BM25 score of every indexed text, ``(n,)`` in index order."""
        q = [t for t in tokenize(query) if t in self._vocab]
        if not q or not len(self.keys):
            return np.zeros(len(self.keys), dtype=np.float32)
        return np.asarray(self._model.get_scores(q), dtype=np.float32)

    def has_terms(self, query: str) -> bool:
        """Does any word of ``query`` (stop words aside) occur in the indexed texts?"""
        return any(t in self._vocab for t in tokenize(query))

    def top(self, query: str, k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        s = self.scores(query)
        k = min(k, len(s))
        if k == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idx = np.argpartition(-s, k - 1)[:k]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return self.keys[idx], s[idx]
