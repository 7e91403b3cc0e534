#!/usr/bin/env python3
"""Check demo/questions.jsonl against demo/corpus (stdlib only).

Verifies that:
- every line is a JSON object with the expected keys and a known type,
- question ids are unique,
- every supporting id names a file in demo/corpus,
- the first answer appears (case-insensitive) in the concatenated text
  of the question's supporting files.

Prints "ok N questions" on success; otherwise prints the problems and exits 1.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
QUESTIONS = HERE / "questions.jsonl"
KEYS = ["id", "question", "answers", "supporting_ids", "type"]
TYPES = {"bridge", "comparison", "single"}


def main() -> int:
    problems = []
    seen = set()
    count = 0
    for lineno, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON ({exc})")
            continue
        count += 1
        if not isinstance(q, dict) or list(q.keys()) != KEYS:
            problems.append(f"line {lineno}: keys must be exactly {KEYS}")
            continue
        qid = q["id"]
        if qid in seen:
            problems.append(f"{qid}: duplicate id")
        seen.add(qid)
        if q["type"] not in TYPES:
            problems.append(f"{qid}: unknown type {q['type']!r}")
        answers, sids = q["answers"], q["supporting_ids"]
        if not answers or not all(isinstance(a, str) and a for a in answers):
            problems.append(f"{qid}: answers must be a non-empty list of strings")
            continue
        if not sids:
            problems.append(f"{qid}: no supporting_ids")
            continue
        texts = []
        for sid in sids:
            path = CORPUS / sid
            if not path.is_file():
                problems.append(f"{qid}: supporting id {sid!r} not found in {CORPUS}")
            else:
                texts.append(path.read_text(encoding="utf-8"))
        if len(texts) == len(sids):
            joined = "\n".join(texts).casefold()
            if answers[0].casefold() not in joined:
                problems.append(f"{qid}: answer {answers[0]!r} not found in {sids}")
    if problems:
        print("\n".join(problems))
        return 1
    print(f"ok {count} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
