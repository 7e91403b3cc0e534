"""Read a user's files and folders into :class:`~kgqa.types.Document` values.

:func:`iter_documents` never raises for bad input: every file (or JSONL line)
that cannot be read becomes an :class:`~kgqa.types.IngestProblem` naming the
file and the reason, and the walk goes on with the rest.

Supported formats (:data:`SUPPORTED_SUFFIXES`, matched case-insensitively):

* ``.txt`` -- title is the file stem;
* ``.md`` / ``.markdown`` -- title is the first ``# `` heading, else the stem;
* ``.html`` / ``.htm`` -- the page's main content (no navigation, banners or
  hidden elements; see ``pipelines/html_text.py``), one blank line between
  blocks; title from ``<title>``, else the first ``<h1>``, else the stem;
* ``.pdf`` -- text of every page, pages joined by a blank line; title from
  the PDF metadata, else the stem;
* ``.jsonl`` -- one ``{"id", "title", "text"}`` object per line, each line a
  *record* (``Loaded.is_record``) whose id is its ``"id"``.

Document ids of files are their path relative to the folder argument they were
found under, with forward slashes; a file given directly gets its file name::

    iter_documents(["demo/corpus"])   # -> ids "people-maria.md", "sub/x.txt"
    iter_documents(["notes/a.txt"])   # -> id "a.txt"

(Two files can share such an id; ``pipelines/doc_ids.py`` settles that.)

Text and HTML files are decoded as they declare (a byte-order mark, a charset
declaration or a coding line), else as UTF-8, else with the caller's
``encoding``; see ``pipelines/encodings.py``. The text is kept as read, except
that the byte-order mark is dropped, line ends become ``\\n`` and unpaired
surrogates (from JSON escapes) become U+FFFD, so chunk offsets point into
``Document.text``. ``Document.source`` is the file's absolute path (with
``:LINE`` for a JSONL record): what tells two files with the same id apart.

Files over :data:`MAX_FILE_BYTES`, texts over :data:`MAX_TEXT_CHARS` and ids
over :data:`MAX_ID_CHARS` are refused with a problem: the store and the graph
server could not hold them. Titles are cut to :data:`MAX_TITLE_CHARS`. An
unexpected error while reading one file is a problem for that file, never an
exception.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgqa.types import Document, IngestProblem
from pipelines.encodings import BOMS, UndecodableError, decode_text, likely_encoding
from pipelines.html_text import html_to_text

TEXT_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES: frozenset[str] = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | JSONL_SUFFIXES
)
#: Largest file read (1 GiB): the whole file is held in memory.
MAX_FILE_BYTES = 1 << 30
#: Largest document text (characters); SQLite holds at most 1e9 bytes in one value.
MAX_TEXT_CHARS = 100_000_000
#: Longest document id: ids are keys in the store and in Neo4j's indexes (8 kB a key).
MAX_ID_CHARS = 1000
#: Longest title kept (a longer one is cut): the title is embedded with every chunk.
MAX_TITLE_CHARS = 500


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


def iter_documents(
    paths: Sequence[str | Path], encoding: str | None = None
) -> Iterator[Loaded | IngestProblem]:
    """Yield a :class:`Loaded` per readable document, an IngestProblem per bad input.

    Folders are walked recursively in sorted order, skipping hidden entries
    (names starting with ``.``) and files of unsupported types. A file given
    directly with an unsupported suffix is reported as a problem. ``encoding``
    decodes text files that are neither UTF-8 nor declare their encoding.
    """
    for arg in paths:
        path = Path(arg)
        if not str(arg):  # Path("") would silently mean the current folder
            yield IngestProblem("", "empty path")
        elif not path.exists():
            yield IngestProblem(str(path), "file or folder not found")
        elif path.is_dir():
            yield from _walk(path, path, encoding)
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield IngestProblem(
                str(path),
                f"unsupported file type {path.suffix or '(no suffix)'!r}; "
                f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}",
            )
        else:
            yield from _load_file(path, path.name, encoding)


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


def _walk(folder: Path, root: Path, encoding: str | None) -> Iterator[Loaded | IngestProblem]:
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
                yield from _walk(path, root, encoding)
                continue
            is_file = entry.is_file()
        except OSError as e:
            yield IngestProblem(str(path), f"cannot read: {_os_reason(e)}")
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        if is_file:
            yield from _load_file(path, path.relative_to(root).as_posix(), encoding)
        elif entry.is_symlink() and not path.exists():
            yield IngestProblem(str(path), "broken link: what it points to does not exist")
        elif not path.is_dir():
            yield IngestProblem(str(path), "not a regular file (a pipe, socket or device)")


def _load_file(path: Path, doc_id: str, encoding: str | None) -> Iterator[Loaded | IngestProblem]:
    source = str(path)
    try:
        data = _read_bytes(path)
    except _Bad as e:
        yield IngestProblem(source, e.reason)
        return
    yield from load_bytes(path.name, data, source, os.path.abspath(path), doc_id, encoding)


def load_bytes(
    name: str,
    data: bytes,
    source: str,
    stored_source: str | None = None,
    doc_id: str | None = None,
    encoding: str | None = None,
) -> Iterator[Loaded | IngestProblem]:
    """Read one file's bytes; its type comes from ``name``'s suffix.

    ``source`` names the file in problems (``source:LINE`` for JSONL lines);
    ``stored_source`` is recorded as ``Document.source`` (default ``source``);
    ``doc_id`` defaults to ``name``. Never raises: an unexpected error is a
    problem for this file.
    """
    stored = stored_source if stored_source is not None else source
    try:
        yield from _load_data(name, data, source, stored, doc_id or name, encoding)
    except _Bad as e:
        yield IngestProblem(e.source or source, e.reason)
    except Exception as e:  # a bug or a library's limit must not end the whole ingest
        yield IngestProblem(source, f"could not be read ({type(e).__name__}: {e})")


def _load_data(
    name: str, data: bytes, source: str, stored: str, doc_id: str, encoding: str | None
) -> Iterator[Loaded | IngestProblem]:
    suffix = Path(name).suffix.lower()
    stem = Path(name).stem
    if not data:
        raise _Bad("empty file")
    if suffix in JSONL_SUFFIXES:
        yield from _load_jsonl(data, source, stored)
        return
    if suffix in PDF_SUFFIXES:
        title, text = _read_pdf(data, stem)
    else:
        is_html = suffix in HTML_SUFFIXES
        try:
            raw = decode_text(data, "html" if is_html else "text", encoding).text
        except UndecodableError as e:
            raise _Bad(str(e)) from e
        if is_html:
            title, text = html_to_text(raw, stem)
        elif suffix in MARKDOWN_SUFFIXES:
            title, text = _markdown_title(raw, stem), raw
        else:
            title, text = stem, raw
    if not text.strip():
        what = "no visible text" if suffix in HTML_SUFFIXES else "only whitespace"
        raise _Bad(f"file contains {what}")
    yield Loaded(_document(doc_id, title, text, stored))


def _document(doc_id: str, title: str, text: str, source: str) -> Document:
    """A Document within the store's limits, with unpaired surrogates replaced."""
    if len(text) > MAX_TEXT_CHARS:
        raise _Bad(
            f"text too long ({len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}): "
            "split it into smaller files"
        )
    if len(doc_id) > MAX_ID_CHARS:
        raise _Bad(f"id too long ({len(doc_id):,} characters; the limit is {MAX_ID_CHARS:,})")
    title = title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
    # File names that are not valid UTF-8 and JSON escapes can carry unpaired
    # surrogates, which no store can encode.
    doc_id, title, text, source = (
        _SURROGATE.sub("\ufffd", x) for x in (doc_id, title, text, source)
    )
    return Document(id=doc_id, title=title, text=text, source=source)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Bad(
                f"file too large ({size / 2**20:,.0f} MiB; the limit is "
                f"{MAX_FILE_BYTES / 2**20:,.0f} MiB): split it into smaller files"
            )
        return path.read_bytes()
    except OSError as e:
        raise _Bad(f"cannot read file: {_os_reason(e)}") from e


