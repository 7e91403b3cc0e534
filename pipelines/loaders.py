"""Read a user's files and folders into :class:`~kgqa.types.Document` values.

:func:`iter_documents` never raises for bad input: every file (or JSONL line)
that cannot be read becomes an :class:`~kgqa.types.IngestProblem` naming the
file and the reason, and the walk goes on with the rest.

Supported formats (:data:`SUPPORTED_SUFFIXES`, matched case-insensitively):

* ``.txt`` -- title is the file stem;
* ``.md`` / ``.markdown`` -- title is the first ``# `` heading, else the stem;
* ``.html`` / ``.htm`` -- visible text only, one blank line between blocks;
  title from ``<title>``, else the first ``<h1>``, else the stem;
* ``.pdf`` -- text of every page, pages joined by a blank line; title from
  the PDF metadata, else the stem;
* ``.jsonl`` -- one ``{"id", "title", "text"}`` object per line, each line a
  *record* (``Loaded.is_record``) whose id is its ``"id"``.

Document ids of files are their path relative to the folder argument they were
found under, with forward slashes; a file given directly gets its file name::

    iter_documents(["demo/corpus"])   # -> ids "people-maria.md", "sub/x.txt"
    iter_documents(["notes/a.txt"])   # -> id "a.txt"

The text is kept as read, except that a UTF-8 BOM is dropped and ``\\r\\n``
becomes ``\\n``, so chunk offsets point into ``Document.text``.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from kgqa.types import Document, IngestProblem

TEXT_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES: frozenset[str] = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | JSONL_SUFFIXES
)


@dataclass(frozen=True)
class Loaded:
    """A document read from disk; ``is_record`` is True for a JSONL line.

    Records are passages already sized for retrieval, so the chunker may keep
    them whole (see ``pipelines.chunking.ChunkerConfig.record_max_tokens``).
    """

    document: Document
    is_record: bool = False


class _Bad(Exception):
    """Internal: one input cannot be loaded; becomes an IngestProblem."""

    def __init__(self, reason: str, source: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source


def iter_documents(paths: Sequence[str | Path]) -> Iterator[Loaded | IngestProblem]:
    """Yield a :class:`Loaded` per readable document, an IngestProblem per bad input.

    Folders are walked recursively in sorted order, skipping hidden entries
    (names starting with ``.``) and files of unsupported types. A file given
    directly with an unsupported suffix is reported as a problem.
    """
    for arg in paths:
        path = Path(arg)
        if not str(arg):  # Path("") would silently mean the current folder
            yield IngestProblem("", "empty path")
        elif not path.exists():
            yield IngestProblem(str(path), "file or folder not found")
        elif path.is_dir():
            yield from _walk(path, path)
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield IngestProblem(
                str(path),
                f"unsupported file type {path.suffix or '(no suffix)'!r}; "
                f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}",
            )
        else:
            yield from _load_file(path, path.name)


def load_paths(paths: Sequence[str | Path]) -> tuple[list[Loaded], list[IngestProblem]]:
    """Collect :func:`iter_documents` into (loaded documents, problems)."""
    loaded: list[Loaded] = []
    problems: list[IngestProblem] = []
    for item in iter_documents(paths):
        if isinstance(item, IngestProblem):
            problems.append(item)
        else:
            loaded.append(item)
    return loaded, problems


# --------------------------------------------------------------------------- walking


def _walk(folder: Path, root: Path) -> Iterator[Loaded | IngestProblem]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        yield IngestProblem(str(folder), f"cannot list folder: {_os_reason(e)}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            # Symlinked folders are not followed, so a link loop cannot hang the walk.
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(path, root)
                continue
            is_file = entry.is_file()
        except OSError as e:
            yield IngestProblem(str(path), f"cannot read: {_os_reason(e)}")
            continue
        if is_file and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield from _load_file(path, path.relative_to(root).as_posix())


def _load_file(path: Path, doc_id: str) -> Iterator[Loaded | IngestProblem]:
    suffix = path.suffix.lower()
    source = str(path)
    try:
        data = _read_bytes(path)
        if not data:
            raise _Bad("empty file")
        if suffix in JSONL_SUFFIXES:
            yield from _load_jsonl(data, source)
            return
        if suffix in PDF_SUFFIXES:
            title, text = _read_pdf(data, path.stem)
        else:
            raw = _decode(data)
            if suffix in HTML_SUFFIXES:
                title, text = _read_html(raw, path.stem)
            elif suffix in MARKDOWN_SUFFIXES:
                title, text = _markdown_title(raw, path.stem), raw
            else:
                title, text = path.stem, raw
        if not text.strip():
            what = "no visible text" if suffix in HTML_SUFFIXES else "only whitespace"
            raise _Bad(f"file contains {what}")
    except _Bad as e:
        yield IngestProblem(e.source or source, e.reason)
        return
    yield Loaded(Document(id=doc_id, title=title, text=text, source=source))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise _Bad(f"cannot read file: {_os_reason(e)}") from e


def _os_reason(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    return e.strerror or str(e)


# --------------------------------------------------------------------------- text


def _decode(data: bytes, base_offset: int = 0) -> str:
    """Decode UTF-8 text: refuse NUL bytes, drop a BOM, turn CRLF into LF.

    ``base_offset`` is added to byte offsets in messages (for JSONL lines).
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _Bad(
            f"binary file (NUL byte at byte offset {base_offset + nul}); expected UTF-8 text"
        )
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Bad(
            f"invalid UTF-8 at byte offset {base_offset + skip + e.start}; save the file as UTF-8"
        ) from e
    return text.replace("\r\n", "\n")


