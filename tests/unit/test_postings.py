"""Postings on numpy arrays: build, look up across segments, merge (with deletions)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.postings import (
    HashCache,
    Segment,
    StringTable,
    hash_strings,
    lookup,
    merge,
    pair_keys,
    ranges,
)


def random_segment(rng, n, n_keys, first_target):
    keys = rng.integers(0, n_keys, n).astype(np.uint64)
    target = np.sort(rng.integers(first_target, first_target + 1000, n)).astype(np.int32)
    value = rng.integers(0, 9, n).astype(np.int32)
    return Segment.build(keys, target, value), (keys, target, value)


def test_build_and_lookup_across_segments():
    a = Segment.build(np.array([7, 3, 7], np.uint64), np.array([0, 1, 2]), np.array([5, 6, 7]))
    b = Segment.build(np.array([3, 9], np.uint64), np.array([10, 11]), np.array([8, 9]))
    owner, target, value = lookup([a, b], np.array([7, 3, 4], np.uint64))
    got = sorted(zip(owner.tolist(), target.tolist(), value.tolist(), strict=True))
    assert got == [(0, 0, 5), (0, 2, 7), (1, 1, 6), (1, 10, 8)]
    assert len(lookup([], np.array([1], np.uint64))[0]) == 0


@pytest.mark.parametrize("seed", range(10))
def test_merge_equals_building_from_all_postings(seed):
    rng = np.random.default_rng(seed)
    a, (k1, t1, v1) = random_segment(rng, int(rng.integers(0, 300)), 50, 0)
    b, (k2, t2, v2) = random_segment(rng, int(rng.integers(0, 300)), 80, 1000)
    keep = rng.random(2000) < 0.7  # deleted rows are dropped by the merge
    keys, target, value = (np.concatenate(x) for x in ((k1, k2), (t1, t2), (v1, v2)))
    for kept in (None, keep):
        mask = np.ones(len(target), bool) if kept is None else kept[target]
        expected = Segment.build(keys[mask], target[mask], value[mask])
        got = merge([a, b], kept)
        for part in ("keys", "indptr", "target", "value"):
            np.testing.assert_array_equal(getattr(got, part), getattr(expected, part))


def test_ranges_pairs_and_hashes():
    owner, pos = ranges(np.array([2, 5, 10]), np.array([4, 5, 11]))
    assert (owner.tolist(), pos.tolist()) == ([0, 0, 2], [2, 3, 10])
    assert int(pair_keys(np.array([3]), np.array([5]))[0]) == (3 << 32) | 5
    h = hash_strings(["acme", "lisbon", "acme"])
    assert h[0] == h[2] != h[1] and h.dtype == np.uint64
    np.testing.assert_array_equal(HashCache()(["lisbon", "acme"]), h[[1, 0]])


def test_string_table():
    t = StringTable.build(["acme", "", "Zoë"])
    assert [t[i] for i in range(len(t))] == ["acme", "", "Zoë"]
