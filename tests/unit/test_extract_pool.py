"""Extraction in several worker processes: the same extractions, in the chunks' order."""

from __future__ import annotations

from kg.extract_process import ExtractorPool
from kgqa.types import Chunk
from pipelines.ingest import CorePlan, plan_cores
from tests.fakes import CapitalizedExtractor


def chunks(n):
    texts = [f"Acme Robotics hired Maria Okafor {i} in Lisbon. Zeta Labs moved." for i in range(n)]
    return [Chunk(f"d#{i}", "d", i, t, 0, len(t)) for i, t in enumerate(texts)]


def test_a_pool_extracts_what_one_extractor_does_in_order():
    one = CapitalizedExtractor()
    with ExtractorPool(3, CapitalizedExtractor) as pool:
        for n in (7, 2, 0, 1):  # more chunks than workers, fewer, none
            pool.submit(chunks(n))
            assert pool.result() == one.extract(chunks(n))


def test_cores_are_shared_between_extraction_and_embedding():
    assert plan_cores(1, True, False) == CorePlan(0, 1)  # one core: a thread
    assert plan_cores(8, False, False) == CorePlan(0, 8)  # a small ingest: a thread
    assert plan_cores(2, True, False) == CorePlan(1, 1)
    assert plan_cores(8, True, False) == CorePlan(4, 4)
    assert plan_cores(8, True, True) == CorePlan(7, 1)  # the GPU embeds
