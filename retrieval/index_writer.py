"""Building and updating the search index: append what is new, mark what is gone.

:func:`update_index` takes the chunks added to the store since the index
was written (keys above its ``max_key``, in key order) and the keys of the
chunks deleted since, and writes one new state of the index:

- the new chunks become new rows: their vectors, lengths, entities and
  relation pairs are appended; their postings form one new *segment*;
- the deleted chunks' rows are marked in ``deleted``, and the counts they
  supported (``df``, ``relation_half``, the live total) are taken back;
- segments are merged while the one before is at most twice the newest
  (a binary counter: ``O(log n)`` segments, each row merged ``O(log n)``
  times), up to :data:`MAX_SEGMENT_ROWS` rows, as Lucene's tiered merge
  policy caps a merged segment: no add rewrites more than that, however large
  the base (uncapped, one add in a few hundred thousand rewrote the postings
  of a whole million-chunk base: 1.2 GB, about 50 s); a merge drops the
  postings of deleted rows (a full segment keeps them until a rebuild);
- the FAISS IVF takes in the exact tail once it reaches ``TAIL_MAX`` rows
  (retrained when the base has grown 4x since training).

An update costs what its own chunks cost, plus rewriting two int32 arrays of
one entry per entity (``df``, ``relation_half``) and, now and then, a merge.
:func:`rebuild_index` writes a fresh index (a new *epoch* of files) from
every live chunk; updating and rebuilding give the same answers.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kgqa.errors import StoreError
from kgqa.text import title_names
from kgqa.types import ChunkRecord
from retrieval.index_files import IndexFiles
from retrieval.lexical import term_postings
from retrieval.linking import alias_postings, trigram_postings
from retrieval.postings import Segment, StringTable, hash_strings, lookup, merge, pair_keys, ranges
from retrieval.search_index import (
    ARRAYS,
    ENTITY_POSTINGS,
    FORMAT,
    PARTS,
    ROW_POSTINGS,
    IndexText,
    SearchIndex,
)
from retrieval.vector_index import (
    RETRAIN_GROWTH,
    TAIL_MAX,
    add_rows,
    read_ivf,
    train_ivf,
    wants_ivf,
    write_ivf,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

BATCH_ROWS = 50_000  # chunks per new segment
MAX_SEGMENT_ROWS = 1 << 18  # no merge makes a segment of more rows (262,144)


def rebuild_index(
    directory: Path,
    records: Iterable[ChunkRecord],
    *,
    generation: int,
    dim: int,
    text: IndexText,
    source: str = "",
    kind: str = "auto",
    parts: Sequence[str] = PARTS,
) -> None:
    """Write a new index of ``records`` (every live chunk, keys ascending).

    ``source`` names the store it reflects (an index of another store is
    rebuilt); ``parts`` which of ``dense``, ``lexical`` and ``graph`` it keeps
    (none for a Neo4j base, which the server searches: only the entity linker,
    the titles and the chunk keys are kept).
    """
    files = IndexFiles(directory)
    with files.writing():
        old = files.read_manifest() or {}
        state = _State.empty(files, dim, text, int(old.get("epoch", 0)) + 1, parts)
        state.manifest["next_id"] = int(old.get("next_id", 0))
        state.manifest["source"] = source
        for batch in _batched(records, BATCH_ROWS):
            state.add(batch)
            state.flush()
        state.commit(generation, kind)


def update_index(
    directory: Path,
    records: Iterable[ChunkRecord],
    deleted_keys: Sequence[int],
    *,
    generation: int,
    text: IndexText,
    kind: str = "auto",
) -> None:
    """Append ``records`` (keys above the index's ``max_key``) and drop ``deleted_keys``."""
    files = IndexFiles(directory)
    with files.writing():
        index = SearchIndex.open(directory, text)
        if index is None:
            raise StoreError(f"{directory}: no search index to update")
        state = _State.load(index)
        state.delete(np.asarray(deleted_keys, np.int64))
        for batch in _batched(records, BATCH_ROWS):
            state.add(batch)
            state.flush()
        state.commit(generation, kind)


def _batched(records: Iterable[ChunkRecord], n: int) -> Iterator[list[ChunkRecord]]:
    batch: list[ChunkRecord] = []
    for r in records:
        batch.append(r)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def _swap(pairs: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """``(a, b)`` pair keys as ``(b, a)``."""
    return (pairs << np.uint64(32)) | (pairs >> np.uint64(32))


def _grow(a: NDArray[np.int32], n: int) -> NDArray[np.int32]:
    return a if len(a) >= n else np.concatenate([a, np.zeros(n - len(a), a.dtype)])


@dataclass
class _Seg:
    info: dict[str, Any]  # {"id", "rows": [start, end], "entities": [start, end]}
    postings: dict[str, Segment]
    saved: bool

    @property
    def rows(self) -> int:
        return int(self.info["rows"][1] - self.info["rows"][0])


class _State:
    """One state of the index being written (see the module docstring)."""

    def __init__(self, files: IndexFiles, manifest: dict[str, Any], text: IndexText) -> None:
        self.files = files
        self.manifest = manifest
        self.text = text
        self.dim = int(manifest["dim"])
        self.old: SearchIndex | None = None
        self.segments: list[_Seg] = []
        self.appends: dict[str, list[NDArray[Any]]] = {name: [] for name in ARRAYS}
        self.mention_end = 0  # mention_ptr[-1]
        self.relation_end = 0
        self.text_end = 0  # bytes of entity ids
        self.live = np.ones(0, np.bool_)  # (R,)
        self.deleted_any = False
        self.df = np.zeros(0, np.int32)  # (E,)
        self.relation_half = np.zeros(0, np.int32)  # (E,)
        self.entity_table: dict[str, int] = {}  # ids met by this update -> index
        self.new_ids: list[str] = []
        self.parts = frozenset(manifest.get("parts", PARTS))
        # surfaces repeat (a corpus names its entities again and again): normalise each once
        self.normalize = functools.lru_cache(maxsize=1 << 18)(text.normalize)

    @classmethod
    def empty(
        cls, files: IndexFiles, dim: int, text: IndexText, epoch: int, parts: Sequence[str]
    ) -> _State:
        manifest: dict[str, Any] = {
            "format": FORMAT, "fingerprint": text.fingerprint(), "epoch": epoch, "dim": dim,
            "parts": sorted(parts),
            "rows": 0, "entities": 0, "live_rows": 0, "max_key": 0, "generation": -1,
            "arrays": {name: {"file": f"{name}.e{epoch}.bin", "count": 0} for name in ARRAYS},
            "files": {}, "segments": [], "dense": None, "next_id": 0,
        }  # fmt: skip
        state = cls(files, manifest, text)
        for name in ("mention_ptr", "relation_ptr", "entity_offsets"):
            state.appends[name].append(np.zeros(1, ARRAYS[name]))  # CSR pointers start at 0
        return state

    @classmethod
    def load(cls, index: SearchIndex) -> _State:
        state = cls(index.files, copy.deepcopy(index.manifest), index.text)
        state.old = index
        state.mention_end = int(index.array("mention_ptr")[-1])
        state.relation_end = int(index.array("relation_ptr")[-1])
        state.text_end = int(index.manifest["arrays"]["entity_text"]["count"])
        state.live = np.ones(index.n_rows, np.bool_) if index.live is None else index.live.copy()
        state.deleted_any = index.live is not None
        state.df = np.array(index.df, np.int32)
        state.relation_half = np.array(index.relation_half, np.int32)
        state.segments = [
            _Seg(info, seg, True)
            for info, seg in zip(index.manifest["segments"], index.segments, strict=True)
        ]
        return state

    @property
    def n_entities(self) -> int:
        return int(self.manifest["entities"]) + len(self.new_ids)

    def _next_id(self) -> int:
        n = int(self.manifest["next_id"])
        self.manifest["next_id"] = n + 1
        return n

    def _postings(self, name: str) -> list[Segment]:
        return [s.postings[name] for s in self.segments]

    # -- deletes -------------------------------------------------------------------------
    def delete(self, keys: NDArray[np.int64]) -> None:
        if not len(keys) or self.old is None:
            return
        rows = self.old.rows_of(keys)
        rows = np.unique(rows[rows >= 0])
        if not len(rows):
            return
        before = self.live.copy()
        self.live[rows] = False
        self.deleted_any = True
        self.manifest["live_rows"] = int(self.manifest["live_rows"]) - len(rows)
        ptr = self.old.array("mention_ptr")
        _, pos = ranges(ptr[rows], ptr[rows + 1])
        np.subtract.at(self.df, np.asarray(self.old.array("mention_entity")[pos], np.int64), 1)
        if "graph" not in self.parts:
            return
        ptr = self.old.array("relation_ptr")
        _, pos = ranges(ptr[rows], ptr[rows + 1])
        pairs = np.asarray(self.old.array("relation_pair")[pos], np.uint64)
        affected = np.unique(np.concatenate([pairs, _swap(pairs)]))
        self._recount(affected, self._pair_counts(affected, before), self._pair_counts(affected))

    def _pair_counts(self, keys: NDArray[np.uint64], live: NDArray | None = None) -> NDArray:
        """Live relations per directed pair key (``live``: another liveness to count with)."""
        owner, rows, _ = lookup(self._postings("pairs"), keys)
        if len(rows):
            owner = owner[(self.live if live is None else live)[rows]]
        return np.bincount(owner, minlength=len(keys))

    def _recount(self, keys: NDArray[np.uint64], before: NDArray, after: NDArray) -> None:
        """``relation_half`` follows the pair counts of ``keys`` from ``before`` to ``after``."""
        change = (np.minimum(after, 2) - np.minimum(before, 2)).astype(np.int32)
        np.add.at(self.relation_half, (keys >> np.uint64(32)).astype(np.int64), change)

    # -- additions ------------------------------------------------------------------------
    def _entities(self, ids: Sequence[str]) -> NDArray[np.int64]:
        """The index of every id (unknown ones become new entities), in the order given."""
        unknown = [e for e in dict.fromkeys(ids) if e not in self.entity_table]
        if unknown and self.old is not None:
            owner, ents, _ = lookup(self.old.postings("entity_keys"), hash_strings(unknown))
            for o, e in zip(owner.tolist(), ents.tolist(), strict=True):
                if self.old.entity_ids[e] == unknown[o]:
                    self.entity_table[unknown[o]] = e
        for eid in unknown:
            if eid not in self.entity_table:
                self.entity_table[eid] = self.n_entities
                self.new_ids.append(eid)
        return np.asarray([self.entity_table[e] for e in ids], np.int64)

    def _about(self, records: list[ChunkRecord], rows: NDArray[np.int64]) -> Segment:
        """Each row under the names its document's title gives (:func:`title_names`)."""
        keys: list[str] = []
        targets: list[int] = []
        for r, row in zip(records, rows.tolist(), strict=True):
            names = dict.fromkeys(self.normalize(t) for t in title_names(r.title))
            keys += names
            targets += [row] * len(names)
        return Segment.build(hash_strings(keys), np.asarray(targets, np.int64))

    def add(self, records: list[ChunkRecord]) -> None:
        """Index ``records`` as new rows, in one new segment."""
        keys = np.asarray([r.key for r in records], np.int64)
        if keys[0] <= int(self.manifest["max_key"]) or np.any(np.diff(keys) <= 0):
            raise StoreError("chunks must reach the search index once each, keys ascending")
        first_row, n = len(self.live), len(records)
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
        first_entity = self.n_entities
        # each row's distinct entities, in order of first mention
        row_ents = [list(dict.fromkeys(e for e, _ in r.mentions)) for r in records]
        counts = np.fromiter((len(es) for es in row_ents), np.int64, count=n)
        ent_idx = self._entities([e for es in row_ents for e in es])
        postings = {
            "aliases": self._aliases(records, rows),
            "about": self._about(records, rows),
            "terms": Segment.empty(with_value=True),
            "chunks": Segment.empty(),
            "pairs": Segment.empty(),
        }
        self.df = _grow(self.df, self.n_entities)
        self.relation_half = _grow(self.relation_half, self.n_entities)
        np.add.at(self.df, ent_idx, 1)
        self.live = np.concatenate([self.live, np.ones(n, np.bool_)])
        if "graph" in self.parts:
            postings["chunks"] = Segment.build(ent_idx.astype(np.uint64), np.repeat(rows, counts))
            postings["pairs"] = self._relations(records, rows)
        if "lexical" in self.parts:
            t_keys, t_rows, t_tf, lengths = term_postings(
                [self.text.lexical_text(r.title, r.text) for r in records], first_row
            )
            postings["terms"] = Segment.build(t_keys, t_rows, t_tf)
            self._append("lengths", lengths)
        if "dense" in self.parts:
            vectors = np.stack([np.asarray(r.vector, np.float32) for r in records])  # (n, dim)
            if vectors.shape[1] != self.dim:
                raise StoreError(
                    f"chunk vectors have dim {vectors.shape[1]}, the index has {self.dim}"
                )
            self._append("vectors", vectors)
        new = self.new_ids[first_entity - int(self.manifest["entities"]) :]
        g_keys, g_ents, g_sizes = trigram_postings(new, first_entity)
        postings["entity_keys"] = Segment.build(
            hash_strings(new), np.arange(first_entity, first_entity + len(new))
        )
        postings["grams"] = Segment.build(g_keys, g_ents)
        info = {"id": self._next_id(), "rows": [first_row, first_row + n],
                "entities": [first_entity, self.n_entities]}  # fmt: skip
        self.segments.append(_Seg(info, postings, saved=False))
        self._merge_segments()
        # the append-only arrays
        mention_ptr = self.mention_end + np.cumsum(counts)
        self.mention_end += int(counts.sum())
        blob, ends = StringTable.encode(new, self.text_end)
        self.text_end += len(blob)
        self._append("chunk_keys", keys)
        self._append("mention_ptr", mention_ptr)
        self._append("mention_entity", ent_idx)
        self._append("entity_offsets", ends)
        self._append("entity_text", blob)
        self._append("gram_counts", g_sizes)
        self.manifest["rows"] = first_row + n
        self.manifest["live_rows"] = int(self.manifest["live_rows"]) + n
        self.manifest["max_key"] = int(keys[-1])

    def _aliases(self, records: list[ChunkRecord], rows: NDArray[np.int64]) -> Segment:
        """Postings of (entity id, entity) and (normalised surface, entity), once per row."""
        names, alias_ids, alias_rows = [], [], []
        for row, r in zip(rows.tolist(), records, strict=True):
            seen: set[tuple[str, str]] = set()
            for eid, surface in r.mentions:
                for name in (eid, self.normalize(surface)):
                    if name and (name, eid) not in seen:
                        seen.add((name, eid))
                        names.append(name)
                        alias_ids.append(eid)
                        alias_rows.append(row)
        keys, a_rows, ents = alias_postings(
            self._entities(alias_ids).astype(np.int32), names, np.asarray(alias_rows, np.int32)
        )
        return Segment.build(keys, a_rows, ents)

    def _relations(self, records: list[ChunkRecord], rows: NDArray[np.int64]) -> Segment:
        """Pair postings (both directions) of the rows' relations; their counts taken in."""
        rel = [[(a, b) for a, b in r.relations if a != b] for r in records]
        counts = np.fromiter((len(x) for x in rel), np.int64, count=len(records))
        flat = [p for x in rel for p in x]
        forward = pair_keys(
            self._entities([a for a, _ in flat]), self._entities([b for _, b in flat])
        )  # one key per relation as written
        both = np.concatenate([forward, _swap(forward)])
        if len(both):
            uniq, added = np.unique(both, return_counts=True)
            before = self._pair_counts(uniq)
            self._recount(uniq, before, before + added)
        self._append("relation_ptr", self.relation_end + np.cumsum(counts))
        self._append("relation_pair", forward)
        self.relation_end += int(counts.sum())
        rel_rows = np.repeat(rows, counts)
        return Segment.build(both, np.concatenate([rel_rows, rel_rows]))

    def _append(self, name: str, data: NDArray[Any]) -> None:
        self.appends[name].append(np.asarray(data, ARRAYS[name]))

    def _merge_segments(self) -> None:
        while len(self.segments) >= 2 and self.segments[-2].rows <= 2 * self.segments[-1].rows:
            a, b = self.segments[-2], self.segments[-1]
            if a.rows + b.rows > MAX_SEGMENT_ROWS:
                break  # a full segment stays as it is
            postings = {
                name: merge([a.postings[name], b.postings[name]],
                            keep=self.live if name in ROW_POSTINGS else None)
                for name in (*ROW_POSTINGS, *ENTITY_POSTINGS)
            }  # fmt: skip
            info = {"id": self._next_id(), "rows": [a.info["rows"][0], b.info["rows"][1]],
                    "entities": [a.info["entities"][0], b.info["entities"][1]]}  # fmt: skip
            self.segments[-2:] = [_Seg(info, postings, saved=False)]

    # -- writing ---------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the rows and segments made so far, so memory holds one batch at a time.

        Nothing written here is current before :meth:`commit`: arrays grow past the
        lengths the manifest records, segments are folders it does not name yet.
        """
        files, m = self.files, self.manifest
        for name, parts in self.appends.items():
            if not parts:
                continue
            spec = m["arrays"][name]
            data = np.concatenate(parts)  # (n,) or, for vectors, (n, dim)
            width = self.dim if name == "vectors" else 0
            files.append(spec["file"], data, int(spec["count"]), width)
            spec["count"] = int(spec["count"]) + len(data)
            parts.clear()
        for seg in self.segments:
            if not seg.saved:
                seg_id = int(seg.info["id"])
                files.write_segment(seg_id, seg.postings)
                seg.postings = files.load_segment(seg_id, list(seg.postings))  # mapped
                seg.saved = True

    def commit(self, generation: int, kind: str) -> None:
        """Write what changed, then make it current (see :mod:`retrieval.index_files`)."""
        files, m = self.files, self.manifest
        self.flush()
        tag = self._next_id()
        m["files"] = {"df": f"df.{tag}.npy", "relation_half": f"relation_half.{tag}.npy"}
        files.write_npy(m["files"]["df"], self.df)
        files.write_npy(m["files"]["relation_half"], self.relation_half)
        if self.deleted_any:
            m["files"]["deleted"] = f"deleted.{tag}.npy"
            files.write_npy(m["files"]["deleted"], ~self.live)
        m["entities"] = self.n_entities
        m["segments"] = [s.info for s in self.segments]
        self._update_dense(kind)
        if m["dense"]:
            m["files"]["dense"] = m["dense"]["file"]
        m["generation"] = int(generation)
        files.commit(m)
        files.cleanup(m)

    def _update_dense(self, kind: str) -> None:
        m = self.manifest
        n_rows, live_rows = int(m["rows"]), int(m["live_rows"])
        if "dense" not in self.parts or not wants_ivf(live_rows, kind):
            m["dense"] = None
            return
        spec = m["arrays"]["vectors"]
        vectors = self.files.array(spec["file"], np.float32, n_rows, self.dim)
        dense = m.get("dense")
        live_rows_idx = np.flatnonzero(self.live).astype(np.int64)
        if dense is None or live_rows > RETRAIN_GROWTH * int(dense["trained"]):
            ivf = train_ivf(vectors, live_rows_idx)
            dense = {"rows": n_rows, "trained": len(live_rows_idx)}
        elif n_rows - int(dense["rows"]) >= TAIL_MAX:
            ivf = read_ivf(self.files.directory / dense["file"], mmap=False)
            tail = live_rows_idx[live_rows_idx >= int(dense["rows"])]
            add_rows(ivf, vectors, tail)
            dense = {**dense, "rows": n_rows}
        else:
            return
        dense["file"] = f"dense.{self._next_id()}.faiss"
        write_ivf(ivf, self.files.directory / dense["file"])
        m["dense"] = dense
