"""Bytes -> text for the files kgqa reads: what a file declares about itself wins.

The order, first match wins:

1. a byte-order mark: UTF-8, UTF-16 (LE/BE) or UTF-32 (LE/BE);
2. a declaration inside the file: for HTML a ``<meta charset>`` (or
   ``http-equiv="Content-Type"``) or an XML declaration in the first 4,096 bytes;
   for plain text and Markdown an Emacs ``-*- coding: NAME -*-`` line or a Vim
   ``vim: set fileencoding=NAME`` modeline in the first two or last five lines;
3. UTF-8;
4. the encoding the caller names for files that are not UTF-8 and declare
   nothing (``kgqa ingest --encoding``, ``IngestOptions.encoding``).

Bytes that none of these decode raise :class:`UndecodableError`, whose
message names the likely encoding (guessed by charset-normalizer) and what to
do::

    >>> decode_text("café".encode("utf-16"), "text").text
    'café'
    >>> decode_text(b"caf\\xe9 au lait", "text")                # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipelines.encodings.UndecodableError: not valid UTF-8 (byte 0xe9 at offset 3) ...

The text keeps every character; only the byte-order mark is dropped and line
ends become ``\\n`` (``\\r\\n`` and a lone ``\\r``), so offsets into it stay
stable across platforms.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "html"]

#: Longest and most specific first: a UTF-32-LE mark begins with the UTF-16-LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: How much of an HTML file is searched for its charset (the HTML standard's
#: prescan reads 1,024 bytes; real pages put long scripts first, so a little more).
HTML_PRESCAN_BYTES = 4096
#: How much of a file charset-normalizer reads to guess an encoding.
GUESS_BYTES = 64 * 1024

_META_CHARSET = re.compile(rb"""<meta[^>]*?\bcharset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([-\w.:]+)["']""", re.IGNORECASE)
_EMACS = re.compile(rb"-\*-.*?\bcoding[:=]\s*([-\w.]+).*?-\*-")
_VIM = re.compile(rb"\b(?:vi|vim|ex):.*?\b(?:fileencoding|fenc)=([-\w.]+)")
# The HTML standard reads these labels as windows-1252, as every browser does.
_HTML_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii"})
_HTML_AS_CP1252 |= frozenset({"us-ascii", "iso_8859-1", "cp819", "ibm819", "windows-1252"})
# Preferred names when charset-normalizer finds several encodings equally likely.
_COMMON = (
    "utf_8", "cp1252", "latin_1", "iso8859_15", "cp1250", "cp1251", "shift_jis", "cp932",
    "euc_jp", "gb18030", "gbk", "big5", "euc_kr", "koi8_r", "utf_16", "utf_32",
)  # fmt: skip


class UndecodableError(ValueError):
    """The bytes cannot be read as text; the message says why and what to do."""


@dataclass(frozen=True)
class Decoded:
    """Text read from bytes, with the encoding used and what chose it.

    ``declared_by``: ``"byte-order mark"``, ``"meta charset"``, ``"XML declaration"``,
    ``"coding line"``, ``"utf-8"`` (the default) or ``"encoding option"`` (the caller's).
    """

    text: str
    encoding: str
    declared_by: str


def decode_text(data: bytes, kind: Kind, fallback: str | None = None) -> Decoded:
    """Decode a text or HTML file's bytes (see the module docstring).

    ``kind`` picks which declarations count (``"html"``: meta charset and XML
    declaration; ``"text"``: Emacs/Vim coding lines). ``fallback`` is used for
    bytes that are not UTF-8 and declare no encoding. Raises
    :class:`UndecodableError` (a ``ValueError``) for bytes that cannot be decoded.
    """
    for bom, name in BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], name, "byte-order mark", len(bom))
    declared = _declared(data, kind)
    if declared is not None:
        label, how = declared
        return _decode(data, _codec_for(label, kind, how), how, 0)
    nul = data.find(b"\x00")
    if nul >= 0:
        wide = _codec_for(fallback, kind, FALLBACK) if fallback else ""
        if wide.startswith(("utf-16", "utf-32")):  # NUL bytes are expected there
            return _decode(data, wide, FALLBACK, 0)
        # UTF-16/32 text of a script in the first 256 code points is a quarter
        # or more NUL bytes; a few NULs are a binary file's.
        guess = _guess(data) if len(data) >= 16 and data.count(0) * 4 >= len(data) else None
        if guess is not None and guess[0].startswith(("utf_16", "utf_32")):
            raise UndecodableError(
                f"looks like {_pretty(guess[0])} text without a byte-order mark; "
                f"save it as UTF-8, or give the encoding (kgqa ingest --encoding "
                f"{_pretty(guess[0]).lower()})"
            )
        raise UndecodableError(f"binary file (NUL byte at byte offset {nul}); expected text")
    try:
        return Decoded(_newlines(data.decode("utf-8")), "utf-8", "utf-8")
    except UnicodeDecodeError as e:
        if fallback is None:
            raise UndecodableError(_not_utf8(data, e)) from e
    return _decode(data, _codec_for(fallback, kind, FALLBACK), FALLBACK, 0)


