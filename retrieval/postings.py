"""Inverted lists on numpy arrays: the building block of the search index.

A :class:`Segment` maps sorted ``uint64`` keys to runs of postings. Each
posting has a ``target`` (a chunk row, or an entity index) and optionally an
integer ``value`` (a term frequency, an entity index)::

    keys    (K,)    sorted, unique
    indptr  (K+1,)  postings of keys[i] are [indptr[i], indptr[i+1])
    target  (P,)    int32
    value   (P,)    int32, or absent

Segments are immutable; an index grows by adding segments and merging them
(see :mod:`retrieval.search_index`). Lookups are vectorised: one call finds
the postings of many keys, in every segment, without a Python loop over
postings. The arrays may be memory-mapped files: nothing here reads more
than the runs it is asked for.

Keys are either small integers (entity indices, pairs of them) or stable
64-bit hashes of strings (:func:`hash_strings`: BLAKE2b, the same in every
process, unlike Python's ``hash``).

>>> seg = Segment.build(np.array([7, 3, 7], np.uint64), np.array([0, 1, 2], np.int32))
>>> owner, target, _ = lookup([seg], np.array([7, 5], np.uint64))
>>> owner.tolist(), target.tolist()
([0, 0], [0, 2])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

_EMPTY_KEYS = np.zeros(0, np.uint64)


def hash_strings(strings: Iterable[str]) -> NDArray[np.uint64]:
    """Stable 64-bit keys of ``strings`` (BLAKE2b-64 of their UTF-8), ``(n,)``."""
    out = [
        int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")
        for s in strings
    ]
    return np.asarray(out, dtype=np.uint64) if out else _EMPTY_KEYS.copy()


class HashCache:
    """:func:`hash_strings` with a memo, for the many repeats of a corpus's words."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self._memo: dict[str, int] = {}
        self._limit = limit

    def __call__(self, strings: Sequence[str]) -> NDArray[np.uint64]:
        memo = self._memo
        missing = [s for s in set(strings) if s not in memo]
        if missing:
            if len(memo) + len(missing) > self._limit:
                memo.clear()
            memo.update(zip(missing, hash_strings(missing).tolist(), strict=True))
        return np.fromiter(map(memo.__getitem__, strings), dtype=np.uint64, count=len(strings))


def pair_keys(a: NDArray[np.integer], b: NDArray[np.integer]) -> NDArray[np.uint64]:
    """Keys of entity pairs ``(a, b)``: ``a << 32 | b``, so a's pairs are one key range."""
    return (np.asarray(a, np.uint64) << np.uint64(32)) | np.asarray(b, np.uint64)