def _os_reason(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    return e.strerror or str(e)


# --------------------------------------------------------------------------- text


def _decode_line(data: bytes, base_offset: int) -> str:
    """Decode one JSONL line as UTF-8 (JSON's encoding); offsets in messages are the file's."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _Bad(f"binary data (NUL byte at byte offset {base_offset + nul}); expected JSON")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        guess = likely_encoding(data)
        looks = f"; it looks like {guess}" if guess and guess != "UTF-8" else ""
        raise _Bad(
            f"invalid UTF-8 at byte offset {base_offset + e.start}{looks}: JSONL is UTF-8, "
            "save the file as UTF-8"
        ) from e


_MD_TITLE = re.compile(r"^#[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_MD_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _markdown_title(text: str, fallback: str) -> str:
    """The first level-1 ``# `` heading outside code fences, else ``fallback``."""
    m = _MD_TITLE.search(_MD_FENCE.sub("", text))
    return m.group(1).strip() if m and m.group(1).strip() else fallback


# --------------------------------------------------------------------------- PDF


def _read_pdf(data: bytes, fallback: str) -> tuple[str, str]:
    import pypdf  # heavy-ish; only needed for PDFs
    from pypdf.errors import DependencyError

    # pypdf logs the damage it repairs without naming the file; a damaged PDF
    # that still cannot be read is reported below, with its name.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

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


def _load_jsonl(data: bytes, path: str, stored: str) -> Iterator[Loaded | IngestProblem]:
    """One record per non-blank line; bad lines are reported as ``path:LINENO``.

    A file with a UTF-16 or UTF-32 byte-order mark is re-encoded as UTF-8
    first (byte offsets in messages are then those of the UTF-8 text).
    """
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    for bom, codec in BOMS if not skip else ():
        if data.startswith(bom):
            try:
                data = data[len(bom) :].decode(codec).encode("utf-8", "surrogatepass")
            except UnicodeDecodeError as e:
                yield IngestProblem(path, f"not valid {codec} after its byte-order mark ({e})")
                return
            break
    nul = data.find(b"\x00", 0, 1024)  # further on, a NUL byte spoils only its line
    if nul >= 0:
        yield IngestProblem(path, f"binary file (NUL byte at byte offset {nul}); expected JSONL")
        return
    seen: dict[str, int] = {}
    offset = skip
    any_line = False
    for lineno, line in enumerate(data[skip:].split(b"\n"), start=1):
        line_offset, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        any_line = True
        source = f"{path}:{lineno}"
        try:
            doc = _record(_decode_line(line, line_offset), source, f"{stored}:{lineno}")
        except _Bad as e:
            yield IngestProblem(source, e.reason)
            continue
        except Exception as e:  # one bad line must not end the file
            yield IngestProblem(source, f"could not be read ({type(e).__name__}: {e})")
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


def _record(line: str, source: str, stored: str) -> Document:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise _Bad(f"invalid JSON: {e.msg} at column {e.colno}") from e
    except (ValueError, RecursionError) as e:  # a huge number; nesting too deep
        raise _Bad(f"invalid JSON: {e}") from e
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
    return _document(doc_id, title, text.replace("\r\n", "\n"), stored)
