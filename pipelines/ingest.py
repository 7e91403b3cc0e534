"""Ingestion: documents -> chunks -> (entities, relations, vectors) -> store.

Work goes in batches of documents. Each batch is chunked, then extracted
(spaCy, in a worker thread) while it is embedded (in this thread), then
resolved and written to the store in one transaction. A process killed
mid-ingest therefore leaves every finished batch committed and nothing of the
batch in flight; running the same ingest again skips what is already there
(same content hash) and does the rest.

No single input can end the run. Before a document reaches a model, its
non-prose payloads are left out of its chunks and every chunk is cut to a
size the models accept (``pipelines/payloads.py``); entity ids longer than
:data:`MAX_ENTITY_ID_CHARS` are dropped. When a batch still fails, its
documents are ingested one by one, and a document that fails alone becomes a
problem naming it. Only errors of the store or of loading a model (which no
other document could escape either) end the run.

Ids are settled first (``pipelines/doc_ids.py``): a document never silently
takes the id of a document from another source.
"""

from __future__ import annotations

import codecs
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from kg.extract import EntityExtractor
from kg.extract_process import ExtractorPool
from kg.resolve import NameIndex, normalize, resolve_batch
from kg.store import DocumentRecord, GraphStore, WriteSummary
from kgqa.errors import ConfigError, ExtractionError, ModelError, StoreError
from kgqa.types import (
    Chunk,
    Document,
    Extraction,
    IngestProblem,
    IngestReport,
    Mention,
)
from pipelines.chunking import ChunkerConfig, TokenCounter, chunk_document
from pipelines.doc_ids import OnConflict, assign_ids, check_policy
from pipelines.languages import LanguageCheck
from pipelines.loaders import Loaded, iter_documents
from pipelines.payloads import chunk_without_payloads, describe
from retrieval.embed import Embedder, HasTokenWindow

Source = str | Path | Document | Loaded

#: Longest entity id written: ids are keys in the store and in Neo4j's indexes.
MAX_ENTITY_ID_CHARS = 300


@dataclass(frozen=True)
class IngestOptions:
    """Knobs of one ingest run.

    ``batch_docs``: documents per store transaction (and per extraction /
    embedding batch). ``embed_batch_size``: texts per forward pass.
    ``on_conflict``: what to do with a new document whose id belongs to a
    document from another source (``"keep-both"``: store it under a longer
    id; ``"replace"``; ``"skip"``; see ``pipelines/doc_ids.py``).
    ``encoding``: how to decode text files that are not UTF-8 and do not
    declare their encoding (a codec name such as ``"cp1252"``); None reports
    them as problems that name the likely encoding.
    """

    batch_docs: int = 128
    embed_batch_size: int = 64
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    # Extraction in child processes beside embedding: True, False, or None for
    # "when the ingest is large". A spawned child re-imports the caller's main
    # module, so the Python API defaults to a thread and the CLI (whose main
    # module is guarded) asks for None.
    extract_in_process: bool | None = False
    on_conflict: OnConflict = "keep-both"
    encoding: str | None = None
    # Cores to use (None: those this process may run on); see ``plan_cores``.
    cores: int | None = None

    def __post_init__(self) -> None:
        check_policy(self.on_conflict)
        if self.batch_docs < 1 or self.embed_batch_size < 1:
            raise ConfigError(
                f"batch sizes must be at least 1, got batch_docs={self.batch_docs}, "
                f"embed_batch_size={self.embed_batch_size}"
            )
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError as e:
                raise ConfigError(
                    f"unknown encoding {self.encoding!r}; use a name such as cp1252, "
                    "latin-1, utf-16 or shift_jis"
                ) from e


@dataclass
class StageTimes:
    """Seconds spent per stage (extraction overlaps embedding in wall time)."""

    load: float = 0.0
    chunk: float = 0.0
    extract: float = 0.0
    embed: float = 0.0
    resolve: float = 0.0
    write: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        out = {k: round(v, 3) for k, v in vars(self).items() if k != "extra"}
        out.update(self.extra)
        return out


def embed_text(title: str, chunk: Chunk) -> str:
    """The text embedded for a chunk: its document title, then the chunk."""
    return titled_text(title, chunk.text)


def titled_text(title: str, text: str) -> str:
    """A chunk's text preceded by its document title (unless it starts with it)."""
    if title and not text.startswith(title):
        return f"{title}\n{text}"
    return text