def ranges(starts: NDArray[np.int64], ends: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
    """Flatten the half-open ranges ``[starts[i], ends[i])``.

    Returns ``(owner, position)``: for every position in every range, the
    index ``i`` of its range and the position itself.

    >>> o, p = ranges(np.array([2, 10]), np.array([4, 11]))
    >>> o.tolist(), p.tolist()
    ([0, 0, 1], [2, 3, 10])
    """
    lens = np.maximum(np.asarray(ends, np.int64) - np.asarray(starts, np.int64), 0)
    total = int(lens.sum())
    owner = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    if not total:
        return owner, np.zeros(0, np.int64)
    first = np.cumsum(lens) - lens  # (n,) where each range starts in the output
    pos = np.arange(total, dtype=np.int64) - np.repeat(first, lens) + np.repeat(starts, lens)
    return owner, pos


@dataclass(frozen=True)
class Segment:
    """Immutable postings (see the module docstring)."""

    keys: NDArray[np.uint64]
    indptr: NDArray[np.int64]
    target: NDArray[np.int32]
    value: NDArray[np.int32] | None = None

    def __len__(self) -> int:
        return len(self.target)

    @classmethod
    def empty(cls, with_value: bool = False) -> Segment:
        return cls(
            _EMPTY_KEYS.copy(),
            np.zeros(1, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.int32) if with_value else None,
        )

    @classmethod
    def build(
        cls,
        keys: NDArray[np.uint64],
        target: NDArray[np.integer],
        value: NDArray[np.integer] | None = None,
    ) -> Segment:
        """Postings from parallel arrays ``(P,)``; a key's postings keep their input order."""
        keys = np.asarray(keys, np.uint64)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        first = np.ones(len(sorted_keys), np.bool_)
        first[1:] = sorted_keys[1:] != sorted_keys[:-1]
        starts = np.flatnonzero(first)
        indptr = np.empty(len(starts) + 1, np.int64)
        indptr[:-1] = starts
        indptr[-1] = len(sorted_keys)
        return cls(
            sorted_keys[starts],
            indptr,
            np.asarray(target, np.int32)[order],
            None if value is None else np.asarray(value, np.int32)[order],
        )

    def find(self, keys: NDArray[np.uint64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(starts, ends)`` of each key's run; ``starts == ends`` for a missing key."""
        keys = np.asarray(keys, np.uint64)
        if not len(self.keys):
            z = np.zeros(len(keys), np.int64)
            return z, z
        pos = np.searchsorted(self.keys, keys)
        pos_c = np.minimum(pos, len(self.keys) - 1)
        hit = self.keys[pos_c] == keys
        starts = np.where(hit, self.indptr[pos_c], 0).astype(np.int64)
        ends = np.where(hit, self.indptr[pos_c + 1], 0).astype(np.int64)
        return starts, ends

    def find_range(self, low: int, high: int) -> tuple[int, int]:
        """Postings positions ``[start, end)`` of every key in ``[low, high)``."""
        lo = int(np.searchsorted(self.keys, np.uint64(low)))
        hi = int(np.searchsorted(self.keys, np.uint64(high)))
        return int(self.indptr[lo]), int(self.indptr[hi])


def lookup(
    segments: Sequence[Segment], keys: NDArray[np.uint64]
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32] | None]:
    """Every posting of ``keys`` across ``segments``, in segment order.

    Returns ``(owner, target, value)``, each ``(n,)``: ``owner[j]`` is the
    index into ``keys`` that posting ``j`` belongs to. ``value`` is None when
    the segments carry none.
    """
    owners, targets, values = [], [], []
    with_value = False
    for seg in segments:
        starts, ends = seg.find(keys)
        owner, pos = ranges(starts, ends)
        if not len(pos):
            continue
        owners.append(owner)
        targets.append(np.asarray(seg.target[pos]))
        if seg.value is not None:
            with_value = True
            values.append(np.asarray(seg.value[pos]))
    if not owners:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), (
            np.zeros(0, np.int32) if any(s.value is not None for s in segments) else None
        )
    return (
        np.concatenate(owners),
        np.concatenate(targets),
        np.concatenate(values) if with_value else None,
    )


def _run_lengths(indptr: NDArray[np.int64]) -> NDArray[np.int64]:
    ptr = np.asarray(indptr, np.int64)
    return ptr[1:] - ptr[:-1]


def _kept(seg: Segment, keep: NDArray[np.bool_] | None) -> Segment:
    """``seg`` without the postings whose target is not kept (keys left empty dropped)."""
    if keep is None or not len(seg.target):
        return seg
    mask = keep[np.asarray(seg.target)]
    if mask.all():
        return seg
    counts = _run_lengths(seg.indptr)
    owner = np.repeat(np.arange(len(counts)), counts)
    left = np.bincount(owner[mask], minlength=len(counts))
    nonzero = left > 0
    indptr = np.zeros(int(nonzero.sum()) + 1, np.int64)
    np.cumsum(left[nonzero], out=indptr[1:])
    value = None if seg.value is None else np.asarray(seg.value)[mask]
    return Segment(np.asarray(seg.keys)[nonzero], indptr, np.asarray(seg.target)[mask], value)


def _merge_two(a: Segment, b: Segment) -> Segment:
    """The postings of ``a`` then ``b`` for each key, in time and memory linear in both.

    ``b``'s run of each key is inserted right after ``a``'s run of it (or where
    the key would stand in ``a``): no sort of the postings.
    """
    ka, kb = np.asarray(a.keys), np.asarray(b.keys)
    a_ptr = np.asarray(a.indptr, np.int64)
    cb = _run_lengths(b.indptr)
    where = a_ptr[np.searchsorted(ka, kb, side="right")]  # (Kb,) insertion point in a
    at = np.repeat(where, cb)  # (Pb,)
    target = np.insert(np.asarray(a.target), at, np.asarray(b.target))
    value = None
    if a.value is not None and b.value is not None:
        value = np.insert(np.asarray(a.value), at, np.asarray(b.value))
    keys = np.union1d(ka, kb)
    counts = np.zeros(len(keys), np.int64)
    counts[np.searchsorted(keys, ka)] += _run_lengths(a_ptr)
    counts[np.searchsorted(keys, kb)] += cb
    indptr = np.zeros(len(keys) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Segment(keys.astype(np.uint64), indptr, target.astype(np.int32), value)


def merge(segments: Sequence[Segment], keep: NDArray[np.bool_] | None = None) -> Segment:
    """One segment holding the postings of ``segments`` (in that order within a key).

    ``keep``, when given, is indexed by target: postings whose target is not
    kept are dropped (deleted chunk rows).
    """
    if not segments:
        return Segment.empty()
    out = _kept(segments[0], keep)
    for seg in segments[1:]:
        out = _merge_two(out, _kept(seg, keep))
    return out


class StringTable:
    """Strings stored as one UTF-8 blob ``(B,)`` and offsets ``(n+1,)`` (memory-mappable).

    >>> t = StringTable.build(["acme", "lisbon"])
    >>> t[1], len(t)
    ('lisbon', 2)
    """

    def __init__(self, blob: NDArray[np.uint8], offsets: NDArray[np.int64]) -> None:
        self.blob = blob
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return bytes(self.blob[start:end]).decode("utf-8")

    @staticmethod
    def encode(
        strings: Sequence[str], start: int = 0
    ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
        """``(blob, ends)``: the UTF-8 of ``strings`` and each one's end offset after ``start``."""
        data = [s.encode("utf-8") for s in strings]
        ends = start + np.cumsum([len(d) for d in data], dtype=np.int64)
        return np.frombuffer(b"".join(data), np.uint8).copy(), ends

    @classmethod
    def build(cls, strings: Sequence[str]) -> StringTable:
        blob, ends = cls.encode(strings)
        return cls(blob, np.concatenate([np.zeros(1, np.int64), ends]))
