"""Ingest benchmark: full pipeline vs embedding alone, per stage, peak memory.

    .venv/bin/python benchmarks/ingest.py [--corpus ../shared/data/musique/corpus.jsonl]

Runs, in one process:
1. embedding alone: the same texts the pipeline embeds (title + passage),
   same model and batch size, after the model is loaded;
2. the full pipeline into a fresh knowledge base (load, chunk, extract,
   embed, resolve, write, derived indexes), models loaded beforehand;
and prints passages/s of both, their ratio (target: full <= 1.5x embedding),
seconds per stage, peak resident memory and the graph's size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "musique" / "corpus.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=0, help="only the first N passages")
    ap.add_argument("--json", action="store_true")
    ap.add_argument(
        "--extract",
        choices=("auto", "thread", "process"),
        default="auto",
        help="where extraction runs beside embedding (default: the pipeline's choice)",
    )
    ap.add_argument(
        "--cores", type=int, default=0,
        help="run on the first N cores only (default: all this process may use)",
    )  # fmt: skip
    args = ap.parse_args()
    if args.cores:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
        import torch

        torch.set_num_threads(args.cores)

    from kg.extract import SpacyExtractor
    from pipelines.chunking import ChunkerConfig, chunk_document
    from pipelines.ingest import IngestOptions, collect_documents, embed_text
    from pipelines.kb import KnowledgeBase
    from retrieval.embed import make_embedder

    docs, problems = collect_documents([args.corpus])
    if args.limit:
        docs = docs[: args.limit]
    n = len(docs)
    embedder = make_embedder()
    window = embedder.token_window()  # type: ignore[attr-defined]
    chunks = [
        (d.title, c) for d, rec in docs for c in chunk_document(d, ChunkerConfig(), rec, window)
    ]
    texts = [embed_text(t, c) for t, c in chunks]

    extractor = SpacyExtractor()
    t = time.perf_counter()
    embedder.embed(["warm up"])  # load the model
    extractor.extract(chunks[0:1] and [chunks[0][1]])
    load_s = time.perf_counter() - t

    where = {"auto": None, "thread": False, "process": True}[args.extract]
    options = IngestOptions(progress=False, extract_in_process=where)
    t = time.perf_counter()
    embedder.embed(texts, batch_size=options.embed_batch_size)
    embed_s = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.open(Path(tmp) / "kb", embedder=embedder, extractor=extractor)
        t = time.perf_counter()
        if args.limit:
            report = kb.ingest([d for d, _ in docs], options=options)
        else:
            report = kb.ingest([args.corpus], options=options)
        full_s = time.perf_counter() - t
        stats = kb.stats()
        stages = kb.last_stage_times.as_dict() if kb.last_stage_times else {}
        kb.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from pipelines.ingest import available_cores

    result = {
        "corpus": str(args.corpus),
        "cores": available_cores(),
        "passages": n,
        "chunks": len(texts),
        "model_load_s": round(load_s, 2),
        "embed_only_s": round(embed_s, 2),
        "embed_only_passages_per_s": round(n / embed_s, 1),
        "full_s": round(full_s, 2),
        "full_passages_per_s": round(n / full_s, 1),
        "full_over_embed": round(full_s / embed_s, 2),
        "stages_s": stages,
        "peak_rss_mb": round(peak_mb),
        "graph": {
            "entities": stats.entities,
            "relations": stats.relations,
            "mentions": stats.mentions,
            "aliases": stats.aliases,
        },
        "problems": len(problems) + len(report.problems),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"corpus            {result['corpus']} ({n} passages, {len(texts)} chunks)")
    workers = stages.get("extract_workers")
    print(f"cores             {result['cores']}, extraction workers {workers}")
    print(
        f"embedding alone   {embed_s:7.1f} s  {result['embed_only_passages_per_s']:7.1f} passages/s"
    )
    print(f"full pipeline     {full_s:7.1f} s  {result['full_passages_per_s']:7.1f} passages/s")
    print(f"full / embedding  {result['full_over_embed']:7.2f}x  (target <= 1.5x)")
    print("stages (s)        " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    print(f"peak memory       {result['peak_rss_mb']} MB RSS")
    g = result["graph"]
    print(
        f"graph             {g['entities']} entities, {g['relations']} relations, "
        f"{g['mentions']} mentions, {g['aliases']} aliases"
    )


if __name__ == "__main__":
    main()