def collect_documents(
    sources: Iterable[Source], encoding: str | None = None
) -> tuple[list[tuple[Document, bool]], list[IngestProblem]]:
    """Load every source; return ``[(document, is_record)]`` and the problems found.

    Ids are as loaded; :func:`pipelines.doc_ids.assign_ids` settles clashes.
    """
    docs: list[tuple[Document, bool]] = []
    problems: list[IngestProblem] = []
    paths: list[str | Path] = []
    for src in sources:
        if isinstance(src, Document):
            docs.append((src, False))
        elif isinstance(src, Loaded):
            docs.append((src.document, src.is_record))
        else:
            paths.append(src)
    for item in iter_documents(paths, encoding):
        if isinstance(item, Loaded):
            docs.append((item.document, item.is_record))
        else:
            problems.append(item)
    return docs, problems


def run_ingest(
    store: GraphStore,
    embedder: Embedder,
    extractor: EntityExtractor,
    chunker: ChunkerConfig,
    sources: Iterable[Source],
    options: IngestOptions = IngestOptions(),
    on_progress: Callable[[int, int], None] | None = None,
    language: LanguageCheck | None = None,
) -> tuple[IngestReport, StageTimes]:
    """Ingest ``sources`` into ``store``; see the module docstring.

    Chunks are sized in the embedder's tokens when it has a tokenizer
    (:class:`~retrieval.embed.HasTokenWindow`). ``language`` sees every
    document ingested; its notice, if any, is in the report's ``notices``.
    """
    t0 = time.perf_counter()
    times = StageTimes()
    loaded, problems = collect_documents(sources, options.encoding)
    stored = {d.id: (d.source, d.content_hash) for d in store.list_documents()}
    docs, conflicts, id_problems = assign_ids(loaded, stored, options.on_conflict)
    problems += id_problems
    times.load = time.perf_counter() - t0
    todo = [(d, r) for d, r in docs if stored.get(d.id, ("", ""))[1] != d.content_hash]
    unchanged = len(docs) - len(todo)
    totals = {"chunks": 0, "mentions": 0, "relations": 0, "entities": 0, "added": 0, "updated": 0}
    counter = embedder.token_window() if isinstance(embedder, HasTokenWindow) and todo else None
    names = name_index(store) if todo else None

    bar = _progress_bar(len(todo), options.progress)
    done = 0
    in_process = options.extract_in_process
    if in_process is None:  # the CLI's choice; see IngestOptions
        in_process = len(todo) >= PROCESS_MIN_DOCS and hasattr(extractor, "spawn_args")
    plan = plan_cores(options.cores, in_process, _has_gpu(embedder))
    times.extra["extract_workers"] = float(plan.extract_workers)
    with _Overlap(extractor, plan) as overlap:
        work = _BatchWork(store, embedder, chunker, overlap, options, times,
                          counter=counter, names=names, language=language)
        for batch in _batches(todo, options.batch_docs):
            written, found = work.ingest_batch(batch)
            problems += found
            for summary, doc in written:
                totals["chunks"] += summary.chunks
                totals["mentions"] += summary.mentions
                totals["relations"] += summary.relations
                totals["entities"] += summary.entities_added
                totals["updated" if doc.id in stored else "added"] += 1
            done += len(batch)
            if bar is not None:
                bar.update(len(batch))
            if on_progress is not None:
                on_progress(done, len(todo))
    if bar is not None:
        bar.close()
    report = IngestReport(
        documents_added=totals["added"],
        documents_updated=totals["updated"],
        documents_unchanged=unchanged,
        chunks_added=totals["chunks"],
        entities_added=totals["entities"],
        relations_added=totals["relations"],
        mentions_added=totals["mentions"],
        problems=tuple(problems),
        seconds=time.perf_counter() - t0,
        notices=tuple(n for n in [language.notice() if language else None] if n),
        conflicts=tuple(conflicts),
    )
    return report, times


def name_index(store: GraphStore) -> NameIndex:
    """The base's full person names and an entity lookup, for resolution across documents."""
    return NameIndex.of_people(
        store.entity_ids("PERSON"), lookup=lambda key: store.get_entity(key) is not None
    )


def _fatal(e: Exception) -> bool:
    """Errors no other document would escape: the store, or a model that cannot load."""
    if isinstance(e, ExtractionError):
        return False
    return isinstance(e, (StoreError, ModelError, sqlite3.OperationalError))


