"""Precision and recall of entity merging on a hand-labelled set of name pairs.

``tests/data/entity_merging.jsonl`` holds pairs of mentions, each in its own
small document (or both in one document), labelled ``same`` when a reader
would call them one entity ("Lumen Labs Inc." / "LUMEN LABS") and not when
they are different ones ("Henry Ford" / "Ford" the carmaker). Every line::

    {"id": 1, "kind": "legal suffix", "same": true,
     "a": {"text": "...", "entities": [["Lumen Labs Inc.", "ORG"]], "mention": "Lumen Labs Inc."},
     "b": {"text": "...", "entities": [["Lumen Labs", "ORG"]], "mention": "Lumen Labs"},
     "others": [ ...more documents of the same batch... ]}

or, for two mentions of one document, ``"doc": {"text", "entities"}`` with
``"a"`` and ``"b"`` the two surfaces. ``entities`` lists what spaCy would find,
in text order, with its label (mislabels included, as spaCy makes them).

The documents of a pair are resolved as one ingest batch
(:func:`kg.resolve.resolve_batch`); two mentions are *merged* when they get the
same entity id. Precision: merged pairs that are the same entity; recall: pairs
that are the same entity and were merged. By default the listed entities stand
in for spaCy, so this measures resolution alone; ``--spacy`` runs the real
extractor on the texts (extraction and resolution), a mention spaCy does not
find counting as not merged.

    python benchmarks/entity_merging.py [--spacy] [--errors] [--json]

The code measured is this checkout's, or the one ``PYTHONPATH`` names: to
compare with another version, ``PYTHONPATH=/path/to/other/kgqa python
benchmarks/entity_merging.py`` (the pairs are always this file's). A kgqa
without ``resolve_batch`` is measured resolving each document on its own, as
its ingest did.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if "PYTHONPATH" not in os.environ and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # else the code measured is the one PYTHONPATH names

from kgqa.types import Chunk, Document, ExtractedEntity, Extraction  # noqa: E402

DATA = ROOT / "tests" / "data" / "entity_merging.jsonl"

Span = tuple[int, int, int]  # (document index, start, end)


def load_pairs(path: Path = DATA) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _layout(pair: dict[str, Any]) -> tuple[list[dict[str, Any]], Span, Span]:
    """The pair's documents, and where its two mentions are."""
    if "doc" in pair:
        docs = [pair["doc"]]
        return docs, _find(docs[0], pair["a"], 0), _find(docs[0], pair["b"], 0)
    docs = [pair["a"], pair["b"], *pair.get("others", [])]
    return docs, _find(docs[0], pair["a"]["mention"], 0), _find(docs[1], pair["b"]["mention"], 1)


def _spans(doc: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """``(surface, label, start, end)`` of each listed entity, found in text order."""
    out, pos = [], 0
    for surface, label in doc["entities"]:
        start = doc["text"].index(surface, pos)
        out.append((surface, label, start, start + len(surface)))
        pos = start + len(surface)
    return out


def _find(doc: dict[str, Any], surface: str, index: int) -> Span:
    for s, _, start, end in _spans(doc):
        if s == surface:
            return index, start, end
    raise ValueError(f"{surface!r} is not among the entities of {doc['text']!r}")


def _scripted(chunk: Chunk, doc: dict[str, Any]) -> Extraction:
    ents = tuple(ExtractedEntity(s, label, a, b, 0) for s, label, a, b in _spans(doc))
    return Extraction(chunk.id, ents, ())


def _resolve(items: list[tuple[Document, list[Chunk], list[Extraction]]]) -> list[Any]:
    try:
        from kg.resolve import NameIndex, resolve_batch
    except ImportError:  # kgqa before cross-document rules resolved one document at a time
        from kg.resolve import resolve_document

        return [resolve_document(d, c, x) for d, c, x in items]
    return resolve_batch(items, NameIndex.of_people([]))


def merged(pair: dict[str, Any], extractor: Any = None) -> bool:
    """Whether the pair's two mentions end up as one entity."""
    docs, a, b = _layout(pair)
    items = []
    for i, d in enumerate(docs):
        doc = Document(id=f"p{pair['id']}-{i}", title="", text=d["text"])
        chunk = Chunk(Chunk.make_id(doc.id, 0), doc.id, 0, doc.text, 0, len(doc.text))
        ex = extractor.extract([chunk])[0] if extractor is not None else _scripted(chunk, d)
        items.append((doc, [chunk], [ex]))
    resolutions = _resolve(items)
    ida, idb = _entity_at(resolutions, a), _entity_at(resolutions, b)
    return ida is not None and ida == idb


def _entity_at(resolutions: Sequence[Any], span: Span) -> str | None:
    """The entity of the mention overlapping ``span`` most (None: no mention there)."""
    index, start, end = span
    best, overlap = None, 0
    for m in resolutions[index].mentions:
        o = min(end, m.end) - max(start, m.start)
        if o > overlap:
            best, overlap = m.entity_id, o
    return best


def score(pairs: Sequence[dict[str, Any]], decisions: Sequence[bool]) -> dict[str, Any]:
    """Precision and recall of merging (percent), with the counts behind them."""
    tp = sum(1 for p, d in zip(pairs, decisions, strict=True) if d and p["same"])
    fp = sum(1 for p, d in zip(pairs, decisions, strict=True) if d and not p["same"])
    fn = sum(1 for p, d in zip(pairs, decisions, strict=True) if not d and p["same"])
    wrong: Counter[str] = Counter(
        p["kind"] for p, d in zip(pairs, decisions, strict=True) if d != p["same"]
    )
    return {
        "pairs": len(pairs),
        "same": sum(1 for p in pairs if p["same"]),
        "precision": round(100.0 * tp / (tp + fp), 1) if tp + fp else 100.0,
        "recall": round(100.0 * tp / (tp + fn), 1) if tp + fn else 100.0,
        "merged_right": tp,
        "merged_wrong": fp,
        "missed": fn,
        "errors_by_kind": dict(wrong.most_common()),
    }


def evaluate(path: Path = DATA, extractor: Any = None) -> tuple[dict[str, Any], list[str]]:
    """Score on the pairs of ``path``; also a line per wrong decision."""
    pairs = load_pairs(path)
    decisions = [merged(p, extractor) for p in pairs]
    errors = [
        f"{p['id']:3} {p['kind']}: {'merged' if d else 'kept apart'} "
        f"{_surface(p, 'a')!r} / {_surface(p, 'b')!r}"
        for p, d in zip(pairs, decisions, strict=True)
        if d != p["same"]
    ]
    return score(pairs, decisions), errors


def _surface(pair: dict[str, Any], side: str) -> str:
    value = pair[side]
    return value if isinstance(value, str) else value["mention"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--spacy", action="store_true", help="extract with the real spaCy model")
    parser.add_argument("--errors", action="store_true", help="list every wrong decision")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    extractor = None
    if args.spacy:
        from kg.extract import SpacyExtractor

        extractor = SpacyExtractor()
    result, errors = evaluate(args.data, extractor)
    result["extraction"] = "spacy" if args.spacy else "labels in the file"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['pairs']} pairs ({result['same']} same), extraction: "
            f"{result['extraction']}\nprecision {result['precision']:.1f}  "
            f"recall {result['recall']:.1f}  (merged right {result['merged_right']}, "
            f"merged wrong {result['merged_wrong']}, missed {result['missed']})"
        )
    if args.errors:
        print("\n".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
