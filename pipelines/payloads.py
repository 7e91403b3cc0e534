"""Keep non-prose payloads out of chunks, and every chunk within the models' limits.

Text documents carry things that are not prose: an image pasted as base64, a
hex dump, a DNA sequence, a minified script, a wrapped PEM block. Indexed,
they make meaningless chunks and entities, and one long enough breaks a model
(spaCy refuses texts over 1,000,000 characters). :func:`find_payloads` finds
them by their shape, in any language written with spaces:

* a **run without spaces** of at least :data:`MIN_RUN` characters that is not
  made of words: less than half of its characters are in word-like parts
  (letters-only parts of up to 24 letters, longer ones only if they look like
  a word, numbers of up to 6 digits), so ``ACGTTGCA...``, ``iVBORw0KGgo...``
  and ``deadbeef00...`` are payloads while a URL, a path or a long compound
  word are not; any run of :data:`MAX_RUN` characters or more is one;
* a **line of code or data**: at least :data:`MIN_CODE_LINE` characters of
  which less than 40 % are in word-like tokens (minified JavaScript or CSS).

Scripts written without spaces (Chinese, Japanese, Thai, Khmer...) are never
payloads by these rules: their long runs are sentences.

:func:`chunk_without_payloads` chunks the text around the payloads (offsets
stay those of the stored document, which keeps the payload) and cuts any chunk
longer than :data:`MAX_CHUNK_CHARS` at a space::

    >>> text = "Sample K-17.\\nSequence: " + "ACGT" * 50 + "\\nFound near Dunmore."
    >>> [(p.line, p.end - p.start) for p in find_payloads(text)]
    [(2, 200)]
    >>> from pipelines.chunking import chunk_document
    >>> chunks, _ = chunk_without_payloads(Document("d", "", text), chunk_document)
    >>> [c.text for c in chunks]
    ['Sample K-17.\\nSequence:', 'Found near Dunmore.']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from kgqa.types import Chunk, Document

#: Shortest run without spaces that can be a payload (a wrapped base64 or
#: FASTA line is 60-76 characters; English words stay well under 30).
MIN_RUN = 48
#: A run without spaces this long is a payload whatever it holds.
MAX_RUN = 2048
#: Shortest line that is checked as a whole for code or data.
MIN_CODE_LINE = 1000
#: The longest chunk handed to the models. A chunk of the default chunker is
#: about 1,200 characters of English; spaCy refuses 1,000,000 and needs about
#: 1 GB of memory per 100,000.
MAX_CHUNK_CHARS = 10_000

_RUN = re.compile(rf"\S{{{MIN_RUN},}}")
_LONG_LINE = re.compile(rf"[^\n]{{{MIN_CODE_LINE},}}")
_PARTS = re.compile(r"[^\W_]+")
_TOKENS = re.compile(r"\S+")
_EDGE_PUNCT = "\"'()[]{}<>.,;:!?*`"
_NUMBER = re.compile(r"[-+]?\d[\d.,]*%?")
_URL = re.compile(r"[(<\[\"']?(?:[a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)
_ENCODED_LINE = re.compile(r"[A-Za-z0-9+/=_-]{4,100}")
# Scripts written without spaces between words.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]"
)


@dataclass(frozen=True)
class Payload:
    """A non-prose span ``[start, end)`` of a document's text, from line ``line`` (1-based)."""

    start: int
    end: int
    line: int
    kind: str  # "run" (no spaces: encoded data, a sequence) or "code" (a line of code or data)


def find_payloads(text: str) -> list[Payload]:
    """Non-prose spans of ``text`` in order; spans separated only by whitespace are merged."""
    spans: list[tuple[int, int, str]] = []
    for m in _RUN.finditer(text):
        if _is_payload_run(m.group()):
            spans.append((m.start(), m.end(), "run"))
    runs = list(spans)
    for m in _LONG_LINE.finditer(text):
        in_runs = sum(
            min(e, m.end()) - max(s, m.start()) for s, e, _ in runs if s < m.end() and e > m.start()
        )
        if in_runs * 2 < m.end() - m.start() and _is_code_line(m.group()):
            spans.append((m.start(), m.end(), "code"))
    if not spans:
        return []
    spans.sort()
    merged: list[list] = []
    for s, e, kind in spans:
        if merged and (s <= merged[-1][1] or not text[merged[-1][1] : s].strip()):
            merged[-1][1] = max(merged[-1][1], e)
            if kind == "code":
                merged[-1][2] = "code"
        else:
            merged.append([s, e, kind])
    out = []
    for s, e, kind in merged:
        e = _absorb_tail(text, e)
        out.append(Payload(s, e, text.count("\n", 0, s) + 1, kind))
    return out