class _BatchWork:
    """Chunk, embed, extract, resolve and write batches; one document at a time after a failure."""

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        chunker: ChunkerConfig,
        overlap: _Overlap,
        options: IngestOptions,
        times: StageTimes,
        *,
        counter: TokenCounter | None = None,
        names: NameIndex | None = None,
        language: LanguageCheck | None = None,
    ) -> None:
        self.counter = counter  # the embedder's token count, for chunk sizes
        self.names = names  # the base's names, for resolution across documents
        self.language = language  # sees every document, for the once-per-base notice
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.overlap = overlap
        self.options = options
        self.times = times

    def ingest_batch(
        self, batch: list[tuple[Document, bool]]
    ) -> tuple[list[tuple[WriteSummary, Document]], list[IngestProblem]]:
        """Write ``batch`` in one transaction; after a failure, each document alone.

        Returns ``(summary, document)`` per written document (a batch write
        shares one summary among its documents: it is returned once, with the
        first) and the problems found.
        """
        try:
            return self._write(batch)
        except Exception as e:
            self.overlap.drain()
            if _fatal(e):
                raise
            if len(batch) == 1:
                return [], [_failed(batch[0][0], e)]
        written: list[tuple[WriteSummary, Document]] = []
        problems: list[IngestProblem] = []
        for item in batch:
            try:
                w, p = self._write([item])
            except Exception as e:
                self.overlap.drain()
                if _fatal(e):
                    raise
                problems.append(_failed(item[0], e))
                continue
            written += w
            problems += p
        return written, problems

    def _write(
        self, batch: list[tuple[Document, bool]]
    ) -> tuple[list[tuple[WriteSummary, Document]], list[IngestProblem]]:
        t = time.perf_counter()
        problems: list[IngestProblem] = []
        chunked: list[tuple[Document, list[Chunk]]] = []
        for doc, is_record in batch:
            if self.language is not None:
                self.language.see(doc)
            chunks, payloads = chunk_without_payloads(
                doc,
                partial(chunk_document, config=self.chunker, is_record=is_record,
                        counter=self.counter),
            )
            where = doc.source or doc.id
            if payloads:
                reason = describe(payloads, rest=bool(chunks))
                problems.append(IngestProblem(where, reason, partial=bool(chunks)))
            if not chunks:
                if not payloads:
                    problems.append(IngestProblem(where, "no text to index"))
                continue
            chunked.append((doc, chunks))
        self.times.chunk += time.perf_counter() - t
        if not chunked:
            return [], problems
        all_chunks = [c for _, cs in chunked for c in cs]
        titles = [doc.title for doc, cs in chunked for _ in cs]

        t = time.perf_counter()
        self.overlap.submit(all_chunks)
        vectors = self.embedder.embed(
            [embed_text(title, c) for title, c in zip(titles, all_chunks, strict=True)],
            batch_size=self.options.embed_batch_size,
        )  # (n_chunks, dim)
        self.times.embed += time.perf_counter() - t
        extractions, extract_s = self.overlap.result()
        self.times.extract += extract_s
        if len(extractions) != len(all_chunks):
            raise ValueError(f"{len(extractions)} extractions for {len(all_chunks)} chunks")
        if vectors.shape != (len(all_chunks), self.embedder.dim):
            raise ValueError(f"the embedder returned vectors of shape {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError("the embedder returned vectors that are not finite numbers")

        t = time.perf_counter()
        records = list(_records(chunked, extractions, vectors, self.names))
        self.times.resolve += time.perf_counter() - t

        t = time.perf_counter()
        summary = self.store.write(records)
        self.times.write += time.perf_counter() - t
        empty = WriteSummary(0, 0, 0, 0)
        return [(summary if i == 0 else empty, doc) for i, (doc, _) in enumerate(chunked)], problems


def _failed(doc: Document, e: BaseException) -> IngestProblem:
    return IngestProblem(
        doc.source or doc.id,
        f"not ingested: unexpected error ({type(e).__name__}: {str(e)[:300]}); "
        "the other documents were ingested",
    )


def _records(
    chunked: Sequence[tuple[Document, list[Chunk]]],
    extractions: Sequence[Extraction],
    vectors: object,
    names: NameIndex | None = None,
) -> Iterator[DocumentRecord]:
    items = []
    i = 0
    for doc, chunks in chunked:
        items.append((doc, chunks, extractions[i : i + len(chunks)]))
        i += len(chunks)
    resolutions = resolve_batch(items, names)
    i = 0
    for (doc, chunks), resolution in zip(chunked, resolutions, strict=True):
        n = len(chunks)
        mentions = tuple(m for m in resolution.mentions if len(m.entity_id) <= MAX_ENTITY_ID_CHARS)
        relations = tuple(
            r
            for r in resolution.relations
            if max(len(r.source), len(r.target)) <= MAX_ENTITY_ID_CHARS
        )
        yield DocumentRecord(
            document=doc,
            chunks=tuple(chunks),
            vectors=vectors[i : i + n],  # type: ignore[index]
            mentions=mentions + title_mentions(doc, chunks, mentions),
            relations=relations,
        )
        i += n


TITLE_LABEL = "TITLE"


def _name_like(title: str) -> bool:
    """A digit, or a letter that is not lower case (upper case, or a caseless script)."""
    return any(ch.isdigit() or (ch.isalpha() and not ch.islower()) for ch in title)


def title_mentions(
    doc: Document, chunks: Sequence[Chunk], found: Sequence[Mention]
) -> tuple[Mention, ...]:
    """Link every chunk to the entity its document is about: its title.

    A document titled "Maria Okafor" is about the entity ``maria okafor``, even
    where its text says "she". These links are what lets the graph walk from a
    passage that mentions an entity to the passage about it. The mention has an
    empty span at the chunk start (the title is not part of the text), label
    ``TITLE``, and is skipped where the chunk already mentions that entity.
    A title that is no name (all in lower case: "notes", "readme", from a
    file name; caseless scripts such as Chinese count as names) links
    nothing, so the many ``notes.md`` of a base are not tied together through
    one entity "notes".
    """
    key = normalize(doc.title)
    if not key or len(key) > MAX_ENTITY_ID_CHARS or not _name_like(doc.title):
        return ()
    already = {m.chunk_id for m in found if m.entity_id == key}
    return tuple(
        Mention(key, c.id, doc.id, doc.title, c.start, c.start, TITLE_LABEL)
        for c in chunks
        if c.id not in already
    )


PROCESS_MIN_DOCS = 200


@dataclass(frozen=True)
class CorePlan:
    """How an ingest shares the cores: spaCy processes beside embedding threads."""

    extract_workers: int  # child processes running the extractor (0: a thread)
    embed_threads: int  # PyTorch threads of the embedder (on a CPU)


def plan_cores(cores: int | None, in_process: bool, gpu: bool) -> CorePlan:
    """Share ``cores`` (None: the process's CPU affinity) between extraction and embedding.

    With one core, or a small ingest, extraction runs in a thread. Otherwise
    spaCy, one core per process, gets half the cores and embedding the rest;
    when embedding runs on a GPU, extraction takes all cores but the one that
    feeds the GPU. Measured on this project's 2-core machine (512 musique
    passages): embedding beside one spaCy process took 2.11x embedding alone
    on 2 threads and 1.84x on 1, hence one thread each there.

    >>> plan_cores(2, True, False), plan_cores(16, True, False).extract_workers
    (CorePlan(extract_workers=1, embed_threads=1), 8)
    >>> plan_cores(16, True, True).extract_workers
    15
    """
    n = cores or available_cores()
    if n <= 1 or not in_process:
        return CorePlan(0, max(1, n))
    workers = n - 1 if gpu else max(1, n // 2)
    return CorePlan(workers, max(1, n - workers))


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows


def _has_gpu(embedder: Embedder) -> bool:
    device = getattr(getattr(embedder, "_st", None), "device", None)
    return getattr(device, "type", "cpu") == "cuda"


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Embed on ``n`` threads while the extraction processes have the other cores."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(min(n, before))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Overlap:
    """Extract one batch while the caller embeds it: in child processes or a thread.

    Child processes (for extractors that offer ``spawn_args``, on ingests of at
    least ``PROCESS_MIN_DOCS`` documents) do not contend for the GIL with
    PyTorch, and several of them use several cores; a thread costs nothing to
    start, so small ingests use one.
    """

    def __init__(self, extractor: EntityExtractor, plan: CorePlan) -> None:
        self._extractor = extractor
        self._plan = plan
        self._stack = ExitStack()
        self._workers: ExtractorPool | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[list[Extraction]] | None = None
        self._worker_busy = False
        self._t0 = 0.0

    def __enter__(self) -> _Overlap:
        if self._plan.extract_workers:
            spawn_args = self._extractor.spawn_args  # type: ignore[attr-defined]
            self._workers = self._stack.enter_context(
                ExtractorPool(self._plan.extract_workers, type(self._extractor), *spawn_args())
            )
            self._stack.enter_context(_torch_threads(self._plan.embed_threads))
        else:
            self._pool = self._stack.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgqa-extract")
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def submit(self, chunks: list[Chunk]) -> None:
        self._t0 = time.perf_counter()
        if self._workers is not None:
            self._workers.submit(chunks)  # restarts a worker a crash stopped
            self._worker_busy = True
        else:
            assert self._pool is not None
            self._pending = self._pool.submit(self._extractor.extract, chunks)

    def result(self) -> tuple[list[Extraction], float]:
        if self._workers is not None:
            self._worker_busy = False
            out = self._workers.result()
        else:
            assert self._pending is not None
            pending, self._pending = self._pending, None
            out = pending.result()
        return out, time.perf_counter() - self._t0

    def drain(self) -> None:
        """Wait for and drop a submitted batch whose result is no longer wanted."""
        try:
            if (self._workers is not None and self._worker_busy) or self._pending is not None:
                self.result()
        except Exception:  # its failure is the failure being handled
            pass


def _batches(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), max(1, n)):
        yield items[i : i + n]


def _progress_bar(total: int, enabled: bool | None) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="ingest", file=sys.stderr)
