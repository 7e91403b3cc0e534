"""Entity merging on the hand-labelled pairs of tests/data/entity_merging.jsonl.

The floors are below today's figures (``benchmarks/entity_merging.py``: precision
94.0, recall 94.0 on the file's labels), so a change that makes merging
noticeably worse in either direction fails here.
"""

from __future__ import annotations

from collections import Counter

from benchmarks.entity_merging import DATA, evaluate, load_pairs, score

PRECISION_FLOOR = 90.0
RECALL_FLOOR = 88.0


def test_the_labelled_set_is_large_and_has_hard_negatives() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 60
    assert len({p["id"] for p in pairs}) == len(pairs)
    same = Counter(p["same"] for p in pairs)
    assert same[True] >= 30 and same[False] >= 25
    kinds = {p["kind"] for p in pairs if not p["same"]}
    assert {"company named after a person", "shared surname", "same first word"} <= kinds


def test_merging_precision_and_recall_stay_above_their_floors() -> None:
    result, errors = evaluate(DATA)
    assert result["precision"] >= PRECISION_FLOOR, errors
    assert result["recall"] >= RECALL_FLOOR, errors


def test_score_counts() -> None:
    pairs = [{"same": s, "kind": "k"} for s in (True, True, False, False)]
    result = score(pairs, [True, False, True, False])
    assert (result["precision"], result["recall"]) == (50.0, 50.0)
    assert (result["merged_right"], result["merged_wrong"], result["missed"]) == (1, 1, 1)

