"""Document ids that never let one source silently replace another.

A file's id is its path relative to the folder named on the command line, or
its name when the file itself was named (``notes.md``); a JSONL record's id
is its ``"id"``. Short ids read well in citations, but two files can share
one: ``project-alder/notes.md`` and ``project-birch/notes.md`` ingested in two
runs. So each document also records its *source* (the file's absolute path,
``path:LINE`` for a record, a label for an upload), and :func:`assign_ids`
decides, per new document, given what the base already holds:

* the id is free, or held by the **same source** (:func:`same_source`), or by
  a document with the **same content** -> the document takes the id (an
  update when its content changed, nothing to do when it did not);
* the id is held by a **different source** with different content -> a
  :class:`~kgqa.types.Conflict`, settled by the ``on_conflict`` policy:

  - ``keep-both`` (the default): the new document gets the first free id
    among its path with more and more of its folders
    (``project-birch/notes.md``, ``work/project-birch/notes.md``, ... then
    ``notes-2.md``), so both stay;
  - ``replace``: the new document takes the id; the old one is gone;
  - ``skip``: the new document is not ingested (reported as a problem).

Within one run, two files with the same id are both kept (``replace``
cannot choose between two new documents) unless the policy is ``skip``; two
:class:`Document` values without a source that share an id are a mistake of
the caller, and the second is refused. Re-running the same ingest gives every
document the id it got before.

Bases built before sources were absolute paths stored the path as it was
typed (``docs/notes.md``, relative to where kgqa ran); such a source is the
same as a new absolute path when it resolves to it from the current folder,
or when it has two or more parts and the new path ends with them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import PurePath
from typing import Literal, get_args

from kgqa.errors import ConfigError
from kgqa.types import Conflict, Document, IngestProblem

OnConflict = Literal["replace", "keep-both", "skip"]
ON_CONFLICT: tuple[str, ...] = get_args(OnConflict)

_LINE_SUFFIX = re.compile(r":\d+$")


def check_policy(policy: str) -> OnConflict:
    """``policy`` as an :data:`OnConflict`; :class:`ConfigError` when it is not one."""
    if policy not in ON_CONFLICT:
        raise ConfigError(f"on_conflict must be one of {', '.join(ON_CONFLICT)}, got {policy!r}")
    return policy  # type: ignore[return-value]


def assign_ids(
    docs: Sequence[tuple[Document, bool]],
    stored: Mapping[str, tuple[str, str]],
    policy: OnConflict = "keep-both",
) -> tuple[list[tuple[Document, bool]], list[Conflict], list[IngestProblem]]:
    """Give each new document its final id (see the module docstring).

    ``docs``: ``(document, is_record)`` in load order; ``stored``: id ->
    ``(source, content_hash)`` of the documents already in the base. Returns
    the documents to ingest (ids settled; skipped ones left out), every
    conflict with what was done about it, and the problems (skipped conflicts,
    refused duplicates).
    """
    check_policy(policy)
    taken: dict[str, tuple[str, str]] = {}  # ids given in this run -> (source, hash)
    out: list[tuple[Document, bool]] = []
    conflicts: list[Conflict] = []
    problems: list[IngestProblem] = []

    def free_for(doc_id: str, doc: Document) -> bool:
        holder = taken.get(doc_id) or stored.get(doc_id)
        if holder is None:
            return True
        source, content = holder
        return content == doc.content_hash or (
            doc_id not in taken and same_source(source, doc.source)
        )

    for doc, is_record in docs:
        established = next(
            (
                c
                for c in _path_candidates(doc)
                if c in stored and c not in taken and same_source(stored[c][0], doc.source)
            ),
            None,
        )
        if free_for(doc.id, doc):
            chosen = doc.id
        elif established is not None:  # kept beside the other one in an earlier run
            chosen = established
        else:
            holder_source = (taken.get(doc.id) or stored[doc.id])[0]
            in_run = doc.id in taken
            if in_run and not (doc.source and holder_source):
                problems.append(
                    IngestProblem(
                        doc.source or doc.id,
                        f"duplicate document id {doc.id!r} (also in {holder_source or doc.id})",
                    )
                )
                continue
            if policy == "skip":
                conflicts.append(Conflict(doc.id, doc.source, holder_source, "skip"))
                problems.append(_skipped(conflicts[-1]))
                continue
            if policy == "replace" and not in_run:
                chosen = doc.id
                conflicts.append(Conflict(doc.id, doc.source, holder_source, "replace"))
            else:
                chosen = next(c for c in _candidates(doc) if free_for(c, doc))
                conflicts.append(
                    Conflict(doc.id, doc.source, holder_source, "keep-both", new_id=chosen)
                )
        if chosen in taken:  # same content as a document of this run: nothing new
            continue
        taken[chosen] = (doc.source, doc.content_hash)
        out.append((doc if chosen == doc.id else replace(doc, id=chosen), is_record))
    return out, conflicts, problems


def _skipped(c: Conflict) -> IngestProblem:
    return IngestProblem(
        c.source or c.doc_id,
        f"the id {c.doc_id!r} belongs to a document from another source "
        f"({c.existing_source or 'unknown'}); not ingested (on-conflict skip): choose "
        "keep-both to keep both or replace to replace it",
    )


def _candidates(doc: Document) -> Iterator[str]:
    """Other ids for ``doc``: its path with more and more folders, then ``stem-N.suffix``."""
    yield from _path_candidates(doc)
    stem, dot, suffix = doc.id.rpartition(".")
    if not stem or "/" in suffix:
        stem, dot, suffix = doc.id, "", ""
    n = 2
    while True:
        yield f"{stem}-{n}{dot}{suffix}"
        n += 1


def _path_candidates(doc: Document) -> list[str]:
    """``doc``'s id with more and more of the folders above it (none without a path).

    >>> _path_candidates(Document("notes.md", "", "x", source="/home/me/birch/notes.md"))
    ['birch/notes.md', 'me/birch/notes.md', 'home/me/birch/notes.md']
    >>> _path_candidates(Document("7", "", "x", source="/data/c.jsonl:7"))
    ['c.jsonl/7', 'data/c.jsonl/7']
    """
    path = _LINE_SUFFIX.sub("", doc.source)
    pure = PurePath(path)
    if not path or not pure.is_absolute():
        return []
    own = tuple(doc.id.split("/"))
    parts = pure.parts
    # A file's id is the end of its path; a record's id follows its file's name.
    folders = parts[: -len(own)] if parts[-len(own) :] == own else parts
    folders = folders[1:]  # without the root ("/" or "C:\\")
    return ["/".join((*folders[-k:], *own)) for k in range(1, len(folders) + 1)]


def same_source(stored: str, new: str) -> bool:
    """Do two documents' sources name the same file (or the same record's file)?

    A new document without a source (a :class:`Document` given to the Python
    API) is addressed by its id alone: it is the same source as any.

    >>> same_source("/data/notes.md", "/data/./notes.md")
    True
    >>> same_source("/data/c.jsonl:3", "/data/c.jsonl:7")   # a record whose line moved
    True
    >>> same_source("project-alder/notes.md", "/home/me/project-birch/notes.md")
    False
    """
    if not new or stored == new:
        return True
    if not stored:
        return False
    a, b = _LINE_SUFFIX.sub("", stored), _LINE_SUFFIX.sub("", new)
    pa, pb = PurePath(a), PurePath(b)
    if not pb.is_absolute():
        return a == b
    if pa.is_absolute():
        return os.path.normpath(a) == os.path.normpath(b)
    if os.path.abspath(a) == os.path.normpath(b):
        return True
    rel = tuple(p for p in pa.parts if p not in (".", ".."))
    return len(rel) >= 2 and pb.parts[-len(rel) :] == rel
