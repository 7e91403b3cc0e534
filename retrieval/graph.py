"""The entity–chunk graph of the search index, read where it lies on disk.

Nodes are the base's chunk rows ``0..R-1`` and entity indices ``0..E-1``.
Edges (undirected):

- chunk–entity, weight 1, for each entity a chunk mentions (repeated
  mentions count once);
- entity–entity, for relations: ``0.5`` per relation between the two, at
  most ``1.0`` (repeated relations saturate).

Stored as (see :mod:`retrieval.search_index`):

- ``mention_ptr`` ``(R+1,)`` / ``mention_entity`` ``(M,)``: each row's entities
  (a CSR matrix, appended to row by row);
- postings entity -> rows (``chunks``), normalised document title -> rows
  (``about``: the chunks *about* the entity of that id), and entity pair ->
  rows of the chunks evidencing a relation between them (``pairs``, key
  ``a << 32 | b``, both directions);
- ``df`` ``(E,)`` live chunks per entity and ``relation_half`` ``(E,)`` the sum
  over related entities of ``min(relations, 2)``, so that an entity's degree
  is ``df + relation_half / 2`` without reading its edges.

Every lookup leaves out rows that ``live`` marks deleted, so answers are
those of a graph built from the live chunks alone.

>>> g = EntityGraph.from_mentions(n_rows=2, mentions=[(0, 0), (0, 1), (1, 1)])
>>> g.chunks_of(np.array([1]))[1].tolist()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from retrieval.postings import Segment, StringTable, hash_strings, lookup, pair_keys, ranges

if TYPE_CHECKING:
    from numpy.typing import NDArray

RELATION_WEIGHT = 0.5  # per relation between two entities
_LOW32 = np.uint64(0xFFFFFFFF)


class EntityGraph:
    """Adjacency of chunk rows and entities (see the module docstring).

    Implements :class:`retrieval.ppr.PushGraph`.
    """

    def __init__(
        self,
        mention_ptr: NDArray[np.int64],
        mention_entity: NDArray[np.int32],
        chunks: Sequence[Segment],
        about: Sequence[Segment],
        pairs: Sequence[Segment],
        df: NDArray[np.int32],
        relation_half: NDArray[np.int32],
        ids: StringTable,
        live: NDArray[np.bool_] | None = None,
    ) -> None:
        self.ids = ids  # (E,) entity ids
        self.mention_ptr = mention_ptr  # (R+1,)
        self.mention_entity = mention_entity  # (M,)
        self.chunk_postings = list(chunks)
        self.about_postings = list(about)
        self.pair_postings = list(pairs)
        self.df = df  # (E,)
        self.relation_half = relation_half  # (E,)
        self.live = live  # (R,) or None

    @classmethod
    def from_mentions(
        cls,
        n_rows: int,
        mentions: Sequence[tuple[int, int]],
        relations: Sequence[tuple[int, int, int]] = (),
        about: Sequence[tuple[int, int]] = (),
    ) -> EntityGraph:
        """A graph in memory from ``(row, entity)`` mentions, ``(row, a, b)`` relations
        and ``(row, entity)`` about links (for tests and examples)."""
        pairs_ = sorted(set(mentions))
        n_ents = 1 + max([e for _, e in pairs_] + [max(a, b) for _, a, b in relations], default=-1)
        rows = np.asarray([r for r, _ in pairs_], np.int64)
        ents = np.asarray([e for _, e in pairs_], np.int32)
        ptr = np.zeros(n_rows + 1, np.int64)
        np.add.at(ptr, rows + 1, 1)
        ptr = np.cumsum(ptr)
        chunks = Segment.build(ents.astype(np.uint64), rows)
        rel = [(r, a, b) for r, a, b in relations if a != b]
        a = np.asarray([x[1] for x in rel] + [x[2] for x in rel], np.int64)
        b = np.asarray([x[2] for x in rel] + [x[1] for x in rel], np.int64)
        rel_rows = np.asarray([x[0] for x in rel] * 2, np.int32)
        pairs = Segment.build(pair_keys(a, b), rel_rows)
        df = np.bincount(ents, minlength=n_ents).astype(np.int32)
        half = np.zeros(n_ents, np.int32)
        if len(a):
            uniq, counts = np.unique(pair_keys(a, b), return_counts=True)
            np.add.at(half, (uniq >> np.uint64(32)).astype(np.int64), np.minimum(counts, 2))
        ids = StringTable.build([f"e{i}" for i in range(n_ents)])
        ab = Segment.build(
            hash_strings([ids[e] for _, e in about]), np.asarray([r for r, _ in about], np.int32)
        )
        return cls(ptr, ents, [chunks], [ab], [pairs], df, half, ids)

    # -- sizes and degrees ----------------------------------------------------------
    def size(self) -> tuple[int, int]:
        return len(self.mention_ptr) - 1, len(self.df)

    def chunk_degree(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        rows = np.asarray(rows, np.int64)
        ptr = self.mention_ptr
        return (np.asarray(ptr[rows + 1]) - np.asarray(ptr[rows])).astype(np.float64)

    def entity_degree(self, entities: NDArray[np.int64]) -> NDArray[np.float64]:
        e = np.asarray(entities, np.int64)
        df = np.asarray(self.df[e], np.float64)
        return df + RELATION_WEIGHT * np.asarray(self.relation_half[e], np.float64)

    def entity_degree_bound(self, entities: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.entity_degree(entities)  # read without the edges: as cheap as a bound

    def chunk_degree_bound(self, rows: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.chunk_degree(rows)

    def entity_ids(self, entities: NDArray[np.int64]) -> list[str]:
        return [self.ids[int(e)] for e in np.asarray(entities, np.int64)]

    def entity_df(self, entities: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.asarray(self.df[np.asarray(entities, np.int64)], np.int64)

    # -- neighbours -----------------------------------------------------------------
    def entities_of(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(owner, entity)``: the entities each of ``rows`` mentions."""
        rows = np.asarray(rows, np.int64)
        owner, pos = ranges(self.mention_ptr[rows], self.mention_ptr[rows + 1])
        return owner, np.asarray(self.mention_entity[pos], np.int64)

    def _live(self, owner: NDArray, rows: NDArray) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        rows = np.asarray(rows, np.int64)
        if self.live is not None and len(rows):
            keep = np.asarray(self.live)[rows]
            return owner[keep], rows[keep]
        return owner, rows

    def chunks_of(self, entities: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(owner, row)``: the live chunks mentioning each of ``entities``."""
        owner, rows, _ = lookup(self.chunk_postings, np.asarray(entities, np.uint64))
        return self._live(owner, rows)

    def about(self, entities: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(owner, row)``: the live chunks about each of ``entities`` (by their title)."""
        keys = hash_strings([self.ids[int(e)] for e in np.asarray(entities, np.int64)])
        owner, rows, _ = lookup(self.about_postings, keys)
        return self._live(owner, rows)

    def relation_rows(self, entity: int) -> NDArray[np.int64]:
        """The live rows evidencing a relation of ``entity`` (either end), ascending."""
        bounds = pair_keys(np.array([entity, entity + 1]), np.zeros(2, np.int64))
        low, high = int(bounds[0]), int(bounds[1])  # every key (entity, *)
        found = []
        for seg in self.pair_postings:
            start, end = seg.find_range(low, high)
            found.append(np.asarray(seg.target[start:end], np.int64))
        rows = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
        return self._live(rows, rows)[1]

    def related(
        self, entities: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """``(owner, entity, weight)``: each of ``entities``' relation edges, by neighbour."""
        ents = np.asarray(entities, np.int64)
        lo_keys = pair_keys(ents, np.zeros(len(ents), np.int64))
        hi_keys = pair_keys(ents + 1, np.zeros(len(ents), np.int64))
        found_keys, found_counts = [], []
        for seg in self.pair_postings:
            if not len(seg.keys):
                continue
            lo = np.searchsorted(seg.keys, lo_keys)
            hi = np.searchsorted(seg.keys, hi_keys)
            _, kidx = ranges(lo, hi)  # key positions of every pair of these entities
            if not len(kidx):
                continue
            starts, ends = seg.indptr[kidx], seg.indptr[kidx + 1]
            if self.live is None:
                counts = np.asarray(ends - starts, np.int64)
            else:
                k_owner, pos = ranges(starts, ends)
                keep = np.asarray(self.live)[np.asarray(seg.target[pos], np.int64)]
                counts = np.bincount(k_owner[keep], minlength=len(kidx))
            found_keys.append(np.asarray(seg.keys[kidx]))
            found_counts.append(counts)
        if not found_keys:
            z = np.zeros(0, np.int64)
            return z, z.copy(), np.zeros(0, np.float64)
        keys = np.concatenate(found_keys)
        counts = np.concatenate(found_counts)
        uniq, inverse = np.unique(keys, return_inverse=True)
        total = np.bincount(inverse, weights=counts, minlength=len(uniq))
        uniq, total = uniq[total > 0], total[total > 0]
        first = (uniq >> np.uint64(32)).astype(np.int64)
        owner = np.searchsorted(ents, first) if _ascending(ents) else _positions(ents, first)
        weight = RELATION_WEIGHT * np.minimum(total, 2.0)
        return owner.astype(np.int64), (uniq & _LOW32).astype(np.int64), weight


def _ascending(a: NDArray[np.int64]) -> bool:
    return bool(len(a) < 2 or np.all(a[1:] > a[:-1]))


def _positions(ents: NDArray[np.int64], values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The position in ``ents`` (distinct) of each of ``values``."""
    order = np.argsort(ents, kind="stable")
    return order[np.searchsorted(ents[order], values)]
