"""Ingestion: documents -> chunks -> (entities, relations, vectors) -> store.

Work goes in batches of documents. Each batch is chunked, then extracted
(spaCy, in a worker thread) while it is embedded (in this thread), then
resolved and written to the store in one transaction. A process killed
mid-ingest therefore leaves every finished batch committed and nothing of the
batch in flight; running the same ingest again skips what is already there
(same content hash) and does the rest.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.extract import EntityExtractor
from kg.extract_process import ExtractorProcess
from kg.resolve import NameIndex, normalize, resolve_batch
from kg.store import DocumentRecord, GraphStore
from kgqa.types import Chunk, Document, Extraction, IngestProblem, IngestReport, Mention
from pipelines.chunking import ChunkerConfig, chunk_document
from pipelines.languages import LanguageCheck
from pipelines.loaders import Loaded, iter_documents
from retrieval.embed import Embedder, HasTokenWindow

Source = str | Path | Document


@dataclass(frozen=True)
class IngestOptions:
    """Knobs of one ingest run.

    ``batch_docs``: documents per store transaction (and per extraction /
    embedding batch). ``embed_batch_size``: texts per forward pass.
    """

    batch_docs: int = 128
    embed_batch_size: int = 64
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    # Extraction in a child process beside embedding: True, False, or None for
    # "when the ingest is large". A spawned child re-imports the caller's main
    # module, so the Python API defaults to a thread and the CLI (whose main
    # module is guarded) asks for None.
    extract_in_process: bool | None = False


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
    if title and not chunk.text.startswith(title):
        return f"{title}\n{chunk.text}"
    return chunk.text


def collect_documents(
    sources: Iterable[Source],
) -> tuple[list[tuple[Document, bool]], list[IngestProblem]]:
    """Load every source; return ``[(document, is_record)]`` and the problems found.

    A document id seen twice in one call is a problem for the second one.
    """
    docs: list[tuple[Document, bool]] = []
    problems: list[IngestProblem] = []
    seen: dict[str, str] = {}
    paths: list[str | Path] = []

    def add(doc: Document, is_record: bool) -> None:
        if doc.id in seen:
            problems.append(
                IngestProblem(
                    doc.source or doc.id,
                    f"duplicate document id {doc.id!r} (also in {seen[doc.id]})",
                )
            )
            return
        seen[doc.id] = doc.source or doc.id
        docs.append((doc, is_record))

    for src in sources:
        if isinstance(src, Document):
            add(src, False)
        else:
            paths.append(src)
    for item in iter_documents(paths):
        if isinstance(item, Loaded):
            add(item.document, item.is_record)
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
    docs, problems = collect_documents(sources)
    times.load = time.perf_counter() - t0
    existing = store.document_hashes()
    todo = [(d, r) for d, r in docs if existing.get(d.id) != d.content_hash]
    unchanged = len(docs) - len(todo)
    updated = sum(1 for d, _ in todo if d.id in existing)
    totals = {"chunks": 0, "mentions": 0, "relations": 0, "entities": 0}
    counter = embedder.token_window() if isinstance(embedder, HasTokenWindow) and todo else None
    names = name_index(store) if todo else None

    bar = _progress_bar(len(todo), options.progress)
    done = 0
    in_process = options.extract_in_process
    if in_process is None:  # the CLI's choice; see IngestOptions
        in_process = len(todo) >= PROCESS_MIN_DOCS and hasattr(extractor, "spawn_args")
    with _Overlap(extractor, in_process) as overlap:
        for batch in _batches(todo, options.batch_docs):
            t = time.perf_counter()
            chunked: list[tuple[Document, list[Chunk]]] = []
            for doc, is_record in batch:
                if language is not None:
                    language.see(doc)
                chunks = chunk_document(doc, chunker, is_record=is_record, counter=counter)
                if not chunks:
                    problems.append(IngestProblem(doc.source or doc.id, "no text to index"))
                    continue
                chunked.append((doc, chunks))
            times.chunk += time.perf_counter() - t
            all_chunks = [c for _, cs in chunked for c in cs]
            titles = [doc.title for doc, cs in chunked for _ in cs]

            t = time.perf_counter()
            overlap.submit(all_chunks)
            vectors = embedder.embed(
                [embed_text(title, c) for title, c in zip(titles, all_chunks, strict=False)],
                batch_size=options.embed_batch_size,
            )
            times.embed += time.perf_counter() - t
            extractions, extract_s = overlap.result()
            times.extract += extract_s

            t = time.perf_counter()
            records = list(_records(chunked, extractions, vectors, names))
            times.resolve += time.perf_counter() - t

            t = time.perf_counter()
            summary = store.write(records)
            times.write += time.perf_counter() - t
            totals["chunks"] += summary.chunks
            totals["mentions"] += summary.mentions
            totals["relations"] += summary.relations
            totals["entities"] += summary.entities_added
            done += len(batch)
            if bar is not None:
                bar.update(len(batch))
            if on_progress is not None:
                on_progress(done, len(todo))
    if bar is not None:
        bar.close()
    report = IngestReport(
        documents_added=len(todo) - updated,
        documents_updated=updated,
        documents_unchanged=unchanged,
        chunks_added=totals["chunks"],
        entities_added=totals["entities"],
        relations_added=totals["relations"],
        mentions_added=totals["mentions"],
        problems=tuple(problems),
        seconds=time.perf_counter() - t0,
        notices=tuple(n for n in [language.notice() if language else None] if n),
    )
    return report, times


def name_index(store: GraphStore) -> NameIndex:
    """The base's full person names and an entity lookup, for resolution across documents."""
    return NameIndex.of_people(
        store.entity_ids("PERSON"), lookup=lambda key: store.get_entity(key) is not None
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
        yield DocumentRecord(
            document=doc,
            chunks=tuple(chunks),
            vectors=vectors[i : i + n],  # type: ignore[index]
            mentions=resolution.mentions + title_mentions(doc, chunks, resolution.mentions),
            relations=resolution.relations,
        )
        i += n


TITLE_LABEL = "TITLE"


def title_mentions(
    doc: Document, chunks: Sequence[Chunk], found: Sequence[Mention]
) -> tuple[Mention, ...]:
    """Link every chunk to the entity its document is about: its title.

    A document titled "Maria Okafor" is about the entity ``maria okafor``, even
    where its text says "she". These links are what lets the graph walk from a
    passage that mentions an entity to the passage about it. The mention has an
    empty span at the chunk start (the title is not part of the text), label
    ``TITLE``, and is skipped where the chunk already mentions that entity.
    """
    key = normalize(doc.title)
    if not key:
        return ()
    already = {m.chunk_id for m in found if m.entity_id == key}
    return tuple(
        Mention(key, c.id, doc.id, doc.title, c.start, c.start, TITLE_LABEL)
        for c in chunks
        if c.id not in already
    )


PROCESS_MIN_DOCS = 200


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Embed on ``n`` threads while the extraction process has the other core.

    Measured on 2 cores (512 musique passages): embedding beside the spaCy
    process took 2.11x embedding alone on 2 threads, 1.84x on 1.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(min(n, before))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Overlap:
    """Extract one batch while the caller embeds it: in a child process or a thread.

    A child process (for extractors that offer ``spawn_args``, on ingests of at
    least ``PROCESS_MIN_DOCS`` documents) does not contend for the GIL with
    PyTorch; a thread costs nothing to start, so small ingests use one.
    """

    def __init__(self, extractor: EntityExtractor, in_process: bool) -> None:
        self._extractor = extractor
        self._in_process = in_process
        self._stack = ExitStack()
        self._worker: ExtractorProcess | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[list[Extraction]] | None = None
        self._t0 = 0.0

    def __enter__(self) -> _Overlap:
        if self._in_process:
            spawn_args = self._extractor.spawn_args  # type: ignore[attr-defined]
            self._worker = self._stack.enter_context(
                ExtractorProcess(type(self._extractor), *spawn_args())
            )
            self._stack.enter_context(_torch_threads(1))
        else:
            self._pool = self._stack.enter_context(
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgqa-extract")
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def submit(self, chunks: list[Chunk]) -> None:
        self._t0 = time.perf_counter()
        if self._worker is not None:
            self._worker.submit(chunks)
        else:
            assert self._pool is not None
            self._pending = self._pool.submit(self._extractor.extract, chunks)

    def result(self) -> tuple[list[Extraction], float]:
        if self._worker is not None:
            out = self._worker.result()
        else:
            assert self._pending is not None
            out = self._pending.result()
        return out, time.perf_counter() - self._t0


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
