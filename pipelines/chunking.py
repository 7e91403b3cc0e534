"""Split a :class:`~kgqa.types.Document` into sentence-aware, token-bounded chunks.

Tokens are counted with the regex ``\\w+|[^\\w\\s]``: a run of word characters
is one token and every other non-space character (punctuation, symbols) is one
token on its own, so ``"Dr. Smith's 3.5%"`` counts 9 tokens: ``Dr`` ``.``
``Smith`` ``'`` ``s`` ``3`` ``.`` ``5`` ``%``. It is a cheap, deterministic
stand-in for a model tokenizer and errs on the high side for ordinary English,
so a limit in these tokens is a safe limit in word-pieces.

How a document is chunked:

1. If the whole (stripped) text has at most ``max_tokens`` tokens -- or it is a
   record (a JSONL passage) of at most ``record_max_tokens`` -- it is one chunk.
2. Otherwise it is cut into sentences (blank lines always end one; ``.``,
   ``!`` or ``?`` end one unless the word before is a known abbreviation such
   as ``Mr.``, ``e.g.``, ``U.S.``, ``Inc.`` or an initial, or the next word
   starts in lower case; decimals such as ``3.14`` never split). A Markdown
   heading line is glued to the sentence after it.
3. Consecutive sentences are packed into chunks of at most ``max_tokens``; the
   last ``overlap_sentences`` sentences of a chunk start the next one. A
   sentence longer than ``max_tokens`` is cut at token boundaries.

Every chunk satisfies ``doc.text[c.start:c.end] == c.text`` and has no leading
or trailing whitespace::

    >>> from kgqa.types import Document
    >>> doc = Document(id="d", title="", text="Mr. Smith met Dr. Jones. They talked.\\n\\nThe end.")
    >>> [c.text for c in chunk_document(doc, ChunkerConfig(max_tokens=8, overlap_sentences=0))]
    ['Mr. Smith met Dr. Jones.', 'They talked.\\n\\nThe end.']

Paragraph breaks end sentences but do not force a new chunk: the last two
sentences (6 tokens) fit together in one chunk of at most 8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kgqa.errors import ConfigError
from kgqa.types import Chunk, Document

TOKEN_RE = re.compile(r"\w+|[^\w\s]")
"""One token: a run of word characters, or any single other non-space character."""


@dataclass(frozen=True)
class ChunkerConfig:
    """How documents are cut into chunks.

    ``max_tokens`` (200): the most tokens in a chunk. 200 tokens of this
    counter keep a chunk under the 256 word-piece window of
    ``all-MiniLM-L6-v2`` for typical English, so nothing is truncated when
    the chunk is embedded.

    ``overlap_sentences`` (1): how many sentences at the end of a chunk are
    repeated at the start of the next, so a fact that spans a chunk border is
    still found in one chunk. 0 turns overlap off.

    ``record_max_tokens`` (1000): records (JSONL passages) up to this size stay
    whole, because they are already passage-sized and splitting them would
    only scatter a passage that was written to be read as one.
    """

    max_tokens: int = 200
    overlap_sentences: int = 1
    record_max_tokens: int = 1000

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


DEFAULT_CONFIG = ChunkerConfig()


def count_tokens(text: str) -> int:
    """Number of tokens in ``text`` (see :data:`TOKEN_RE`).

    >>> count_tokens("Acme, Inc. hired 3 people.")
    8
    """
    return len(TOKEN_RE.findall(text))


def chunk_document(
    doc: Document, config: ChunkerConfig = DEFAULT_CONFIG, is_record: bool = False
) -> list[Chunk]:
    """Cut ``doc`` into chunks in document order, ids ``"<doc.id>#<index>"``.

    ``is_record`` marks a JSONL passage, kept whole up to ``record_max_tokens``.
    A document with only whitespace gives no chunks.
    """
    text = doc.text
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    if start >= end:
        return []
    n_tokens = len(TOKEN_RE.findall(text, start, end))
    if n_tokens <= config.max_tokens or (is_record and n_tokens <= config.record_max_tokens):
        spans = [(start, end)]
    else:
        units = _split_long(text, _sentences(text, start, end), config.max_tokens)
        spans = _pack(units, config.max_tokens, config.overlap_sentences)
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


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """Sentence spans ``(start, end, n_tokens)`` of ``text[start:end]``, headings glued on."""
    units: list[tuple[int, int, int]] = []
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
        for s, e in _paragraph_sentences(text, p_start, p_end):
            if pending >= 0:
                s, pending = pending, -1
            units.append((s, e, len(TOKEN_RE.findall(text, s, e))))
    if pending >= 0:  # heading(s) at the very end: attach to what came before
        if units:
            s, _, _ = units.pop()
        else:
            s = pending
        units.append((s, end, len(TOKEN_RE.findall(text, s, end))))
    return units


def _paragraph_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of one paragraph ``text[start:end]`` (already stripped)."""
    spans: list[tuple[int, int]] = []
    s = start
    for m in _SENTENCE_END.finditer(text, start, end):
        gap = _SPACE.match(text, m.end(), end)
        nxt = gap.end() if gap else m.end()
        if nxt >= end or text[nxt].islower():
            continue
        if (
            m.group().startswith(".")
            and m.end() - m.start() == 1
            and _is_abbreviation(text, s, m.start())
        ):
            continue
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


def _split_long(
    text: str, units: list[tuple[int, int, int]], max_tokens: int
) -> list[tuple[int, int, int]]:
    """Cut every unit longer than ``max_tokens`` into pieces at token boundaries."""
    out: list[tuple[int, int, int]] = []
    for s, e, n in units:
        if n <= max_tokens:
            out.append((s, e, n))
            continue
        tokens = [m.span() for m in TOKEN_RE.finditer(text, s, e)]
        for i in range(0, len(tokens), max_tokens):
            piece = tokens[i : i + max_tokens]
            out.append((piece[0][0], piece[-1][1], len(piece)))
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
