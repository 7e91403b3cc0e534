"""Compare retrieval settings on a built base without re-embedding questions.

    .venv/bin/python benchmarks/tune_retrieval.py --kb .kb/bench-hotpotqa \
        --questions ../shared/data/hotpotqa/questions.jsonl [--set key=value ...]

Each ``--set`` runs one more configuration of ``RetrievalConfig`` (for example
``--set expand_from=0`` or ``--set damping=0.7``); the first row is the default.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--set", action="append", default=[], help="k=v[;k=v] per configuration")
    ap.add_argument("--modes", default="vector,lexical,graph,hybrid")
    args = ap.parse_args()

    from pipelines.evaluate import all_at, distinct_docs, load_questions, recall_at
    from pipelines.kb import KnowledgeBase
    from pipelines.search import question_surfaces
    from retrieval.hybrid import HybridRetriever, RetrievalConfig

    kb = KnowledgeBase.open(args.kb, create=False)
    qs = load_questions(args.questions)
    corpus = kb.searcher().corpus
    qv = kb.embedder.embed([q.question for q in qs])
    read = question_surfaces(kb.extractor)
    surfaces = [read(q.question) for q in qs]
    chunk_doc: dict[int, str] = {}  # chunk key -> document id, read as hits come

    configs: list[tuple[str, dict]] = [("default", {})]
    for spec in args.set:
        kw = {}
        for part in spec.split(";"):
            k, _, v = part.partition("=")
            kw[k] = v if k == "mode" else ast.literal_eval(v)
        configs.append((spec, kw))
    for name, kw in configs:
        mode_override = kw.pop("mode", None)
        cfg = dataclasses.replace(RetrievalConfig(), **kw)
        r = HybridRetriever(cfg)
        modes = args.modes.split(",") if name == "default" else [mode_override or "hybrid"]
        for mode in modes:
            r2, r5, a8, lat = [], [], [], []
            for q, v, s in zip(qs, qv, surfaces, strict=True):
                t = time.perf_counter()
                ranked = r.retrieve(corpus, q.question, v, s, mode=mode, top_k=24)
                lat.append(time.perf_counter() - t)
                missing = [x.key for x in ranked if x.key not in chunk_doc]
                chunk_doc.update({c.key: c.chunk.doc_id for c in kb.chunks(missing)})
                docs = distinct_docs([chunk_doc[x.key] for x in ranked])
                gold = set(q.supporting_ids)
                r2.append(recall_at(docs, gold, 2))
                r5.append(recall_at(docs, gold, 5))
                a8.append(all_at(docs, gold, 8))
            print(
                f"{name:40} {mode:8} R@2 {100 * np.mean(r2):5.1f}  R@5 {100 * np.mean(r5):5.1f}  "
                f"all@8 {100 * np.mean(a8):5.1f}  p50 {1000 * np.median(lat):5.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
