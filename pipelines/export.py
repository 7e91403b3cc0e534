"""Copy an embedded knowledge base into Neo4j (``kgqa export --to neo4j``).

The target is a new base directory (default: the source's name + ``-neo4j``)
whose manifest names the same models and chunker and a fresh Neo4j namespace;
every document is copied with its chunks, vectors, mentions and relations as
:class:`~kg.store.DocumentRecord` batches (one transaction each), in the order
they were written, so searches on the copy return what they return on the
source. Exporting again into the same target copies only what changed and
removes documents the source no longer has: the target mirrors the source.

>>> report = export_to_neo4j(Path("my-kb"))            # doctest: +SKIP
>>> report.target, report.documents                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgqa.errors import ConfigError, StoreError
from pipelines import derived
from pipelines.manifest import Manifest, read_manifest, write_manifest
from pipelines.stores import DB_FILE, check_store, new_store_ref, open_store

if TYPE_CHECKING:
    from kg.neo4j_store import Neo4jSettings


@dataclass(frozen=True)
class ExportReport:
    target: str
    namespace: str
    documents: int  # copied (new or changed)
    unchanged: int
    removed: int
    chunks: int
    mentions: int
    relations: int
    seconds: float


def default_target(source: Path) -> Path:
    return source.with_name(source.name + "-neo4j")


def export_to_neo4j(
    source: Path,
    target: Path | None = None,
    *,
    neo4j: Neo4jSettings | None = None,
    batch_docs: int = 64,
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Copy the SQLite base at ``source`` into a Neo4j base at ``target``."""
    from kg.sqlite_records import document_order, read_records
    from kg.sqlite_store import SqliteStore

    t0 = time.perf_counter()
    source = Path(source).expanduser()
    src_manifest = read_manifest(source) if source.is_dir() else None
    if src_manifest is None:
        raise StoreError(f"{source}: no knowledge base here (no manifest.json)")
    if src_manifest.store.kind != "sqlite":
        raise ConfigError(
            f"{source}: this base already keeps its graph in {src_manifest.store.kind}"
        )
    target = Path(target).expanduser() if target else default_target(source)
    if target.resolve() == source.resolve():
        raise ConfigError(f"{target}: the target must be another directory than the source")
    manifest = _target_manifest(source, src_manifest, target, neo4j)

    src = SqliteStore(source / DB_FILE).open()
    dst = open_store(target, manifest.store, neo4j)  # connects before anything is written
    try:
        if read_manifest(target) is None:
            target.mkdir(parents=True, exist_ok=True)
            write_manifest(target, manifest)
        wanted = src.document_hashes()
        have = dst.document_hashes()
        removed = [d for d in have if d not in wanted]
        for doc_id in removed:
            dst.delete_document(doc_id)
        todo = [d for d in document_order(src) if have.get(d) != wanted[d]]
        bar = _bar(len(todo), progress)
        copied = chunks = mentions = relations = 0
        for i in range(0, len(todo), max(1, batch_docs)):
            records = read_records(src, todo[i : i + batch_docs])
            summary = dst.write(records)
            copied += len(records)
            chunks += summary.chunks
            mentions += summary.mentions
            relations += summary.relations
            if bar is not None:
                bar.update(len(records))
            if on_progress is not None:
                on_progress(copied, len(todo))
        if bar is not None:
            bar.close()
        derived.refresh_index(target, dst, manifest.embedder.dim)
    finally:
        dst.close()
        src.close()
    return ExportReport(
        target=str(target),
        namespace=manifest.store.namespace,
        documents=copied,
        unchanged=len(wanted) - len(todo),
        removed=len(removed),
        chunks=chunks,
        mentions=mentions,
        relations=relations,
        seconds=time.perf_counter() - t0,
    )


def _target_manifest(
    source: Path, src: Manifest, target: Path, neo4j: Neo4jSettings | None
) -> Manifest:
    """The target's manifest: the one it has (same models required), else a new one."""
    if target.exists() and not target.is_dir():
        raise StoreError(f"{target}: exists and is not a directory")
    existing = read_manifest(target) if target.exists() else None
    if existing is None:
        if target.exists() and any(target.iterdir()):
            raise StoreError(
                f"{target}: directory is not empty and holds no knowledge base; "
                "choose a new or empty directory with --target-kb"
            )
        return dataclasses.replace(
            src,
            store=new_store_ref(target, "neo4j", neo4j),
            created_at=Manifest(src.embedder, src.extractor).created_at,
        )
    check_store(target, existing.store, "neo4j")
    same = (existing.embedder.name, existing.extractor.name, existing.chunker) == (
        src.embedder.name,
        src.extractor.name,
        src.chunker,
    )
    if not same:
        raise ConfigError(
            f"{target}: built with other models or chunker settings than {source}; "
            "export into a new directory"
        )
    return existing


def _bar(total: int, enabled: bool | None) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="export", file=sys.stderr)
