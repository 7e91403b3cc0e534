"""Scale benchmark: a synthetic base of N chunks, built, opened, searched and grown.

    .venv/bin/python benchmarks/scale.py --chunks 100000 [--json] [--graph-store neo4j]

Builds a base of ``--chunks`` chunks straight through the store
(``benchmarks/synthetic.py``: Zipf-distributed entities, fixed random
``--dim`` vectors, no model), then its search index, and reports:

- ``build_s`` (``store_s`` writing the store + ``index_s`` its search index),
  ``disk_mb`` (the base directory, and the Neo4j store when on Neo4j),
  ``build_rss_mb`` (peak memory of the building process);
- in a fresh process: ``open_s`` (open the base and its index),
  ``first_search_s`` (the first hybrid search after opening), per mode
  ``<mode>_p50_ms`` / ``<mode>_p95_ms`` over ``--queries`` questions (the
  search as ``kgqa search`` runs it, hits' text included, but not the
  question's encoding: its vector and entity surfaces are given), and
  ``peak_rss_mb`` of that process;
- ``add_1000_s``: 1,000 more documents written and indexed, against
  ``add_1000_empty_s``, the same 1,000 into an empty base; with ``--adds N``,
  the median of N consecutive adds (``add_1000_mean_s``, ``add_1000_max_s``:
  their mean and slowest, which take in the index's periodic merges) against
  the median of N first adds into empty bases.

The base is built under ``--workdir`` (default: a temporary folder, removed
at the end unless ``--keep``). On Neo4j it uses the server of ``NEO4J_URI``
and ``NEO4J_PASSWORD`` when set, else starts one under the work folder
(``--neo4j-heap``, ``--neo4j-pagecache``; full JIT); ``disk_mb`` then adds the
server's data folder, and ``peak_rss_mb`` is the client's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODES = ("vector", "lexical", "graph", "hybrid")
BATCH_DOCS = 500


def rss_mb() -> float:
    """Peak resident memory of this process (``VmHWM``: unlike ``ru_maxrss``, not
    inherited from the parent across fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def open_kb(path: Path, args: argparse.Namespace, create: bool):
    from pipelines.kb import KnowledgeBase

    kw = {"graph_store": args.graph_store} if create and args.graph_store != "sqlite" else {}
    if args.graph_store == "neo4j":
        from kg.neo4j_store import Neo4jSettings

        kw["neo4j"] = Neo4jSettings.resolve()
    return KnowledgeBase.open(path, embedder=f"hash:{args.dim}", create=create, **kw)


def start_neo4j(args: argparse.Namespace, work: Path):
    """The server of NEO4J_URI, or a new one under ``work`` (then returned, to stop)."""
    if os.environ.get("NEO4J_URI") and os.environ.get("NEO4J_PASSWORD"):
        return None
    from tests.neo4j_server import Neo4jServer

    server = Neo4jServer(work / "neo4j-home", quick_start=False, heap=args.neo4j_heap,
                         pagecache=args.neo4j_pagecache).start()  # fmt: skip
    os.environ.update(NEO4J_URI=server.uri, NEO4J_USER=server.user, NEO4J_PASSWORD=server.password)
    return server


def write(kb, batches) -> float:
    t = time.perf_counter()
    for batch in batches:
        kb.store.write(batch)
    return time.perf_counter() - t


def build(args: argparse.Namespace, work: Path) -> dict[str, float]:
    from benchmarks.synthetic import Vocabulary, synthetic_documents

    out: dict[str, float] = {}
    if args.reuse_store and (work / "kb" / "manifest.json").exists():
        shutil.rmtree(work / "kb" / "index", ignore_errors=True)  # the index is rebuilt
        kb = open_kb(work / "kb", args, create=False)
    else:
        vocab = Vocabulary.make(args.chunks, args.dim)
        kb = open_kb(work / "kb", args, create=True)
        out["store_s"] = write(kb, synthetic_documents(args.chunks, args.dim,
                                                       batch_docs=args.batch_docs,
                                                       vocabulary=vocab))  # fmt: skip
    t = time.perf_counter()
    kb.refresh()
    out["index_s"] = time.perf_counter() - t
    kb.close()
    if "store_s" in out:
        out["build_s"] = out["store_s"] + out["index_s"]
    return out


def extra_documents(args: argparse.Namespace, first_doc: int = 10**8):
    """1,000 documents the base does not have (ids ``syn-<first_doc>`` on)."""
    from benchmarks.synthetic import Vocabulary, synthetic_documents

    vocab = Vocabulary.make(args.chunks, args.dim)
    docs = []
    for batch in synthetic_documents(10**9, args.dim, batch_docs=1000, seed=99,
                                     first_doc=first_doc, vocabulary=vocab):  # fmt: skip
        docs = batch
        break
    return docs


def add_1000(args: argparse.Namespace, path: Path, create: bool, adds: int = 1) -> list[float]:
    """Seconds for each of ``adds`` consecutive writes of 1,000 new documents (store and
    index), the base kept open between them as a long-running process keeps it."""
    kb = open_kb(path, args, create=create)
    kb.searcher()  # the index is up to date before the clock starts
    seconds = []
    for _ in range(adds):
        docs = extra_documents(args, first_doc=10**8 + kb.store.count_chunks())  # new ids
        t = time.perf_counter()
        for i in range(0, len(docs), BATCH_DOCS):
            kb.store.write(docs[i : i + BATCH_DOCS])
        kb.refresh()
        seconds.append(time.perf_counter() - t)
    kb.close()
    return seconds


def search_phase(args: argparse.Namespace, path: Path) -> dict[str, float]:
    """Open, first search, latencies (run in a fresh process by ``main``)."""
    import numpy as np

    from benchmarks.synthetic import Vocabulary, questions, synthetic_documents

    vocab = Vocabulary.make(args.chunks, args.dim)
    sample = []  # questions about the first documents of the corpus
    for batch in synthetic_documents(args.chunks, args.dim, batch_docs=200, vocabulary=vocab):
        sample = batch
        break
    qs = questions(vocab, sample, args.queries + 1)
    rss_before = rss_mb()
    t0 = time.perf_counter()
    kb = open_kb(path, args, create=False)
    searcher = kb.searcher()
    t1 = time.perf_counter()
    question, vec, surfaces = qs[0]
    searcher.search_encoded(question, vec, surfaces, mode="hybrid", top_k=5)
    t2 = time.perf_counter()
    out: dict[str, float] = {"open_s": t1 - t0, "first_search_s": t2 - t1}
    for mode in MODES:
        lat = []
        for question, vec, surfaces in qs[1:]:
            t = time.perf_counter()
            searcher.search_encoded(question, vec, surfaces, mode=mode, top_k=5)
            lat.append((time.perf_counter() - t) * 1000)
        out[f"{mode}_p50_ms"] = float(np.percentile(lat, 50))
        out[f"{mode}_p95_ms"] = float(np.percentile(lat, 95))
    out["peak_rss_mb"] = rss_mb()
    out["rss_before_open_mb"] = rss_before
    kb.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--chunks", type=int, required=True)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--graph-store", choices=("sqlite", "neo4j"), default="sqlite")
    ap.add_argument(
        "--batch-docs", type=int, default=BATCH_DOCS,
        help=f"documents per store write while building (default {BATCH_DOCS})",
    )  # fmt: skip
    ap.add_argument("--neo4j-heap", default="2g")
    ap.add_argument("--neo4j-pagecache", default="2g")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the base after the run")
    ap.add_argument(
        "--reuse-store", action="store_true",
        help="with --workdir: keep a store built by an earlier run, rebuild only its index",
    )  # fmt: skip
    ap.add_argument(
        "--adds", type=int, default=1,
        help="consecutive adds of 1,000 documents to time (median, mean, max; the empty "
             "base's figure is the median of as many first adds into empty bases)",
    )  # fmt: skip
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--search-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.search_only:
        print(json.dumps(search_phase(args, args.search_only)))
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kgqa-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, float | int | str] = {"chunks": args.chunks, "dim": args.dim,
                                            "graph_store": args.graph_store}  # fmt: skip
    server = start_neo4j(args, work) if args.graph_store == "neo4j" else None
    try:
        result.update(build(args, work))
        result["disk_mb"] = dir_mb(work / "kb")
        if server is not None:
            result["disk_mb"] += dir_mb(work / "neo4j-home" / "data")
        result["build_rss_mb"] = rss_mb()
        cmd = [sys.executable, __file__, "--chunks", str(args.chunks), "--dim", str(args.dim),
               "--queries", str(args.queries), "--graph-store", args.graph_store,
               "--search-only", str(work / "kb")]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"search phase failed:\n{proc.stderr}")
        result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        grown = add_1000(args, work / "kb", create=False, adds=args.adds)
        empty = [add_1000(args, work / f"empty-{i}", create=True)[0] for i in range(args.adds)]
        result["add_1000_s"] = statistics.median(grown)
        result["add_1000_empty_s"] = statistics.median(empty)
        if args.adds > 1:
            result["add_1000_mean_s"] = statistics.mean(grown)
            result["add_1000_max_s"] = max(grown)
    finally:
        try:
            if args.graph_store == "neo4j" and not args.keep:
                for kb in (work / "kb", *sorted(work.glob("empty-*"))):
                    if (kb / "manifest.json").exists():
                        with open_kb(kb, args, create=False) as k:
                            k.store.drop()
        finally:  # the server stops even when a drop fails
            if server is not None:
                server.stop()
            if not args.keep and not args.workdir:
                shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                          for k, v in result.items()}))  # fmt: skip
    else:
        for k, v in result.items():
            print(f"{k:>22}  {v:.3f}" if isinstance(v, float) else f"{k:>22}  {v}")


if __name__ == "__main__":
    main()
