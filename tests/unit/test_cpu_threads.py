"""Generation threads on the CPU: the cores other processes leave free."""

from __future__ import annotations

import os

import pytest

from llm.transformers_backend import cpu_threads


@pytest.mark.parametrize(("cores", "load", "threads"), [
    (2, 1.0, 2),   # idle but for this process
    (2, 0.2, 2),
    (2, 2.0, 1),
    (2, 6.0, 1),   # a busy shared machine: one thread
    (8, 3.0, 6),
    (8, 20.0, 1),
])
def test_threads_follow_the_free_cores(monkeypatch, cores, load, threads):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert cpu_threads() == threads


def test_without_a_load_average_all_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})

    def no_load() -> tuple[float, float, float]:
        raise OSError("not available")

    monkeypatch.setattr(os, "getloadavg", no_load)
    assert cpu_threads() == 3
