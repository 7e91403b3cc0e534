"""Retrieval evaluation on a corpus + questions pair (the layout of ../shared/data).

``questions.jsonl``: ``{"id", "question", "answers": [...], "supporting_ids": [...]}``
per line, where supporting ids are document ids of the corpus.

Metrics, per retrieval mode (percentages 0-100):

- ``recall@k``: the share of a question's supporting documents among the
  first ``k`` distinct documents retrieved, averaged over questions;
- ``all@8``: the share of questions with *every* supporting document in the
  first 8;
- ``latency_ms_p50`` / ``latency_ms_p95``: seconds per ``kb.search`` call
  (question embedding, linking, ranking), models already loaded.

>>> recall_at(["a", "x", "b"], {"a", "b"}, 2)
0.5
>>> all_at(["a", "x", "b"], {"a", "b"}, 3)
True
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kgqa.errors import ConfigError

if TYPE_CHECKING:
    from llm.generator import Generator
    from pipelines.kb import KnowledgeBase

RETRIEVE_DEPTH = 8  # distinct documents needed by all@8


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    supporting_ids: tuple[str, ...]


def load_questions(path: str | Path) -> list[Question]:
    """Read a questions JSONL file; a malformed line is an error naming the line."""
    path = Path(path)
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the questions ({e.strerror or e})") from e
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Question(
                    str(row["id"]),
                    str(row["question"]),
                    tuple(str(a) for a in row.get("answers", [])),
                    tuple(str(s) for s in row.get("supporting_ids", [])),
                )
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}:{n}: not a question record ({e})") from e
    if not out:
        raise ConfigError(f"{path}: no questions")
    return out


def recall_at(ranked_docs: Sequence[str], gold: set[str], k: int) -> float:
    return len(gold & set(ranked_docs[:k])) / len(gold) if gold else 0.0


def all_at(ranked_docs: Sequence[str], gold: set[str], k: int) -> bool:
    return bool(gold) and gold <= set(ranked_docs[:k])


def distinct_docs(doc_ids: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for d in doc_ids:
        seen.setdefault(d, None)
    return list(seen)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def evaluate_retrieval(
    kb: KnowledgeBase,
    questions: Sequence[Question],
    modes: Sequence[str],
    progress: Callable[[str], None] | None = None,
    depth: int = 3 * RETRIEVE_DEPTH,
) -> dict[str, dict[str, float]]:
    """Recall@2, Recall@5, all@8 and latency per mode (see the module docstring)."""
    from tqdm import tqdm

    results: dict[str, dict[str, float]] = {}
    kb.search(questions[0].question, mode="hybrid", top_k=1)  # warm-up: models and indexes
    for mode in modes:
        r2, r5, a8, lat = [], [], [], []
        bar = tqdm(questions, desc=f"eval {mode}", unit="q", disable=progress is None, leave=False)
        for q in bar:
            gold = set(q.supporting_ids)
            t = time.perf_counter()
            hits = kb.search(q.question, mode=mode, top_k=depth)
            lat.append((time.perf_counter() - t) * 1000)
            docs = distinct_docs([h.chunk.doc_id for h in hits])
            r2.append(recall_at(docs, gold, 2))
            r5.append(recall_at(docs, gold, 5))
            a8.append(all_at(docs, gold, 8))
        results[mode] = {
            "recall@2": round(100 * float(np.mean(r2)), 1),
            "recall@5": round(100 * float(np.mean(r5)), 1),
            "all@8": round(100 * float(np.mean(a8)), 1),
            "latency_ms_p50": round(percentile(lat, 50), 1),
            "latency_ms_p95": round(percentile(lat, 95), 1),
        }
        if progress is not None:
            progress(mode)
    return results


def evaluate_answers(
    kb: KnowledgeBase, questions: Sequence[Question], mode: str, generator: Generator
) -> dict[str, float]:
    """Answer metrics x100, averaged over the questions, and seconds per answer.

    - ``em``, ``f1``: SQuAD exact match and token F1, best over the gold answers
      (``llm/metrics.py``);
    - ``rouge_l``, ``bleu``: ROUGE-L F-measure and sentence BLEU against the
      gold answers (``llm/overlap_metrics.py``: rouge-score, sacrebleu);
    - ``cites_gold``: the share of answered questions whose citations include
      a passage containing a gold answer string.

    An abstention scores 0 on every answer metric.
    """
    from tqdm import tqdm

    from llm.metrics import contains_answer, exact_match, f1_score
    from llm.overlap_metrics import bleu, rouge_l
    from pipelines.qa import answer

    em, f1, rl, bl, secs, cited = [], [], [], [], [], []
    for q in tqdm(
        questions, desc=f"answer {mode}", unit="q", leave=False, disable=not sys.stderr.isatty()
    ):
        ans = answer(kb, q.question, generator=generator, mode=mode, top_k=5)
        pred = "" if ans.abstained else ans.text
        em.append(exact_match(pred, q.answers) if q.answers else 0.0)
        f1.append(f1_score(pred, q.answers) if q.answers else 0.0)
        rl.append(rouge_l(pred, q.answers))
        bl.append(bleu(pred, q.answers))
        secs.append(ans.timings.get("total_s", 0.0))
        if not ans.abstained and ans.citations:
            texts = {h.chunk.id: h.chunk.text for h in ans.hits}
            cited.append(
                any(
                    contains_answer(texts.get(c.chunk_id, c.quote), q.answers)
                    for c in ans.citations
                )
            )
    return {
        "em": round(100 * float(np.mean(em)), 1),
        "f1": round(100 * float(np.mean(f1)), 1),
        "rouge_l": round(100 * float(np.mean(rl)), 1),
        "bleu": round(100 * float(np.mean(bl)), 1),
        "answer_s_p50": round(percentile(secs, 50), 2),
        "answered": round(100 * len(cited) / len(questions), 1),
        "cites_gold": round(100 * float(np.mean(cited)), 1) if cited else 0.0,
    }


def format_table(results: dict[str, dict[str, float]]) -> str:
    cols = sorted(
        {c for r in results.values() for c in r},
        key=lambda c: (
            [
                "recall@2",
                "recall@5",
                "all@8",
                "latency_ms_p50",
                "latency_ms_p95",
                "em",
                "f1",
                "rouge_l",
                "bleu",
                "answer_s_p50",
                c,
            ]
        ).index(c),
    )
    lines = ["mode     " + "".join(f"{c:>16}" for c in cols)]
    for mode, r in results.items():
        lines.append(f"{mode:8} " + "".join(f"{r.get(c, float('nan')):>16}" for c in cols))
    return "\n".join(lines)
