"""Split a :class:`~kgqa.types.Document` into sentence-aware, token-bounded chunks.

A chunk's size is counted in the tokens of the embedder that will read it
(its word-pieces: ``all-MiniLM-L6-v2`` reads at most 256 of them, 254 of text),
so no chunk is longer than the embedder's window and nothing is cut off unseen,
in any language. An embedder without a tokenizer (the hash embedder) is counted
with :data:`WORD_TOKEN`: a run of word characters is one token, every other
non-space character is one, and so is every character of a script written
without spaces (Chinese, Japanese, Thai...)::

    >>> len(RegexTokens().spans("Dr. Smith's 3.5%, 深海声学"))
    14

How a document is chunked:

1. If the whole (stripped) text has at most ``max_tokens`` tokens -- or it is a
   record (a JSONL passage) of at most ``record_max_tokens`` -- and it fits the
   embedder's window together with its title, it is one chunk.
2. Otherwise it is cut into sentences. Blank lines always end one. ``.``, ``!``
   or ``?`` followed by a space end one unless the word before is a known
   abbreviation such as ``Mr.``, ``e.g.``, ``U.S.``, ``Inc.`` or an initial, or
   the next word starts in lower case (decimals such as ``3.14`` never split).
   Every other script's sentence terminator (Unicode ``Sentence_Terminal``:
   ``。！？`` in Chinese and Japanese, ``।`` in Hindi, ``؟`` in Arabic, ``။`` in
   Burmese...) ends one with or without a space after it. A Markdown heading
   line is glued to the sentence after it.
3. Consecutive sentences are packed into chunks of at most ``max_tokens`` (less
   where the window minus the title is smaller); the last ``overlap_sentences``
   sentences of a chunk start the next one. A sentence longer than that is cut
   at token boundaries, after a space or a comma where one is near.

Every chunk satisfies ``doc.text[c.start:c.end] == c.text`` and has no leading
or trailing whitespace::

    >>> from kgqa.types import Document
    >>> doc = Document(id="d", title="", text="Mr. Smith met Dr. Jones. They talked.\\n\\nThe end.")
    >>> [c.text for c in chunk_document(doc, ChunkerConfig(max_tokens=8, overlap_sentences=0))]
    ['Mr. Smith met Dr. Jones.', 'They talked.\\n\\nThe end.']

Paragraph breaks end sentences but do not force a new chunk: the last two
sentences (6 tokens) fit together in one chunk of at most 8.

``ChunkerConfig.version`` 1 is the first chunker, kept unchanged for the bases
built with it (their manifest records no version): tokens counted by
:data:`TOKEN_RE` alone, sentences ended by ``.!?`` only, no window check.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import regex

from kgqa.errors import ConfigError
from kgqa.text import SPACELESS_RUN
from kgqa.types import Chunk, Document

TOKEN_RE = re.compile(r"\w+|[^\w\s]")
"""Version 1 tokens: a run of word characters, or any single other non-space character."""

_SPACELESS = SPACELESS_RUN.pattern[:-1]  # the character class, without its "+"
WORD_TOKEN = regex.compile(rf"{_SPACELESS}|[\w--{_SPACELESS[1:-1]}]+|[^\w\s]", flags=regex.V1)
"""Tokens without a tokenizer: a character of a script without spaces, a word, a symbol."""


class TokenCounter(Protocol):
    """How chunk sizes are measured: an embedder's tokenizer, or :class:`RegexTokens`."""

    @property
    def window(self) -> int | None:
        """The most tokens of text one embedder input holds; None: no limit."""
        ...

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character ``(start, end)`` of each token of ``text``, in order."""
        ...


@dataclass(frozen=True)
class RegexTokens:
    """:class:`TokenCounter` by :data:`WORD_TOKEN`, for embedders without a tokenizer."""

    window: int | None = None

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in WORD_TOKEN.finditer(text)]


@dataclass(frozen=True)
class ChunkerConfig:
    """How documents are cut into chunks.

    ``max_tokens`` (200): the most tokens in a chunk, in the embedder's own
    tokens (see the module docstring). A chunk is never longer than the
    embedder's window less its document title, whatever this says.

    ``overlap_sentences`` (1): how many sentences at the end of a chunk are
    repeated at the start of the next, so a fact that spans a chunk border is
    still found in one chunk. 0 turns overlap off.

    ``record_max_tokens`` (1000): records (JSONL passages) up to this size stay
    whole when the embedder's window allows, because they are already
    passage-sized and splitting them would only scatter a passage that was
    written to be read as one.

    ``version`` (2): the chunking rules; 1 is the first chunker (see the module
    docstring), recorded for bases built before versions existed.
    """

    max_tokens: int = 200
    overlap_sentences: int = 1
    record_max_tokens: int = 1000
    version: int = 2

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ConfigError(f"ChunkerConfig.max_tokens must be at least 1, got {self.max_tokens}")
        if self.overlap_sentences < 0:
            raise ConfigError(
                f"ChunkerConfig.overlap_sentences must be 0 or more, got {self.overlap_sentences}"
            )
        if self.record_max_tokens < 1:
            raise ConfigError(
                f"ChunkerConfig.record_max_tokens must be at least 1, got {self.record_max_tokens}"
            )
        if self.version not in (1, 2):
            raise ConfigError(f"ChunkerConfig.version must be 1 or 2, got {self.version!r}")


DEFAULT_CONFIG = ChunkerConfig()


def count_tokens(text: str) -> int:
    """Number of version 1 tokens in ``text`` (see :data:`TOKEN_RE`).

    >>> count_tokens("Acme, Inc. hired 3 people.")
    8
    """
    return len(TOKEN_RE.findall(text))


def chunk_document(
    doc: Document,
    config: ChunkerConfig = DEFAULT_CONFIG,
    is_record: bool = False,
    counter: TokenCounter | None = None,
) -> list[Chunk]:
    """Cut ``doc`` into chunks in document order, ids ``"<doc.id>#<index>"``.

    ``is_record`` marks a JSONL passage, kept whole up to ``record_max_tokens``.
    ``counter`` measures tokens (the embedder's tokenizer and window); without
    one, :class:`RegexTokens` with no window. A document with only whitespace
    gives no chunks.
    """
    text = doc.text
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if start >= end:
        return []
    if config.version == 1:
        spans = _spans_v1(text, start, end, config, is_record)
    else:
        spans = _spans(doc, start, end, config, is_record, counter or RegexTokens())
    return [
        Chunk(
            id=Chunk.make_id(doc.id, i),
            doc_id=doc.id,
            index=i,
            text=text[s:e],
            start=s,
            end=e,
        )
        for i, (s, e) in enumerate(spans)
    ]


def _spans_v1(
    text: str, start: int, end: int, config: ChunkerConfig, is_record: bool
) -> list[tuple[int, int]]:
    n_tokens = len(TOKEN_RE.findall(text, start, end))
    if n_tokens <= config.max_tokens or (is_record and n_tokens <= config.record_max_tokens):
        return [(start, end)]
    units = [
        (s, e, len(TOKEN_RE.findall(text, s, e)))
        for s, e in _sentence_spans(text, start, end, _SENTENCE_END)
    ]
    units = _split_long(
        text,
        units,
        config.max_tokens,
        lambda s, e: [m.span() for m in TOKEN_RE.finditer(text, s, e)],
    )
    return _pack(units, config.max_tokens, config.overlap_sentences)


def _spans(
    doc: Document,
    start: int,
    end: int,
    config: ChunkerConfig,
    is_record: bool,
    counter: TokenCounter,
) -> list[tuple[int, int]]:
    text = doc.text
    tokens = [(s + start, e + start) for s, e in counter.spans(text[start:end])]
    whole = config.record_max_tokens if is_record else config.max_tokens
    limit = config.max_tokens
    if counter.window is not None:
        title = len(counter.spans(doc.title)) + 1 if doc.title else 0
        budget = max(counter.window - title, counter.window // 2, 1)
        whole, limit = min(whole, budget), min(limit, budget)
    if len(tokens) <= whole:
        return [(start, end)]
    starts = [s for s, _ in tokens]

    def within(s: int, e: int) -> list[tuple[int, int]]:
        return tokens[bisect.bisect_left(starts, s) : bisect.bisect_left(starts, e)]

    units = [(s, e, len(within(s, e))) for s, e in _sentence_spans(text, start, end, ENDS)]
    units = _split_long(text, units, limit, within, soft=True)
    spans = _pack(units, limit, config.overlap_sentences)
    if counter.window is None:
        return spans
    fitted: list[tuple[int, int]] = []  # check each chunk as the embedder will read it
    for s, e in spans:
        own = [(a + s, b + s) for a, b in counter.spans(text[s:e])]
        if len(own) <= limit:
            fitted.append((s, e))
        else:
            fitted += [(p[0], p[1]) for p in _cut(text, own, limit, soft=True)]
    return fitted


# --------------------------------------------------------------------------- sentences

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r"#{1,6}[ \t]+\S[^\n]*")
_INITIALISM = re.compile(r"(?:[a-z]\.)+[a-z]")  # u.s, e.g, i.e, a.m (dot-separated letters)
_OPENERS = "\"'(\u201c\u2018["
ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "rev", "hon", "gen",
        "col", "lt", "sgt", "capt", "gov", "sen", "rep", "pres",
        "inc", "ltd", "co", "corp", "llc", "plc", "bros", "dept", "univ", "assn", "est",
        "vs", "etc", "al", "cf", "approx", "ca", "no", "nos", "vol", "vols", "fig", "figs",
        "pp", "ed", "eds", "op", "ch", "sec", "art",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "mt", "ft", "ave", "blvd", "rd", "ph.d",
    }
)  # fmt: skip
"""Words (lower case, without the final dot) after which a ``.`` ends no sentence."""


_CLOSERS = "[\\p{Pe}\\p{Pf}\"'\u201d\u2019)\\]]*"
ENDS = regex.compile(
    rf"[.!?]+{_CLOSERS}(?=\s|{_SPACELESS})|[\p{{Sentence_Terminal}}--[.!?]]+{_CLOSERS}",
    flags=regex.V1,
)
"""Version 2 sentence ends: ``.!?`` before a space, any other script's terminator anywhere."""
_SOFT_BREAK = frozenset(",;:\u3001\uff0c\uff1b\uff1a\u060c")  # clause punctuation


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """Version 1 sentence spans ``(start, end, n_tokens)`` of ``text[start:end]``."""
    return [
        (s, e, len(TOKEN_RE.findall(text, s, e)))
        for s, e in _sentence_spans(text, start, end, _SENTENCE_END)
    ]


def _sentence_spans(
    text: str, start: int, end: int, ends: re.Pattern[str] | regex.Pattern[str]
) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``, headings glued on; ``ends`` finds sentence ends."""
    units: list[tuple[int, int]] = []
    pending = -1  # start of heading line(s) waiting for the next sentence
    pos = start
    for brk in (*_PARAGRAPH_BREAK.finditer(text, start, end), None):
        p_end = brk.start() if brk else end
        p_start, pos = pos, (brk.end() if brk else end)
        if p_start >= p_end:
            continue
        if _HEADING.fullmatch(text, p_start, p_end):
            if pending < 0:
                pending = p_start
            continue
        for s, e in _paragraph_sentences(text, p_start, p_end, ends):
            if pending >= 0:
                s, pending = pending, -1
            units.append((s, e))
    if pending >= 0:  # heading(s) at the very end: attach to what came before
        s = units.pop()[0] if units else pending
        units.append((s, end))
    return units


def _paragraph_sentences(
    text: str, start: int, end: int, ends: re.Pattern[str] | regex.Pattern[str]
) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph ``text[start:end]`` (already stripped)."""
    spans: list[tuple[int, int]] = []
    s = start
    for m in ends.finditer(text, start, end):
        gap = _SPACE.match(text, m.end(), end)
        nxt = gap.end() if gap else m.end()
        if nxt >= end or text[nxt].islower():
            continue
        mark = m.group()
        if mark == "." and _is_abbreviation(text, s, m.start()):
            continue
        if len(mark) == 1 and text[m.start() - 1 : m.start()].isdigit() and text[nxt].isdigit():
            continue  # a full-width decimal point: "３．１４"
        spans.append((s, m.end()))
        s = nxt
    spans.append((s, end))
    return spans


def _is_abbreviation(text: str, floor: int, dot: int) -> bool:
    """Is the word just before the dot at ``dot`` an abbreviation or an initial?"""
    w = dot
    while w > floor and not text[w - 1].isspace() and text[w - 1] not in _OPENERS:
        w -= 1
    word = text[w:dot].lower()
    if len(word) == 1:
        return word.isalpha()  # an initial: "J. R. R. Tolkien"
    return word in ABBREVIATIONS or _INITIALISM.fullmatch(word) is not None


# --------------------------------------------------------------------------- packing

Spans = list[tuple[int, int]]


def _split_long(
    text: str,
    units: list[tuple[int, int, int]],
    max_tokens: int,
    tokens_of: Callable[[int, int], Spans],
    soft: bool = False,
) -> list[tuple[int, int, int]]:
    """Cut every unit longer than ``max_tokens`` into pieces at token boundaries."""
    out: list[tuple[int, int, int]] = []
    for s, e, n in units:
        if n <= max_tokens:
            out.append((s, e, n))
        else:
            out += _cut(text, tokens_of(s, e), max_tokens, soft)
    return out


def _cut(text: str, tokens: Spans, max_tokens: int, soft: bool) -> list[tuple[int, int, int]]:
    """``(start, end, n)`` pieces of at most ``max_tokens`` of ``tokens``.

    ``soft``: a piece ends after the last token followed by a space or clause
    punctuation in its last quarter, where there is one, rather than mid-phrase.
    """
    out: list[tuple[int, int, int]] = []
    i = 0
    while i < len(tokens):
        j = min(i + max_tokens, len(tokens))
        if soft and j < len(tokens):
            for k in range(j, i + max(1, max_tokens * 3 // 4), -1):
                after = tokens[k - 1][1]
                if text[after : after + 1].isspace() or text[after - 1] in _SOFT_BREAK:
                    j = k
                    break
        out.append((tokens[i][0], tokens[j - 1][1], j - i))
        i = j
    return out


def _pack(
    units: list[tuple[int, int, int]], max_tokens: int, overlap: int
) -> list[tuple[int, int]]:
    """Greedily pack units (each ``<= max_tokens``) into ``(start, end)`` spans.

    The next chunk starts with up to ``overlap`` units of the previous one, fewer
    if they and the following unit would not fit, and never the whole previous
    chunk (so every chunk adds something new).
    """
    spans: list[tuple[int, int]] = []
    i, n = 0, len(units)
    while i < n:
        j, total = i, 0
        while j < n and total + units[j][2] <= max_tokens:
            total += units[j][2]
            j += 1
        j = max(j, i + 1)  # cannot happen after _split_long, but never loop forever
        spans.append((units[i][0], units[j - 1][1]))
        if j >= n:
            break
        k = min(overlap, j - i - 1)
        while k > 0 and sum(u[2] for u in units[j - k : j + 1]) > max_tokens:
            k -= 1
        i = j - k
    return spans
