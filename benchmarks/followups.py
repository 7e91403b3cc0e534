"""Follow-up questions: are they understood, and answered right?

    .venv/bin/python benchmarks/followups.py --kb DIR [--rewriter rules|model|none]
        [--model PATH | --llm-url URL] [--no-answers] [--out FILE]

Two measurements on the demo corpus (``DIR`` is a base built from
``demo/corpus``; it is built there when missing):

1. **Self-contained questions are left alone.** Each of the 72 demo questions
   (``demo/questions.jsonl`` and ``demo/questions_dev.jsonl``) is rewritten as
   the follow-up of the question before it (with its gold answer) and as the
   follow-up of each first question of ``demo/followups.jsonl``: 72 x 13
   rewrites, every one of which must return the question unchanged. No
   generator is needed for the rules.
2. **Follow-ups are answered right.** For each of the 12 pairs of
   ``demo/followups.jsonl`` a new conversation asks the first question, then
   the follow-up; an answer is right when it matches a gold answer (SQuAD
   exact match). The rewrite is compared with the hand-written one.

``--rewriter model`` rewrites with the generator instead (a prompt with four
worked examples, none from the demo corpus), as the comparison the README
reports; ``none`` answers follow-ups as asked. One JSON object is printed;
``--out`` also writes one JSON line per pair. Times are wall clock and CPU
seconds of this process (a loaded machine inflates the wall clock).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REWRITE_SYSTEM = (
    "You rewrite the user's last question so that it can be understood without the "
    "conversation: replace pronouns (he, she, it, they, her, its) and references such as "
    "'that company' with the names they stand for, and complete short questions such as "
    "'And the X?' from the previous question. If the question already stands on its own, "
    "repeat it unchanged. Reply with the rewritten question only."
)
# Worked examples on invented names (none from the demo corpus).
REWRITE_EXAMPLES = [
    ("Who founded Quillon Systems?", "Marta Vey", "Where was she born?",
     "Where was Marta Vey born?"),
    ("Which company makes the Osprey drone?", "Tarn Aero", "Where is that company based?",
     "Where is Tarn Aero based?"),
    ("How many staff does the Leeds office have?", "40", "And the York office?",
     "How many staff does the York office have?"),
    ("Who designed the Blue Harbour bridge?", "Ivo Marsh",
     "In which year did Lena Brook join Tarn Aero?",
     "In which year did Lena Brook join Tarn Aero?"),
]


def model_rewriter(generator):  # type: ignore[no-untyped-def]
    """A rewriter that asks ``generator`` (see REWRITE_SYSTEM)."""
    from pipelines.conversation import Rewrite, Turn

    def rewrite(question: str, history: Sequence[Turn]) -> Rewrite:
        if not history:
            return Rewrite(question)
        messages = [{"role": "system", "content": REWRITE_SYSTEM}]
        for q, a, follow, out in REWRITE_EXAMPLES:
            messages.append({"role": "user", "content":
                             f"Previous question: {q}\nIts answer: {a}\nQuestion: {follow}"})
            messages.append({"role": "assistant", "content": out})
        last = history[-1]
        messages.append({"role": "user", "content": f"Previous question: {last.asked}\n"
                         f"Its answer: {last.answer.text}\nQuestion: {question}"})
        reply = generator.generate(messages, max_new_tokens=48, stop=["\n"]).strip()
        if not reply or reply == question:
            return Rewrite(question)
        return Rewrite(reply, "other", ((question, reply),))

    return rewrite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kb", type=Path, default=ROOT / ".kb" / "demo", help="demo base")
    ap.add_argument("--rewriter", choices=("rules", "model", "none"), default="rules")
    ap.add_argument("--model", help="a Transformers directory or .gguf (default model)")
    ap.add_argument("--llm-url", help="an OpenAI-compatible server instead")
    ap.add_argument("--no-answers", action="store_true",
                    help="only the rewrites (no generator unless --rewriter model)")
    ap.add_argument("--out", type=Path, help="one JSON line per follow-up pair")
    args = ap.parse_args()

    from kgqa.types import Answer
    from llm.metrics import exact_match
    from pipelines.conversation import Conversation, Turn
    from pipelines.ingest import IngestOptions
    from pipelines.kb import KnowledgeBase

    if not (args.kb / "manifest.json").exists():
        with KnowledgeBase.open(args.kb) as kb:
            kb.ingest([ROOT / "demo" / "corpus"], options=IngestOptions(progress=False))
    kb = KnowledgeBase.open(args.kb, create=False)
    pairs = [json.loads(x) for x in (ROOT / "demo" / "followups.jsonl").open()]
    standalone = [json.loads(x) for name in ("questions.jsonl", "questions_dev.jsonl")
                  for x in (ROOT / "demo" / name).open()]
    generator = None
    if args.rewriter == "model" or not args.no_answers:
        from llm.generator import open_generator

        t = time.perf_counter()
        generator = open_generator(args.model, url=args.llm_url)
        getattr(generator, "load", lambda: None)()
        load_s = time.perf_counter() - t
        kb.generator = generator
    conv = kb.conversation()
    if args.rewriter == "model":
        conv = Conversation(kb.ask, model_rewriter(generator))
    elif args.rewriter == "none":
        conv = Conversation(kb.ask)
    assert conv.rewrite is not None or args.rewriter == "none"

    # 1. self-contained questions are never rewritten
    t, c = time.perf_counter(), time.process_time()
    histories = [Turn(p["first"]["question"], Answer(p["first"]["question"],
                                                     p["first"]["answers"][0])) for p in pairs]
    changed, checked = [], 0
    for i, q in enumerate(standalone):
        prev = standalone[i - 1]
        for turn in [Turn(prev["question"], Answer(prev["question"], prev["answers"][0])),
                     *histories]:
            if conv.rewrite is None:
                break
            rw = conv.rewrite(q["question"], [turn])
            checked += 1
            if rw.question != q["question"]:
                changed.append({"question": q["question"], "after": turn.question,
                                "rewritten": rw.question})
            if args.rewriter == "model" and turn is not histories[0]:
                break  # the model is slow: one history per question
    rewrite_s = (time.perf_counter() - t) / max(checked, 1)
    rewrite_cpu = (time.process_time() - c) / max(checked, 1)

    # 2. the follow-up pairs
    rows = []
    for p in pairs:
        conv.reset()
        first_q, follow_q = p["first"]["question"], p["followup"]["question"]
        row: dict[str, object] = {"id": p["id"], "kind": p["kind"]}
        if args.no_answers:
            turn = Turn(first_q, Answer(first_q, p["first"]["answers"][0]))
            rw = conv.rewrite(follow_q, [turn]) if conv.rewrite else None
            row["rewritten"] = rw.question if rw else follow_q
        else:
            first = conv.ask(first_q)
            t, c = time.perf_counter(), time.process_time()
            follow = conv.ask(follow_q)
            row.update(
                first=first.text, first_right=bool(exact_match(first.text, p["first"]["answers"])),
                answer=follow.text,
                right=bool(exact_match(follow.text, p["followup"]["answers"])),
                rewritten=follow.understood_as or follow_q,
                seconds=round(time.perf_counter() - t, 2),
                cpu_seconds=round(time.process_time() - c, 2))
        row["rewrite_as_written"] = row["rewritten"] == p["followup"]["rewritten"]
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
    summary: dict[str, object] = {
        "rewriter": args.rewriter,
        "self_contained_checked": checked,
        "self_contained_changed": len(changed),
        "changed": changed[:20],
        "rewrite_ms_mean": round(1000 * rewrite_s, 1),
        "rewrite_cpu_ms_mean": round(1000 * rewrite_cpu, 1),
        "pairs": len(rows),
        "rewrites_as_written": sum(bool(r["rewrite_as_written"]) for r in rows),
    }
    if not args.no_answers:
        summary.update(
            first_right=sum(bool(r["first_right"]) for r in rows),
            followups_right=sum(bool(r["right"]) for r in rows),
            both_right=sum(bool(r["first_right"] and r["right"]) for r in rows),
            followup_s_median=sorted(float(r["seconds"]) for r in rows)[len(rows) // 2],
            followup_cpu_s_median=sorted(float(r["cpu_seconds"]) for r in rows)[len(rows) // 2],
            load_s=round(load_s, 1),
        )
    summary["load_average"] = os.getloadavg()
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
