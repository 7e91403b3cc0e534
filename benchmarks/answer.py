"""Answer benchmark: EM, F1, seconds per answer, citations that hold a gold answer.

    .venv/bin/python benchmarks/answer.py [--dataset hotpotqa|musique] [-n 20]
        [--precision auto|fp32|int8] [--mode hybrid] [--model PATH | --llm-url URL]

Builds (or reuses) the knowledge base ``.kb/bench-<dataset>`` from
``../shared/data/<dataset>/corpus.jsonl``, answers the first N questions one
at a time with ``pipelines.qa.answer`` (question analysis and hops included, as
``kgqa ask`` answers) and prints one JSON object:

- ``em``, ``f1``: SQuAD metrics x100, best over the gold answers, abstentions
  scoring 0;
- ``answered``: share of questions not abstained;
- ``cites_gold``: of the answered ones, the share citing at least one passage
  that contains a gold answer string; yes/no questions are left out (no
  passage contains the string "yes"); ``cites_gold_all`` keeps them;
- ``answer_s_p50`` (wall clock) and ``answer_cpu_s_p50`` (CPU seconds of this
  process, all threads): on a shared machine the wall clock also counts
  other processes, the CPU time does not;
- ``load_s``: loading the model (after its first conversion).

``--gold`` puts the gold passages plus distractors in the prompt instead of
retrieving (it measures the reader alone).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
DATA = ROOT.parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", default="hotpotqa",
                    help="a folder of ../shared/data, or 'demo' (demo/corpus and its questions)")
    ap.add_argument("--questions", type=Path,
                    help="another questions file for the dataset's corpus")
    ap.add_argument("-n", type=int, default=20, help="the first N questions")
    ap.add_argument("--kb", type=Path, help="knowledge base (default .kb/bench-DATASET)")
    ap.add_argument("--mode", default="hybrid", help="retrieval mode for kb.search")
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--hop-top-k", type=int, help="passages per intermediate hop (QAConfig)")
    ap.add_argument("--words", type=int, default=0, help="max words per passage (0: default)")
    ap.add_argument("--best-last", action="store_true",
                    help="list passages with the best next to the question")
    ap.add_argument("--precision", default="auto", help="auto | fp32 | int8 | bf16")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    ap.add_argument("--model", help="a Transformers directory or .gguf (default model)")
    ap.add_argument("--llm-url", help="an OpenAI-compatible server instead")
    ap.add_argument("--gold", action="store_true", help="gold passages + distractors, no retrieval")
    ap.add_argument("--verbose", action="store_true", help="one line per question on stderr")
    ap.add_argument("--out", type=Path, help="write one JSON line per question here")
    ap.add_argument("--cache", type=Path,
                    help="a JSONL file of generations kept across runs: a prompt answered "
                         "before is not generated again (for ablations; times then lie)")
    ap.add_argument("--without", action="append", default=[],
                    choices=("hops", "compare", "check_type", "distinct_documents",
                             "second_look", "min_alignment", "read_counts",
                             "check_modifiers", "reread_described", "avoid_unfit",
                             "prefer_described"),
                    help="turn one QAConfig step off (repeatable)")
    args = ap.parse_args()

    from llm.generator import open_generator
    from llm.grounding import PromptConfig
    from llm.metrics import contains_answer, exact_match, f1_score, normalize_answer
    from pipelines.kb import KnowledgeBase
    from pipelines.qa import QAConfig, answer
    from pipelines.question_shape import analyse

    if args.dataset == "demo":
        folder, corpus = ROOT / "demo", ROOT / "demo" / "corpus"
    else:
        folder = DATA / args.dataset
        corpus = folder / "corpus.jsonl"
    qfile = args.questions or folder / "questions.jsonl"
    questions = [json.loads(x) for x in qfile.open()][: args.n]
    kb_dir = args.kb or ROOT / ".kb" / f"bench-{args.dataset}"
    t = time.perf_counter()
    kb = KnowledgeBase.open(kb_dir)
    if kb.stats().documents == 0:
        kb.ingest([corpus])
    kb_s = time.perf_counter() - t

    gen = open_generator(args.model, url=args.llm_url, device=args.device,
                         precision=args.precision, threads=args.threads)
    t = time.perf_counter()
    if hasattr(gen, "load"):
        gen.load()
    load_s = time.perf_counter() - t
    if args.cache:
        gen = _Cached(gen, args.cache)
    prompt = PromptConfig(best_last=args.best_last)
    if args.words:
        prompt = replace(prompt, max_words_per_passage=args.words)
    off = {name: (0.0 if name == "min_alignment" else False) for name in args.without}
    if args.hop_top_k:
        off["hop_top_k"] = args.hop_top_k
    cfg = QAConfig(mode=args.mode, top_k=args.top_k, prompt=prompt, **off)
    source = _GoldSource(kb, folder) if args.gold else kb
    nlp, is_name = kb.extractor.load(), kb.searcher().corpus.is_name

    load_before = os.getloadavg()[0]
    rows = []
    for q in questions:
        c0 = time.process_time()
        ans = answer(q["question"], generator=gen, config=cfg,
                     retrieve=lambda text, k: source.search(text, mode=cfg.mode, top_k=k),
                     document_text=lambda doc_id: kb.document(doc_id).text,
                     analyse=lambda text: analyse(nlp, text, is_name=is_name,
                                                  label=kb.entity_label),
                     entity_label=kb.entity_label)
        cpu_s = time.process_time() - c0
        golds = q["answers"]
        pred = "" if ans.abstained else ans.text
        row = {
            "id": q["id"], "em": exact_match(pred, golds), "f1": f1_score(pred, golds),
            "answered": not ans.abstained,
            "yes_no": all(normalize_answer(g) in ("yes", "no") for g in golds),
            "cites_gold": any(contains_answer(_chunk_text(ans, c.chunk_id), golds)
                              for c in ans.citations),
            "gold_in_hits": any(contains_answer(h.chunk.text, golds) for h in ans.hits),
            "s": ans.timings["total_s"], "cpu_s": cpu_s,
            "generate_s": ans.timings["generate_s"], "retrieve_s": ans.timings["retrieve_s"],
            "hops": len(ans.steps), "generations": ans.timings.get("generations", 0),
            "type": q.get("type", ""),
        }
        rows.append(row)
        if args.out:
            with args.out.open("a", encoding="utf-8") as f:
                f.write(json.dumps({**row, "question": q["question"], "answer": ans.text,
                                    "golds": golds,
                                    "cited": [c.chunk_id for c in ans.citations]}) + "\n")
        if args.verbose:
            print(f"{row['f1']:.2f} {row['s']:.2f}s {ans.text!r} "
                  f"{[c.number for c in ans.citations]} gold={golds[:2]}", file=sys.stderr)
    answered = [r for r in rows if r["answered"]]
    answered_span = [r for r in answered if not r["yes_no"]]
    by_type = {}
    for t in sorted({r["type"] for r in rows if r["type"]}):
        part = [r for r in rows if r["type"] == t]
        by_type[t] = {"n": len(part), "em": 100 * statistics.mean(r["em"] for r in part),
                      "f1": 100 * statistics.mean(r["f1"] for r in part)}
    report = {
        "dataset": args.dataset, "without": args.without, "by_type": by_type, "n": len(rows),
        "mode": "gold" if args.gold else args.mode,
        "generator": getattr(gen, "name", "?"), "device": getattr(gen, "device", "server"),
        "precision": getattr(gen, "precision", "server"),
        "threads": args.threads or len(os.sched_getaffinity(0)),
        "em": 100 * statistics.mean(r["em"] for r in rows),
        "f1": 100 * statistics.mean(r["f1"] for r in rows),
        "answered": statistics.mean(r["answered"] for r in rows),
        "cites_gold": _mean(r["cites_gold"] for r in answered_span),
        "cites_gold_all": _mean(r["cites_gold"] for r in answered),
        "gold_in_hits": statistics.mean(r["gold_in_hits"] for r in rows),
        "answer_s_p50": statistics.median(r["s"] for r in rows),
        "answer_cpu_s_p50": statistics.median(r["cpu_s"] for r in rows),
        "generate_s_p50": statistics.median(r["generate_s"] for r in rows),
        "multi_hop_s_p50": _median(r["s"] for r in rows if r["hops"] > 1),
        "multi_hop_cpu_s_p50": _median(r["cpu_s"] for r in rows if r["hops"] > 1),
        "single_hop_s_p50": _median(r["s"] for r in rows if r["hops"] <= 1),
        "single_hop_cpu_s_p50": _median(r["cpu_s"] for r in rows if r["hops"] <= 1),
        "multi_hop_share": statistics.mean(r["hops"] > 1 for r in rows),
        "retrieve_s_p50": statistics.median(r["retrieve_s"] for r in rows),
        "load_s": load_s, "kb_open_s": kb_s,
        "loadavg_before_after": [load_before, os.getloadavg()[0]],
    }
    print(json.dumps(report, indent=2))


def _median(values) -> float:  # type: ignore[no-untyped-def]
    values = list(values)
    return statistics.median(values) if values else 0.0


def _mean(values) -> float:  # type: ignore[no-untyped-def]
    values = list(values)
    return statistics.mean(values) if values else 0.0


def _chunk_text(ans, chunk_id: str) -> str:  # type: ignore[no-untyped-def]
    return next((h.chunk.text for h in ans.hits if h.chunk.id == chunk_id), "")


class _Cached:
    """A generator that remembers its replies in a JSONL file (same prompt, same reply:
    decoding is greedy)."""

    def __init__(self, gen, path: Path) -> None:  # type: ignore[no-untyped-def]
        import hashlib

        self.gen, self.path, self.name = gen, path, gen.name
        self._key = lambda *parts: hashlib.sha1(json.dumps(parts).encode()).hexdigest()
        self.seen: dict[str, str] = {}
        if path.exists():
            for line in path.open(encoding="utf-8"):
                row = json.loads(line)
                self.seen[row["k"]] = row["v"]

    def _remember(self, key: str, make) -> str:  # type: ignore[no-untyped-def]
        if key not in self.seen:
            self.seen[key] = make()
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"k": key, "v": self.seen[key]}) + "\n")
        return self.seen[key]

    def generate(self, messages, *, max_new_tokens=48, stop=None):  # type: ignore[no-untyped-def]
        return self._remember(self._key(list(messages), max_new_tokens, list(stop or ())),
                              lambda: self.gen.generate(messages, max_new_tokens=max_new_tokens,
                                                        stop=stop))

    def stream(self, messages, **kw):  # type: ignore[no-untyped-def]
        yield self.generate(messages, **kw)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        if name != "generate_avoiding" or not hasattr(self.gen, name):
            raise AttributeError(name)

        def generate_avoiding(messages, avoid, *, max_new_tokens=48, stop=None):  # type: ignore[no-untyped-def]
            key = self._key(list(messages), max_new_tokens, list(stop or ()), list(avoid))
            return self._remember(key, lambda: self.gen.generate_avoiding(
                messages, avoid, max_new_tokens=max_new_tokens, stop=stop))
        return generate_avoiding


class _GoldSource:
    """Looks like a KnowledgeBase to ``answer``: the gold passages, then distractors."""

    def __init__(self, kb, folder: Path) -> None:  # type: ignore[no-untyped-def]
        self.kb = kb
        self.gold = {json.loads(x)["question"]: json.loads(x)["supporting_ids"]
                     for x in (folder / "questions.jsonl").open()}

    def search(self, question: str, *, mode: str = "vector", top_k: int = 5):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        from kgqa.types import Chunk, Hit

        hits = self.kb.search(question, mode="vector", top_k=top_k + 5)
        ids = self.gold[question]
        gold = [h for h in hits if h.chunk.doc_id in ids]
        missing = [i for i in ids if i not in {h.chunk.doc_id for h in gold}]
        for doc_id in missing:  # JSONL passages are one chunk each
            doc = self.kb.document(doc_id)
            chunk = Chunk(Chunk.make_id(doc_id, 0), doc_id, 0, doc.text, 0, len(doc.text))
            gold.append(Hit(key=-1, chunk=chunk, title=doc.title, score=0.0, rank=0))
        rest = [h for h in hits if h.chunk.doc_id not in ids][:3]
        return [replace(h, rank=r) for r, h in enumerate(gold + rest, start=1)]

    def document(self, doc_id: str):  # type: ignore[no-untyped-def]
        return self.kb.document(doc_id)


if __name__ == "__main__":
    main()
