"""Which FAISS index for the dense top-k of a large base: measured, not guessed.

    .venv/bin/python benchmarks/dense_kinds.py [--n 200000] [--dim 384] [--hnsw]

Vectors cluster as text embeddings do (a topic centre per sqrt(n) passages,
plus two entity directions, plus noise, unit length); questions sit at cosine
~0.7 from a passage. For each kind it prints training and adding time, size
on disk, opening time (memory-mapped where FAISS allows), search time per
question (one thread) and recall@10 / recall@50 of the exact top lists. SQ8
and PQ candidates (twice k) are re-scored exactly from the vectors, as
``retrieval/vector_index.py`` does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def vectors(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((int(np.sqrt(n)), dim)).astype(np.float32)
    entities = rng.standard_normal((20_000, dim)).astype(np.float32)
    x = np.empty((n, dim), np.float32)
    for s in range(0, n, 100_000):
        m = min(n, s + 100_000) - s
        v = centres[rng.integers(0, len(centres), m)]
        v += 0.7 * (entities[rng.integers(0, 20_000, m)] + entities[rng.integers(0, 20_000, m)])
        v += rng.standard_normal((m, dim)).astype(np.float32)
        x[s : s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    q = x[rng.integers(0, n, 200)] + rng.standard_normal((200, dim)).astype(np.float32) / np.sqrt(
        dim
    )
    return x, q / np.linalg.norm(q, axis=1, keepdims=True)


def main() -> None:
    import faiss

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--hnsw", action="store_true", help="also HNSW32 (slow to build)")
    args = ap.parse_args()
    x, q = vectors(args.n, args.dim)
    faiss.omp_set_num_threads(1)
    t = time.perf_counter()
    _, exact = faiss.knn(q, x, 50, metric=faiss.METRIC_INNER_PRODUCT)
    print(f"exact: {(time.perf_counter() - t) / len(q) * 1000:.2f} ms/question")
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    nlist = int(2 * np.sqrt(args.n))
    kinds = [("IVF-Flat", f"IVF{nlist},Flat"), ("IVF-SQ8", f"IVF{nlist},SQ8"),
             (f"IVF-PQ{args.dim // 8}", f"IVF{nlist},PQ{args.dim // 8}")]  # fmt: skip
    if args.hnsw:
        kinds.append(("HNSW32", "HNSW32"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, factory in kinds:
            index = faiss.index_factory(args.dim, factory, faiss.METRIC_INNER_PRODUCT)
            t = time.perf_counter()
            sample = np.random.default_rng(1).choice(args.n, min(args.n, 40 * nlist), replace=False)
            index.train(x[np.sort(sample)])
            train_s = time.perf_counter() - t
            t = time.perf_counter()
            index.add(x)
            add_s = time.perf_counter() - t
            path = Path(tmp) / "i.faiss"
            faiss.write_index(index, str(path))
            t = time.perf_counter()
            flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if "IVF" in name else 0
            opened = faiss.read_index(str(path), flags)
            open_ms = (time.perf_counter() - t) * 1000
            faiss.omp_set_num_threads(1)
            for probe in (nlist // 32, nlist // 16, nlist // 8) if "IVF" in name else (128,):
                if "IVF" in name:
                    opened.nprobe = max(1, probe)
                else:
                    opened.hnsw.efSearch = probe
                fetch = 50 if name == "IVF-Flat" else 100
                t = time.perf_counter()
                _, found = opened.search(q, fetch)
                ms = (time.perf_counter() - t) / len(q) * 1000
                top = []
                for i, f in enumerate(found):  # re-scored exactly, as kgqa does
                    f = f[f >= 0]
                    top.append(f[np.argsort(-(x[f] @ q[i]))][:50])
                pairs = list(zip(top, exact, strict=True))
                r10 = np.mean([len(set(a[:10]) & set(b[:10])) / 10 for a, b in pairs])
                r50 = np.mean([len(set(a) & set(b)) / 50 for a, b in pairs])
                print(f"{name:9} probe {probe:4}: train {train_s:6.1f} s  add {add_s:6.1f} s  "
                      f"{path.stat().st_size / 1e6:7.0f} MB  open {open_ms:6.1f} ms  "
                      f"{ms:6.2f} ms/question  recall@10 {r10:.3f}  recall@50 {r50:.3f}",
                      flush=True)  # fmt: skip
            faiss.omp_set_num_threads(os.cpu_count() or 1)


if __name__ == "__main__":
    main()