FALLBACK = "encoding option"


def _decode(data: bytes, codec: str, how: str, offset: int) -> Decoded:
    """Decode with ``codec``, chosen by ``how`` (a byte-order mark, a declaration...)."""
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as e:
        where = f"byte 0x{data[e.start]:02x} at offset {offset + e.start}"
        guess = _guess(data)
        hint = f"; it looks like {_pretty(guess[0])}" if guess and guess[0] != codec else ""
        if how == FALLBACK:
            fix = "give another encoding or save it as UTF-8"
        elif how == "byte-order mark":
            fix = "save it as UTF-8"
        else:
            fix = f"correct its {how} or save it as UTF-8"
        raise UndecodableError(
            f"not valid {_pretty(codec)} ({where}), the encoding its {how} gives{hint}: {fix}"
        ) from e
    return Decoded(_newlines(text), codec, how)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _declared(data: bytes, kind: Kind) -> tuple[str, str] | None:
    """The encoding label a file declares about itself, and where."""
    if kind == "html":
        head = data[:HTML_PRESCAN_BYTES]
        m = _XML_DECL.match(head)
        if m:
            return m.group(1).decode("ascii"), "XML declaration"
        m = _META_CHARSET.search(head)
        if m:
            return m.group(1).decode("ascii"), "meta charset"
        return None
    lines = data[:2048].split(b"\n", 2)[:2]
    tail = data[-2048:].split(b"\n")[-6:]
    for line in lines:
        m = _EMACS.search(line) or _VIM.search(line)
        if m:
            return m.group(1).decode("ascii"), "coding line"
    for line in tail:
        m = _VIM.search(line)
        if m:
            return m.group(1).decode("ascii"), "coding line"
    return None


def _codec_for(label: str, kind: Kind, how: str) -> str:
    """The Python codec for an encoding label; UndecodableError when there is none."""
    key = label.strip().lower()
    if kind == "html" and key in _HTML_AS_CP1252:
        return "cp1252"
    if kind == "html" and key.startswith(("utf-16", "utf16")):
        # A file that can declare itself in ASCII is not UTF-16 (the HTML standard).
        return "utf-8"
    try:
        return codecs.lookup(key).name
    except LookupError as e:
        raise UndecodableError(
            f"its {how} names the unknown encoding {label!r}; correct it or save the file as UTF-8"
        ) from e


def _not_utf8(data: bytes, e: UnicodeDecodeError) -> str:
    where = f"byte 0x{data[e.start]:02x} at offset {e.start}"
    guess = _guess(data)
    if guess is None:
        return f"not valid UTF-8 ({where}) and no text encoding fits: a binary file?"
    best, others = guess
    also = f" (or {', '.join(_pretty(o) for o in others[:3])})" if others else ""
    return (
        f"not valid UTF-8 ({where}); it looks like {_pretty(best)}{also}: save it as UTF-8, "
        f"declare its encoding in the file, or give it (kgqa ingest --encoding {best})"
    )


def likely_encoding(data: bytes) -> str | None:
    """The encoding ``data`` most likely has (charset-normalizer's guess), or None.

    >>> likely_encoding("Größe: 10 €, crème brûlée à la carte".encode("cp1252"))
    'cp1252'
    """
    guess = _guess(data)
    return _pretty(guess[0]) if guess else None


def _guess(data: bytes) -> tuple[str, list[str]] | None:
    """charset-normalizer's most likely encoding of ``data`` and the equally likely others."""
    try:
        from charset_normalizer import from_bytes

        results = list(from_bytes(data[:GUESS_BYTES]))
    except Exception:  # a guess is a courtesy: never let it fail a file
        return None
    if not results:
        return None
    top = results[0]
    tied: list[str] = []
    for r in results:
        if (r.percent_chaos, r.percent_coherence) == (top.percent_chaos, top.percent_coherence):
            tied += [c for c in r.could_be_from_charset if c not in tied]
    ranked = sorted(tied, key=lambda c: _COMMON.index(c) if c in _COMMON else len(_COMMON))
    return ranked[0], ranked[1:]


def _pretty(codec: str) -> str:
    """``utf_16_le`` -> ``UTF-16-LE``; ``cp1252`` -> ``cp1252``."""
    name = codec.replace("_", "-")
    return name.upper() if name.lower().startswith("utf") else name
