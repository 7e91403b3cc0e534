"""BM25 over chunks, on term postings that an ingest appends to.

Tokens (:func:`tokenize`) come from the text folded for matching
(:func:`kgqa.text.fold`: case, NFKC, invisible characters, curly quotes), so
"\ufb01nance" finds "finance" and "Ya\u00adsmin" finds "Yasmin". Words are
``\\w+`` runs minus English stop words. Scripts written without spaces
(Chinese, Japanese, Korean, Thai...) have no words to split on, so each run of
them gives its overlapping character bigrams, as Lucene's CJK analyzer does:
"深海声学" -> "深海" "海声" "声学". The text indexed for a chunk is its document
title plus the chunk, as for embeddings; one tokenizer reads both the index and
the query.

Scores are Lucene's BM25 (k1 = 1.5, b = 0.75), the formula of bm25s'
default, computed at query time from stored term frequencies::

    idf(t)    = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    score(d)  = sum over query tokens t of idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / avglen))

bm25s stores each (term, chunk) weight precomputed with the corpus-wide idf
and average length, so adding one chunk would change every weight; storing
the term frequencies instead lets an ingest append postings (see
:mod:`retrieval.search_index`), and ``N``, ``df`` and ``avglen`` always count
exactly the live chunks.

>>> from retrieval.postings import Segment
>>> keys, rows, tf, lengths = term_postings(["Acme builds robots", "Zeta sells sensors"])
>>> bm25 = BM25([Segment.build(keys, rows, tf)], lengths, None)
>>> rows, scores = bm25.top("who builds robots", k=1)
>>> int(rows[0])
0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import regex

from kgqa.text import SPACELESS_RUN, fold, has_spaceless
from retrieval.postings import HashCache, Segment, lookup

if TYPE_CHECKING:
    from numpy.typing import NDArray

K1 = 1.5
B = 0.75
_HASHES = HashCache()

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


def term_postings(
    texts: Sequence[str], first_row: int = 0
) -> tuple[NDArray[np.uint64], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Postings of ``texts`` (rows ``first_row`` on): ``(term keys, rows, tf, lengths)``.

    One posting per distinct token of a text, ``(P,)`` each, in row order;
    ``lengths`` ``(len(texts),)`` counts each text's tokens (its BM25 length).
    """
    tokens = [tokenize(t) for t in texts]
    lengths = np.fromiter((len(t) for t in tokens), np.int32, count=len(tokens))
    flat = [tok for toks in tokens for tok in toks]
    if not flat:
        z = np.zeros(0, np.int32)
        return np.zeros(0, np.uint64), z, z.copy(), lengths
    keys = _HASHES(flat)  # (T,)
    rows = np.repeat(np.arange(first_row, first_row + len(texts), dtype=np.int64), lengths)
    order = np.lexsort((keys, rows))  # by row, then term
    keys, rows = keys[order], rows[order]
    first = np.ones(len(keys), np.bool_)
    first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
    starts = np.flatnonzero(first)
    tf = np.diff(np.append(starts, len(keys))).astype(np.int32)
    return keys[starts], rows[starts].astype(np.int32), tf, lengths


class BM25:
    """BM25 over term postings (see the module docstring).

    ``lengths`` ``(R,)`` is every row's token count; ``live`` ``(R,)`` is
    False for deleted rows (None: none deleted). Rows are the index's chunk
    rows; scores are float32.
    """

    def __init__(
        self,
        segments: Sequence[Segment],
        lengths: NDArray[np.int32],
        live: NDArray[np.bool_] | None,
        k1: float = K1,
        b: float = B,
    ) -> None:
        self.segments = list(segments)
        self.lengths = lengths
        self.live = live
        self.k1 = k1
        self.b = b
        self._n = 0
        self._norm: NDArray[np.float32] | None = None  # (R,) k1 (1 - b + b len / avglen)

    def _row_norms(self) -> NDArray[np.float32]:
        """Each row's length term, computed once per opened index (float32, ``(R,)``)."""
        if self._norm is None:
            lengths = np.asarray(self.lengths, np.int64)
            live = lengths if self.live is None else lengths[np.asarray(self.live)]
            self._n = len(live)
            avglen = float(live.sum()) / self._n if self._n else 1.0
            self._norm = (self.k1 * (1 - self.b + self.b * lengths / avglen)).astype(np.float32)
        return self._norm

    def scores(self, query: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """``(rows, scores)`` of every live row with a positive score, rows ascending."""
        tokens = tokenize(query)
        row_norm = self._row_norms()
        n = self._n
        if not tokens or n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        owner, rows, tf = lookup(self.segments, _HASHES(tokens))
        if self.live is not None and len(rows):
            keep = np.asarray(self.live)[rows]
            owner, rows, tf = owner[keep], rows[keep], tf[keep]  # type: ignore[index]
        if not len(rows):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        assert tf is not None
        df = np.bincount(owner, minlength=len(tokens)).astype(np.float64)  # (Q,)
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf32 = tf.astype(np.float32)
        w = idf[owner] * tf32 / (tf32 + row_norm[rows])  # (P,)
        if len(rows) * 8 < len(row_norm):  # few postings: sort them, not the whole base
            found, at = np.unique(rows, return_inverse=True)
            return found.astype(np.int64), np.bincount(at, weights=w).astype(np.float32)
        total = np.bincount(rows, weights=w, minlength=len(row_norm))  # (R,)
        hit = np.flatnonzero(total > 0)
        return hit.astype(np.int64), total[hit].astype(np.float32)

    def has_terms(self, query: str) -> bool:
        """Does any word of ``query`` (stop words aside) occur in a live chunk?"""
        return len(self.scores(query)[0]) > 0

    def top(self, query: str, k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The ``k`` best ``(rows, scores)``, best first (ties: lower row first)."""
        rows, scores = self.scores(query)
        k = min(k, len(rows))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.lexsort((rows[idx], -scores[idx]))]
        return rows[idx], scores[idx]

