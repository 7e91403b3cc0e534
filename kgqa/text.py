"""Text helpers shared by every layer: matching forms, scripts without spaces, safe display.

Documents are stored exactly as they were read; these functions derive the forms
that *matching* needs (entity extraction, entity keys, search) and the forms that
*display* needs (a terminal, a web page), without ever changing the original.

* :func:`normalize_text` gives the text an extractor should read, with an offset
  map back to the original: invisible characters removed (soft hyphens, zero-width
  spaces and joiners, bidirectional controls, byte-order marks, control codes),
  compatibility forms folded (NFKC: ligatures such as "ﬁ", full-width letters,
  no-break spaces), curly quotes and apostrophes made straight, runs of spaces
  made one, and a single line break inside a wrapped paragraph made a space::

      >>> n = normalize_text("Ya\\u00adsmin  O\\u2019Neil")
      >>> n.text
      "Yasmin O'Neil"
      >>> n.span(0, 6)            # "Yasmin" in the original text
      (0, 7)

* :func:`visible` is how a name is shown: invisible characters removed, white
  space collapsed, everything else as written.
* :func:`fold` is the key two texts are compared by: the same, case-folded, and
  every run of white space one space.
* :func:`is_spaceless` / :data:`SPACELESS_RUN`: scripts written without spaces
  between words (Chinese, Japanese, Korean, Thai, Lao, Khmer, Myanmar, Tibetan).
* :func:`printable` makes untrusted text safe to print on a terminal.
* :func:`title_names` / :func:`unqualified`: the names a document's title says it
  is about ("Customer: Harrowgate Rail", "Burn (song)").
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import regex

__all__ = [
    "SPACELESS_RUN",
    "UNSAFE_CODEPOINTS",
    "NormalizedText",
    "fold",
    "has_spaceless",
    "is_spaceless",
    "normalize_text",
    "printable",
    "visible",
]

# --------------------------------------------------------------------------- scripts

_SPACELESS_CLASS = (
    r"\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}"
    r"\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}"
    r"\p{Script=Tibetan}\p{Script=Yi}\u30fc\u3005"
)
SPACELESS_RUN = regex.compile(f"[{_SPACELESS_CLASS}]+")
"""A run of characters of scripts written without spaces between words."""
_SPACELESS_CHAR = regex.compile(f"[{_SPACELESS_CLASS}]")


def is_spaceless(ch: str) -> bool:
    """Is ``ch`` a letter of a script written without spaces (Han, kana, Thai...)?

    >>> is_spaceless("海"), is_spaceless("ไ"), is_spaceless("a")
    (True, True, False)
    """
    return _SPACELESS_CHAR.match(ch) is not None


def has_spaceless(text: str) -> bool:
    """Does ``text`` contain a letter of a script written without spaces?"""
    return _SPACELESS_CHAR.search(text) is not None


# --------------------------------------------------------------------------- normalising

# Characters that carry no visible letter: format characters (soft hyphen, zero-width
# space/joiners, bidi controls, BOM, word joiner), control codes and variation selectors.
_INVISIBLE = regex.compile(
    r"[[\p{Cf}\p{Cc}\ufe00-\ufe0f\U000e0100-\U000e01ef\u034f]--\s]", flags=regex.V1
)
_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-",
}  # fmt: skip
_QUOTE_TABLE = str.maketrans(_QUOTES)
# One dirty region: a run of white space (with any invisible characters in it) that is
# not a single plain space, or a run of characters outside printable ASCII.
_DIRTY = regex.compile(r"(?P<ws>[\s\p{Cf}\p{Cc}]*\s[\s\p{Cf}\p{Cc}]*)|[^\x20-\x7e\s]+")
_LINE_BREAKS = frozenset("\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_LIST_MARKER = regex.compile(r"[-*+\u2022#>|]|\d{1,3}[.)]\s")
#: A single line break joins two lines into one when the line before it is at least
#: this long (a wrapped paragraph); shorter lines are lists, addresses or headings.
WRAPPED_LINE_MIN = 30
_SPACES = regex.compile(r"\s+")


@dataclass(frozen=True)
class NormalizedText:
    """A normalised text and the map from its offsets back to the original's.

    The map is piecewise: segment ``k`` covers normalised offsets
    ``[norm[k], norm[k+1])`` and original offsets ``[orig[k], orig[k+1])``; a
    copied segment maps character for character, a replaced one maps as a whole.
    With no segments the map is the identity.
    """

    text: str
    original_length: int
    norm: tuple[int, ...] = ()
    orig: tuple[int, ...] = ()
    copied: tuple[bool, ...] = ()

    def start(self, i: int) -> int:
        """Original offset where normalised offset ``i`` starts."""
        if not self.norm:
            return i
        if i >= len(self.text):
            return self.original_length
        k = bisect.bisect_right(self.norm, i) - 1
        return self.orig[k] + (i - self.norm[k] if self.copied[k] else 0)

    def end(self, j: int) -> int:
        """Original (exclusive) end offset of a span that ends at normalised ``j``."""
        if not self.norm:
            return j
        if j <= 0:
            return self.start(0)
        k = bisect.bisect_right(self.norm, j - 1) - 1
        return self.orig[k] + (j - self.norm[k]) if self.copied[k] else self.orig[k + 1]

    def span(self, i: int, j: int) -> tuple[int, int]:
        """The original ``(start, end)`` of normalised ``[i, j)``; empty stays empty."""
        s = self.start(i)
        return (s, max(s, self.end(j))) if j > i else (s, s)


def normalize_text(text: str) -> NormalizedText:
    """The form of ``text`` an extractor reads, with its offset map (module docstring).

    Letter case and punctuation other than quotes are kept. Paragraph breaks
    (two or more line breaks) become exactly ``"\\n\\n"``; a single line break
    becomes a space when the line before it has at least
    :data:`WRAPPED_LINE_MIN` characters and the next line does not start a list
    item, heading, quote or table row; otherwise it stays ``"\\n"``.
    """
    if text.isascii() and _DIRTY.search(text) is None:
        return NormalizedText(text, len(text))
    out: list[str] = []
    norm: list[int] = []
    orig: list[int] = []
    copied: list[bool] = []
    size = 0  # length of the normalised text so far
    line_start = 0  # normalised offset where the current output line starts

    def emit(piece: str, o_start: int, as_copy: bool) -> None:
        nonlocal size, line_start
        norm.append(size)
        orig.append(o_start)
        copied.append(as_copy)
        if piece:
            out.append(piece)
            nl = piece.rfind("\n")
            if nl >= 0:
                line_start = size + nl + 1
            size += len(piece)

    pos = 0
    for m in _DIRTY.finditer(text):
        a, b = m.span()
        if m.group("ws") == " ":
            continue
        if a > pos:
            emit(text[pos:a], pos, True)
        if m.group("ws") is not None:
            emit(_whitespace(text, a, b, size - line_start), a, False)
        else:
            _other(text, a, b, emit)
        pos = b
    if pos < len(text):
        emit(text[pos:], pos, True)
    norm.append(size)
    orig.append(len(text))
    return NormalizedText("".join(out), len(text), tuple(norm), tuple(orig), tuple(copied))


def _whitespace(text: str, a: int, b: int, line_length: int) -> str:
    run = text[a:b].replace("\r\n", "\n").replace("\r", "\n")
    breaks = sum(1 for ch in run if ch in _LINE_BREAKS)
    if breaks == 0:
        return " "
    if breaks >= 2:
        return "\n\n"
    wrapped = line_length >= WRAPPED_LINE_MIN and not _LIST_MARKER.match(text, b)
    return " " if wrapped else "\n"


def _other(text: str, a: int, b: int, emit: Callable[[str, int, bool], None]) -> None:
    """Emit a run of non-ASCII (or control) characters, one character at a time."""
    run = text[a:b]
    if (
        _INVISIBLE.search(run) is None
        and unicodedata.is_normalized("NFKC", run)
        and run.translate(_QUOTE_TABLE) == run
    ):
        emit(run, a, True)
        return
    for i, ch in enumerate(run):
        if _INVISIBLE.match(ch):
            piece = ""
        else:
            piece = _QUOTES.get(ch) or unicodedata.normalize("NFKC", ch).translate(_QUOTE_TABLE)
        emit(piece, a + i, piece == ch)


def visible(text: str) -> str:
    """``text`` as a reader sees it: invisible characters removed, white space runs one space.

    Unlike :func:`fold`, letter case, quotes and compatibility forms are kept as
    written: this is how a name found in a document is shown.

    >>> visible("Ya\u00adsmin\n Odu\u00adya")
    'Yasmin Oduya'
    """
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip()


def strip_accents(text: str) -> str:
    """``text`` without its accents and other combining marks (NFKD).

    >>> strip_accents("Québécois")
    'Quebecois'
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """The form two texts are compared by when matching names or search terms.

    Invisible characters removed, NFKC, straight quotes, case folded, white space
    collapsed to single spaces and stripped.

    >>> fold("O\\u2019Connor &\\u00a0Sons")
    "o'connor & sons"
    >>> fold("The \\ufb01nance of\\ufb01ce")
    'the finance office'
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).translate(_QUOTE_TABLE)
    elif _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text.casefold()).strip()


# --------------------------------------------------------------------------- display

# Control codes (C0 but tab and line feed, DEL, C1) and the bidirectional controls that
# reorder what a reader sees: shown as visible escapes such as \x1b or \u202e.
UNSAFE_CODEPOINTS = (
    *range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
    *range(0x202A, 0x202F), *range(0x2066, 0x206A),
)  # fmt: skip
"""Code points that act on a terminal or reorder text: never printed as they are."""
_ESCAPES = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in UNSAFE_CODEPOINTS}
_KEEP_LINES = {c: v for c, v in _ESCAPES.items() if chr(c) not in "\n\t"}


def printable(text: str, keep: str = "\n\t") -> str:
    """``text`` with every terminal control character shown as a visible escape.

    Escape sequences (colours, window titles, hyperlinks, screen clearing) and
    bidirectional overrides from a document can then never act on a terminal.
    Characters in ``keep`` pass through; ``"\\r\\n"`` counts as ``"\\n"``.

    >>> printable("\\x1b]0;title\\x07ok \\u202eevil")
    '\\\\x1b]0;title\\\\x07ok \\\\u202eevil'
    """
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    if keep == "\n\t":
        return text.translate(_KEEP_LINES)
    return text.translate({c: v for c, v in _ESCAPES.items() if chr(c) not in keep})


_CATEGORY = re.compile(r"^\w+(?:\s\w+)?:\s+(?P<name>\S.*)$")  # "Customer: Harrowgate Rail"
_QUALIFIER = re.compile(r"^(?P<name>.*\S)\s*\([^()]*\)$")  # "Porto Office (Headquarters)"


def title_names(title: str) -> list[str]:
    """The names a document's title says it is about: the title, and the name after a
    one- or two-word category ("Customer: Harrowgate Rail") or before a trailing
    qualifier in brackets ("Porto Office (Headquarters)", "Burn (song)").

    >>> title_names("Customer: Harrowgate Rail"), title_names("Burn (Nine Inch Nails song)")
    (['Customer: Harrowgate Rail', 'Harrowgate Rail'], ['Burn (Nine Inch Nails song)', 'Burn'])
    """
    names = [title]
    if (m := _CATEGORY.match(title)) is not None:
        names.append(m.group("name"))
    for name in list(names):
        if (m := _QUALIFIER.match(name)) is not None:
            names.append(m.group("name"))
    return names


def unqualified(title: str) -> str:
    """A title without its trailing qualifier in brackets: "Burn (song)" -> "Burn"."""
    m = _QUALIFIER.match(title)
    return m.group("name") if m is not None else title
