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


@pytest.mark.parametrize(("machine_busy", "own", "threads"), [
    (2.0, 2.0, 2),   # all the busy time was this process's: both cores are free
    (2.0, 0.0, 1),   # another process kept one core busy for the whole second
    (4.0, 2.0, 1),   # this process on both cores and another on one
    (0.3, 0.0, 2),   # a short burst elsewhere
])
def test_free_cores_follow_what_other_processes_used_since_the_last_reading(
    monkeypatch, machine_busy, own, threads
):
    from llm import transformers_backend as tb

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    samples = iter([(10.0, 5.0, 100.0), (10.0 + machine_busy, 5.0 + own, 101.0)])
    monkeypatch.setattr(tb.FreeCores, "sample", staticmethod(lambda: next(samples)))
    assert tb.FreeCores().threads() == threads


def test_free_cores_need_half_a_second_and_a_proc_stat(monkeypatch):
    from llm import transformers_backend as tb

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    samples = iter([(10.0, 5.0, 100.0), (11.0, 5.0, 100.2), None])
    monkeypatch.setattr(tb.FreeCores, "sample", staticmethod(lambda: next(samples)))
    meter = tb.FreeCores()
    assert meter.threads() is None  # 0.2 s: too short to tell
    assert meter.threads() is None  # no /proc/stat


def test_free_cores_read_this_machine():
    from llm.transformers_backend import FreeCores

    sample = FreeCores.sample()
    if sample is None:
        pytest.skip("no /proc/stat here")
    busy, own, wall = sample
    assert busy >= 0 and own >= 0 and wall > 0
