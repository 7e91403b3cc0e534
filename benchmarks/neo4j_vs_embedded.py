"""Neo4j against the embedded store: ingest speed, graph-mode latency, Recall@5.

    .venv/bin/python benchmarks/neo4j_vs_embedded.py [--corpus ../shared/data/musique/corpus.jsonl]

In one process, with the default (real) models loaded once beforehand:
1. ingests the corpus into a fresh embedded base (SQLite) and into a fresh
   base on Neo4j, and reports passages/s of each (target: Neo4j at least half
   as fast) and the seconds each spent writing to its store;
2. evaluates both on the questions (Recall@2/5, all@8, latency p50/p95 per
   mode, ``pipelines.evaluate``) and checks that the two return the same
   ranked passages with the same scores (target: identical Recall@5).

The Neo4j server is the test helper's (``tests/neo4j_server.py``: Neo4j 5.26
Community from Maven Central, started on a free loopback port, stopped at the
end), unless ``--neo4j-uri`` names a running one (password from
``NEO4J_PASSWORD``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = ROOT.parent / "shared" / "data" / "musique"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DATA / "corpus.jsonl")
    ap.add_argument("--questions", type=Path, default=DATA / "questions.jsonl")
    ap.add_argument("--limit", type=int, default=0, help="only the first N questions")
    ap.add_argument("--neo4j-uri", help="a running server (else one is started)")
    ap.add_argument("--modes", default="graph,hybrid")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from kg.extract import SpacyExtractor
    from kg.neo4j_store import Neo4jSettings
    from pipelines.evaluate import evaluate_retrieval, format_table, load_questions
    from pipelines.ingest import IngestOptions, collect_documents
    from pipelines.kb import KnowledgeBase
    from retrieval.embed import make_embedder
    from tests.neo4j_server import Neo4jServer

    questions = load_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    modes = tuple(args.modes.split(","))
    n_passages = len(collect_documents([args.corpus])[0])

    embedder = make_embedder()
    extractor = SpacyExtractor()
    t = time.perf_counter()
    embedder.embed(["warm up"])
    extractor.load()
    load_s = time.perf_counter() - t

    tmp = Path(tempfile.mkdtemp(prefix="kgqa-neo4j-bench-"))
    server = None
    if args.neo4j_uri:
        settings = Neo4jSettings.resolve(uri=args.neo4j_uri)
    else:
        t = time.perf_counter()
        server = Neo4jServer(tmp / "neo4j-home").start()
        print(f"Neo4j {server.uri} up in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        settings = Neo4jSettings(uri=server.uri, user=server.user, password=server.password)

    results: dict[str, dict] = {}
    hits: dict[str, list] = {}
    try:
        for name, store in (("embedded", "sqlite"), ("neo4j", "neo4j")):
            kb = KnowledgeBase.open(
                tmp / name,
                embedder=embedder,
                extractor=extractor,
                graph_store=store,
                neo4j=settings if store == "neo4j" else None,
            )
            t = time.perf_counter()
            report = kb.ingest([args.corpus], options=IngestOptions(progress=False))
            ingest_s = time.perf_counter() - t
            times = kb.last_stage_times.as_dict() if kb.last_stage_times else {}
            print(f"{name}: ingested {report.documents_added} in {ingest_s:.1f}s", file=sys.stderr)
            evaluation = evaluate_retrieval(kb, questions, modes)
            hits[name] = [
                [(h.chunk.id, round(h.score, 6)) for h in kb.search(q.question, mode=m)]
                for m in modes
                for q in questions
            ]
            results[name] = {
                "passages": report.documents_added,
                "ingest_s": round(ingest_s, 1),
                "passages_per_s": round(report.documents_added / ingest_s, 1),
                "write_s": times.get("write"),
                "stats": kb.stats().as_dict(),
                "retrieval": evaluation,
            }
            if store == "neo4j":
                kb.store.drop()
            kb.close()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    emb, neo = results["embedded"], results["neo4j"]
    summary = {
        "corpus": str(args.corpus),
        "passages": n_passages,
        "questions": len(questions),
        "model_load_s": round(load_s, 1),
        "results": results,
        "neo4j_vs_embedded_ingest": round(neo["passages_per_s"] / emb["passages_per_s"], 2),
        "same_recall@5": all(
            emb["retrieval"][m]["recall@5"] == neo["retrieval"][m]["recall@5"] for m in modes
        ),
        "same_hits": hits["embedded"] == hits["neo4j"],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{n_passages} passages, {len(questions)} questions ({args.corpus})")
    for name, r in results.items():
        print(
            f"{name:9} ingest {r['passages_per_s']:6.1f} passages/s "
            f"({r['ingest_s']}s, store writes {r['write_s']}s); "
            f"graph p50 {r['retrieval'].get('graph', {}).get('latency_ms_p50')} ms"
        )
        print(format_table(r["retrieval"]))
    print(
        f"neo4j/embedded ingest speed: {summary['neo4j_vs_embedded_ingest']} (target >= 0.5); "
        f"same Recall@5: {summary['same_recall@5']}; same hits: {summary['same_hits']}"
    )


if __name__ == "__main__":
    main()
