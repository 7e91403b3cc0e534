"""Personalized PageRank over the entity–chunk graph, on sparse matrices.

Nodes are the base's chunks ``0..C-1`` followed by its entities
``C..C+E-1``. Edges (undirected): chunk–entity for each mention, and
entity–entity for each relation (scaled by ``relation_weight``). The walk is
column-stochastic; PageRank restarts on a seed distribution that mixes the
question's linked entities with chunks that the dense retriever scored well
(HippoRAG's recipe), so probability flows question entity -> its chunks ->
their other entities -> the chunks about those.

>>> g = EntityChunkGraph.build(
...     chunk_keys=[1, 2], mentions=[(1, "acme"), (1, "maria"), (2, "maria")], relations=[])
>>> chunk_scores, _ = g.ppr(entity_seeds={g.entity_index["acme"]: 1.0})
>>> bool(chunk_scores[1] > 0)  # chunk 2 reached through maria
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from scipy.sparse import csr_matrix


class EntityChunkGraph:
    """The sparse entity–chunk graph of a base (see the module docstring)."""

    def __init__(
        self,
        chunk_keys: NDArray[np.int64],
        entity_ids: list[str],
        incidence: csr_matrix,
        transition: csr_matrix,
        relations: csr_matrix,
        about: dict[int, list[int]] | None = None,
    ) -> None:
        self.chunk_keys = chunk_keys  # (C,)
        self.chunk_row = {int(k): i for i, k in enumerate(chunk_keys)}
        self.entity_ids = entity_ids  # (E,)
        self.entity_index = {e: i for i, e in enumerate(entity_ids)}
        self.incidence = incidence  # (C, E) 1 where a chunk mentions an entity
        self.transition = transition  # (C+E, C+E) column-stochastic
        self.relations = relations  # (E, E) symmetric relation weights
        self.about = about or {}  # entity index -> rows of the chunks about it (by title)
        self.entity_df = np.asarray(incidence.sum(axis=0)).ravel()  # (E,) chunks per entity
        self._incidence_t = incidence.T.tocsr()  # (E, C)

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_keys)

    @classmethod
    def build(
        cls,
        chunk_keys: Sequence[int] | NDArray[np.int64],
        mentions: Iterable[tuple[int, str]],
        relations: Iterable[tuple[str, str, str]],
        relation_weight: float = 0.5,
        about: Sequence[str] | None = None,
    ) -> EntityChunkGraph:
        """Build from mention and relation edges.

        ``about`` gives, per chunk (in ``chunk_keys`` order), the id of the
        entity the chunk is about (its document's title), or ``""``.
        """
        from scipy.sparse import coo_matrix, csr_matrix, diags

        keys = np.asarray(chunk_keys, dtype=np.int64)
        row_of = {int(k): i for i, k in enumerate(keys)}
        entity_index: dict[str, int] = {}
        rows, cols = [], []
        for key, entity in mentions:
            r = row_of.get(int(key))
            if r is None:
                continue
            rows.append(r)
            cols.append(entity_index.setdefault(entity, len(entity_index)))
        n_c, n_e = len(keys), len(entity_index)
        inc = coo_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_c, n_e)).tocsr()
        inc.data[:] = 1.0  # several mentions of one entity in a chunk count once
        src, dst = [], []
        for a, b, _label in relations:
            ia, ib = entity_index.get(a), entity_index.get(b)
            if ia is not None and ib is not None and ia != ib:
                src += [ia, ib]
                dst += [ib, ia]
        rel = coo_matrix(
            (np.full(len(src), relation_weight, np.float32), (src, dst)), shape=(n_e, n_e)
        ).tocsr()
        rel.data = np.minimum(rel.data, 2 * relation_weight)  # repeated relations saturate
        n = n_c + n_e
        upper = coo_matrix(inc)
        adj = coo_matrix(
            (
                np.concatenate([upper.data, upper.data, coo_matrix(rel).data]),
                (
                    np.concatenate([upper.row, upper.col + n_c, coo_matrix(rel).row + n_c]),
                    np.concatenate([upper.col + n_c, upper.row, coo_matrix(rel).col + n_c]),
                ),
            ),
            shape=(n, n),
        ).tocsr()  # (n, n) symmetric
        degree = np.asarray(adj.sum(axis=0)).ravel()
        inv = np.where(degree > 0, 1.0 / np.maximum(degree, 1e-12), 0.0).astype(np.float32)
        transition = csr_matrix(adj @ diags(inv))  # column j sums to 1 (or 0 if isolated)
        ids = [""] * n_e
        for e, i in entity_index.items():
            ids[i] = e
        about_rows: dict[int, list[int]] = {}
        for row, entity in enumerate(about or ()):
            found = entity_index.get(entity)
            if found is not None:
                about_rows.setdefault(found, []).append(row)
        return cls(keys, ids, inc, transition, rel, about_rows)

    def ppr(
        self,
        entity_seeds: Mapping[int, float] | None = None,
        chunk_seeds: Mapping[int, float] | None = None,
        damping: float = 0.5,
        iterations: int = 30,
        tol: float = 1e-6,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Return PageRank ``(chunk_scores (C,), entity_scores (E,))`` for the seeds.

        Seeds are node weights (entities by index into ``entity_ids``, chunks by
        row), normalised to a distribution; ``damping`` is the chance to follow
        an edge rather than restart. Isolated nodes give their mass back to the
        seeds. No seeds -> zeros.
        """
        n_c = self.n_chunks
        n = n_c + len(self.entity_ids)
        s = np.zeros(n, dtype=np.float32)  # float32 like the matrix: no upcast per step
        for i, w in (entity_seeds or {}).items():
            s[n_c + i] += w
        for i, w in (chunk_seeds or {}).items():
            s[i] += w
        total = s.sum()
        if total <= 0:
            return np.zeros(n_c, np.float32), np.zeros(n - n_c, np.float32)
        s /= total
        p = s.copy()
        for _ in range(iterations):
            walked = self.transition @ p
            lost = p.sum() - walked.sum()  # mass on isolated nodes
            nxt = (1 - damping) * s + damping * (walked + lost * s)
            if np.abs(nxt - p).sum() < tol:
                p = nxt
                break
            p = nxt
        return p[:n_c].astype(np.float32), p[n_c:].astype(np.float32)

    def entities_of(self, row: int) -> NDArray[np.int64]:
        """Entity indices mentioned by chunk ``row``."""
        start, end = self.incidence.indptr[row], self.incidence.indptr[row + 1]
        return self.incidence.indices[start:end]

    def related(self, entity: int) -> NDArray[np.int64]:
        """Entity indices linked to ``entity`` by a relation."""
        r = self.relations
        return r.indices[r.indptr[entity] : r.indptr[entity + 1]]

    def chunks_of(self, entity: int) -> NDArray[np.int64]:
        """Chunk rows that mention entity ``entity``."""
        t = self._incidence_t
        return t.indices[t.indptr[entity] : t.indptr[entity + 1]]
