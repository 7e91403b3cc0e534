"""Distinct evidence for the reader: a document's neighbouring chunks become one passage,
and a document counts once among the few passages a reader is shown."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from kgqa.types import Chunk, Hit


def distinct_passages(hits: Sequence[Hit], limit: int,
                      document_text: Callable[[str], str] | None = None) -> list[Hit]:
    """At most ``limit`` passages, one per document, best first.

    A chunk next to (or overlapping) a better-ranked chunk of the same document
    is merged into it (the passage then spans both, ``text`` being the
    document's text between them, so offsets stay exact); other chunks of a
    document already shown are left out, unless fewer than ``limit`` documents
    were retrieved, in which case they fill the remaining places in rank order.
    """
    kept: list[Hit] = []
    spare: list[Hit] = []
    by_doc: dict[str, int] = {}
    for hit in hits:
        at = by_doc.get(hit.chunk.doc_id)
        if at is None:
            by_doc[hit.chunk.doc_id] = len(kept)
            kept.append(hit)
            continue
        merged = _merge(kept[at], hit, document_text)
        if merged is not None:
            kept[at] = merged
        else:
            spare.append(hit)
    out = kept[:limit]
    if len(out) < limit:
        out += spare[: limit - len(out)]
        out.sort(key=lambda h: h.rank)
    return [replace(h, rank=i) for i, h in enumerate(out, start=1)]


def _merge(a: Hit, b: Hit, document_text: Callable[[str], str] | None) -> Hit | None:
    """``a`` widened to cover ``b`` when the two chunks touch, else ``None``."""
    ca, cb = a.chunk, b.chunk
    if abs(ca.index - cb.index) != 1 and not (cb.start < ca.end and ca.start < cb.end):
        return None
    start, end = min(ca.start, cb.start), max(ca.end, cb.end)
    if document_text is not None:
        text = document_text(ca.doc_id)[start:end]
    elif ca.start <= cb.start <= ca.end:
        text = ca.text + cb.text[ca.end - cb.start:]
    elif cb.start <= ca.start <= cb.end:
        text = cb.text + ca.text[cb.end - ca.start:]
    else:
        return None  # a gap between them and no document text to fill it
    if len(text) != end - start:
        return None
    chunk = Chunk(id=ca.id, doc_id=ca.doc_id, index=min(ca.index, cb.index), text=text,
                  start=start, end=end)
    scores = {k: max(v, b.scores.get(k, v)) for k, v in a.scores.items()}
    return replace(a, chunk=chunk, scores=scores,
                   entities=tuple(dict.fromkeys(a.entities + b.entities)),
                   paths=a.paths + tuple(p for p in b.paths if p not in a.paths))


def cached(document_text: Callable[[str], str]) -> Callable[[str], str]:
    """``document_text`` reading each document once (a question's hops share passages)."""
    cache: dict[str, str] = {}

    def text(doc_id: str) -> str:
        if doc_id not in cache:
            cache[doc_id] = document_text(doc_id)
        return cache[doc_id]

    return text


__all__ = ["cached", "distinct_passages"]