def _absorb_tail(text: str, end: int) -> int:
    """Extend a payload over the short last line of a wrapped block (``...AB==``)."""
    if end < len(text) and text[end] == "\n":
        nxt = text.find("\n", end + 1)
        nxt = len(text) if nxt < 0 else nxt
        if _ENCODED_LINE.fullmatch(text, end + 1, nxt) and not _word_like(text[end + 1 : nxt]):
            return nxt
    return end


def _unspaced_script(run: str) -> bool:
    sample = run[:400]
    return len(_UNSPACED.findall(sample)) * 10 >= len(sample) * 3


def _is_payload_run(run: str) -> bool:
    if _unspaced_script(run):
        return False
    if len(run) >= MAX_RUN:
        return True
    if _URL.match(run):
        return False
    wordy = sum(len(p) for p in _PARTS.findall(run) if _word_like(p))
    return wordy * 2 < len(run)


def _word_like(part: str) -> bool:
    """A part of a token that reads as a word or a small number.

    >>> [_word_like(w) for w in ("harbour", "2024", "ACGTACGTACGTACGTACGTACGTAC", "iVBORw0K")]
    [True, True, False, False]
    """
    if part.isdigit():
        return len(part) <= 6
    if not part.isalpha() or len(part) > 64:
        return False
    humps = sum(1 for a, b in itertools.pairwise(part) if a.islower() and b.isupper())
    if humps > 3:  # camelCase words have a few; base64 has many
        return False
    return len(part) <= 24 or (len(set(part.lower())) >= 10 and not part.isupper())


def _is_code_line(line: str) -> bool:
    if _unspaced_script(line):
        return False
    total = wordy = 0
    for tok in _TOKENS.findall(line):
        total += len(tok)
        core = tok.strip(_EDGE_PUNCT)
        if core and ((core.isalpha() and _word_like(core)) or _NUMBER.fullmatch(core)):
            wordy += len(tok)
    return total > 0 and wordy * 10 < total * 4


def describe(payloads: list[Payload], rest: bool = True) -> str:
    """A problem line's reason for payloads left out of a document's chunks.

    ``rest``: whether the rest of the document was indexed.

    >>> describe([Payload(10, 1_200_010, 2, "run")])  # doctest: +ELLIPSIS
    'line 2: 1,200,000 characters of non-prose data (a run without spaces: ...) were not indexed...'
    """
    chars = sum(p.end - p.start for p in payloads)
    kinds = sorted({p.kind for p in payloads})
    what = " and ".join(
        "a run without spaces: encoded data or a sequence" if k == "run" else "code or data lines"
        for k in kinds
    )
    if len(payloads) == 1:
        where = f"line {payloads[0].line}"
    else:
        lines = ", ".join(str(p.line) for p in payloads[:5]) + (
            ", ..." if len(payloads) > 5 else ""
        )
        where = f"{len(payloads)} places (lines {lines})"
    tail = "the rest was" if rest else "nothing else is left to index"
    return f"{where}: {chars:,} characters of non-prose data ({what}) were not indexed; {tail}"


def chunk_without_payloads(
    doc: Document,
    chunk: Callable[[Document], list[Chunk]],
    max_chars: int = MAX_CHUNK_CHARS,
) -> tuple[list[Chunk], list[Payload]]:
    """Chunk ``doc`` with ``chunk`` around its payloads; every chunk at most ``max_chars``.

    Returns the chunks (ids ``"<doc.id>#<i>"`` in order, offsets into
    ``doc.text``) and the payloads left out.
    """
    payloads = find_payloads(doc.text)
    if not payloads:
        pieces = chunk(doc)
    else:
        pieces = []
        cuts = [0] + [x for p in payloads for x in (p.start, p.end)] + [len(doc.text)]
        for a, b in zip(cuts[::2], cuts[1::2], strict=True):
            if doc.text[a:b].strip():
                part = Document(id=doc.id, title=doc.title, text=doc.text[a:b], source=doc.source)
                pieces += [_shift(c, a) for c in chunk(part)]
    spans = [span for c in pieces for span in _bounded(doc.text, c.start, c.end, max_chars)]
    return [
        Chunk(Chunk.make_id(doc.id, i), doc.id, i, doc.text[s:e], s, e)
        for i, (s, e) in enumerate(spans)
    ], payloads


def _shift(c: Chunk, offset: int) -> Chunk:
    return Chunk(c.id, c.doc_id, c.index, c.text, c.start + offset, c.end + offset)


def _bounded(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut at whitespace into stripped spans of at most ``max_chars``."""
    out: list[tuple[int, int]] = []
    while end - start > max_chars:
        limit = start + max_chars
        cut = max(text.rfind(" ", start + 1, limit), text.rfind("\n", start + 1, limit))
        if cut <= start:
            cut = limit  # no space to cut at (a script without spaces): cut anyway
        piece_end = cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        if piece_end > start:
            out.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out
