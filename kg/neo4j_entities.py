"""Entities of a Neo4j base kept from their mention counts per (surface, label).

Each ``(:Entity)`` holds the parallel lists ``surfaces``, ``surface_labels``,
``surface_counts`` (the embedded store's ``entity_surfaces`` table), and its
``name``, ``label`` and ``mention_count`` follow from them
(:func:`kg.resolve.entity_summary`). A write adds its delta to the entities it
touches, so it costs what it touches, however many chunks mention a hub entity;
the ``surfaces_generation`` meta stamps the lists, and a base whose stamp is
behind its generation (written by an older kgqa) is recounted from its
mentions. All functions run inside the caller's write transaction.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from kg import neo4j_cypher as q
from kg.neo4j_cypher import run_batched
from kg.resolve import entity_summary

if TYPE_CHECKING:
    from neo4j import Transaction

Counts = Counter[tuple[str, str]]  # mentions per (surface, label)


def apply_delta(
    tx: Transaction, namespace: str, delta: Counter[tuple[str, str, str]], generation: int
) -> None:
    """Add ``delta`` (mentions per (entity id, surface, label), + written, - deleted)
    to the touched entities' lists, refresh their name, label and count, delete
    those left without a mention, and stamp the lists with ``generation``."""
    changes: dict[str, Counts] = {}
    for (eid, surface, label), n in delta.items():
        changes.setdefault(eid, Counter())[(surface, label)] += n
    counts: dict[str, Counts] = {}
    for row in run_batched(tx, q.ENTITY_SURFACES, sorted(changes), namespace):
        c: Counts = Counter()
        for surface, label, n in zip(
            row["surfaces"] or [], row["labels"] or [], row["counts"] or [], strict=True
        ):
            c[(surface, label)] = int(n)
        c.update(changes[row["id"]])
        counts[row["id"]] = c
    _save(tx, namespace, counts, generation)


def recount(tx: Transaction, namespace: str) -> None:
    """Count every entity's lists from its mentions, under the generation's lock."""
    generation = int(tx.run(q.LOCK_GENERATION, kb=namespace).single(strict=True)[0])
    ids = [r[0] for r in tx.run(q.ENTITY_IDS, kb=namespace, label=None)]
    counts: dict[str, Counts] = {}
    for row in run_batched(tx, q.COUNT_SURFACES, ids, namespace):
        c = counts.setdefault(row["id"], Counter())
        if row["surface"] is not None:
            c[(row["surface"], row["label"])] += int(row["n"])
    _save(tx, namespace, counts, generation)


def _save(tx: Transaction, namespace: str, counts: dict[str, Counts], generation: int) -> None:
    updates, gone = [], []
    for eid, c in counts.items():
        kept = sorted((k, n) for k, n in c.items() if n > 0)
        if not kept:
            gone.append(eid)
            continue
        name, label, total = entity_summary(Counter(dict(kept)))
        updates.append({"id": eid, "name": name, "label": label, "count": total,
                        "surfaces": [k[0] for k, _ in kept], "labels": [k[1] for k, _ in kept],
                        "counts": [n for _, n in kept]})  # fmt: skip
    run_batched(tx, q.UPDATE_ENTITIES, updates, namespace)
    run_batched(tx, q.DELETE_ENTITIES, gone, namespace)
    tx.run(q.SET_META, kb=namespace, key="surfaces_generation", value=str(generation)).consume()