_MD_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_MD_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _markdown_title(text: str, fallback: str) -> str:
    """The first level-1 ``# `` heading outside code fences, else ``fallback``."""
    m = _MD_TITLE.search(_MD_FENCE.sub("", text))
    return m.group(1).strip() if m and m.group(1).strip() else fallback


# --------------------------------------------------------------------------- HTML

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})
# Tags that may appear in <head>; any other start tag implicitly ends it.
_HEAD_TAGS = frozenset({"head", "meta", "link", "title", "base"}) | _SKIP_TAGS
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "summary", "table", "tr", "ul", "caption",
        "body", "html",
    }
)  # fmt: skip


class _HtmlText(HTMLParser):
    """Collect visible text as blocks (one per paragraph-like element)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self.h1 = ""
        self._lines: list[list[str]] = [[]]  # current block, split at <br>
        self._skip = 0
        self._in_head = False
        self._in_title = False
        self._h1_depth = 0
        self._h1_text = ""
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "head":
            self._in_head = True
        elif tag == "title" and not self._skip:  # not an <svg><title>
            self._in_title = True
        elif tag == "br":
            self._lines.append([])
        elif tag in ("td", "th"):
            self._lines[-1].append(" ")
        if tag not in _HEAD_TAGS:
            self._in_head = False
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "pre":
            self._pre += 1
        if tag == "h1" and not self.h1:
            self._h1_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._lines.append([])
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag == "h1" and self._h1_depth:
            self._h1_depth -= 1
            if not self._h1_depth:
                self.h1 = " ".join(self._h1_text.split())

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip or self._in_head:
            return
        if self._h1_depth:
            self._h1_text += data
        if self._pre:
            lines = data.split("\n")
            self._lines[-1].append(lines[0])
            self._lines.extend([line] for line in lines[1:])
        else:
            self._lines[-1].append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        if self._pre:
            lines = ["".join(parts).rstrip() for parts in self._lines]
        else:
            lines = [" ".join("".join(parts).split()) for parts in self._lines]
        block = "\n".join(lines).strip("\n")
        if block.strip():
            self.blocks.append(block)
        self._lines = [[]]


def _read_html(raw: str, fallback: str) -> tuple[str, str]:
    """Visible text of an HTML page and its title.

    >>> _read_html("<title>T</title><p>One <b>two</b></p><script>x()</script><p>Three", "f")
    ('T', 'One two\\n\\nThree')
    """
    parser = _HtmlText()
    parser.feed(raw)
    parser.close()
    title = " ".join(parser.title.split()) or parser.h1 or fallback
    return title, "\n\n".join(parser.blocks)


# --------------------------------------------------------------------------- PDF


def _read_pdf(data: bytes, fallback: str) -> tuple[str, str]:
    import pypdf  # heavy-ish; only needed for PDFs
    from pypdf.errors import DependencyError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")  # many PDFs only have an owner password
            except (DependencyError, NotImplementedError) as e:
                raise _Bad(f"encrypted PDF that cannot be decrypted: {e}") from e
            if not ok:
                raise _Bad("encrypted PDF (a password is required); save an unlocked copy")
        pages = [(page.extract_text() or "").replace("\r\n", "\n") for page in reader.pages]
        meta = reader.metadata
        meta_title = meta.title if meta is not None else None
    except _Bad:
        raise
    except Exception as e:  # pypdf raises many kinds of errors on damaged files
        raise _Bad(f"corrupt or unreadable PDF ({type(e).__name__}: {e})") from e
    text = "\n\n".join(p.strip("\n") for p in pages if p.strip())
    if not text.strip():
        raise _Bad("PDF has no extractable text (scanned images need OCR first)")
    title = meta_title.strip() if isinstance(meta_title, str) and meta_title.strip() else fallback
    return title, text


# --------------------------------------------------------------------------- JSONL


def _load_jsonl(data: bytes, path: str) -> Iterator[Loaded | IngestProblem]:
    """One record per non-blank line; bad lines are reported as ``path:LINENO``."""
    nul = data.find(b"\x00")
    if nul >= 0:
        yield IngestProblem(path, f"binary file (NUL byte at byte offset {nul}); expected JSONL")
        return
    seen: dict[str, int] = {}
    offset = 0
    any_line = False
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        line_offset, offset = offset, offset + len(line) + 1
        if lineno == 1 and line.startswith(codecs.BOM_UTF8):
            line, line_offset = line[len(codecs.BOM_UTF8) :], line_offset + len(codecs.BOM_UTF8)
        if not line.strip():
            continue
        any_line = True
        source = f"{path}:{lineno}"
        try:
            doc = _record(_decode(line, line_offset), source)
        except _Bad as e:
            yield IngestProblem(source, e.reason)
            continue
        if doc.id in seen:
            yield IngestProblem(
                source, f"duplicate id {doc.id!r} (first used on line {seen[doc.id]})"
            )
            continue
        seen[doc.id] = lineno
        yield Loaded(doc, is_record=True)
    if not any_line:
        yield IngestProblem(path, "file contains only whitespace")


def _record(line: str, source: str) -> Document:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise _Bad(f"invalid JSON: {e.msg} at column {e.colno}") from e
    if not isinstance(obj, dict):
        raise _Bad(f"expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    if raw_id is None:
        raise _Bad('missing "id"')
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise _Bad(f'"id" must be a string or an integer, got {type(raw_id).__name__}')
    doc_id = str(raw_id)
    if not doc_id.strip():
        raise _Bad('"id" is empty')
    title = obj.get("title")
    if title is None:
        title = ""
    elif not isinstance(title, str):
        raise _Bad(f'"title" must be a string, got {type(title).__name__}')
    if "text" not in obj or obj["text"] is None:
        raise _Bad('missing "text"')
    text = obj["text"]
    if not isinstance(text, str):
        raise _Bad(f'"text" must be a string, got {type(text).__name__}')
    if not text.strip():
        raise _Bad('"text" is empty')
    return Document(id=doc_id, title=title, text=text.replace("\r\n", "\n"), source=source)
