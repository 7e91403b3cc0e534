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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kgqa.errors import ConfigError

if TYPE_CHECKING:
    from llm.generator import Generator
    from pipelines.kb import KnowledgeBase
    from pipelines.qa import QAConfig

RETRIEVE_DEPTH = 8  # distinct documents needed by all@8


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    supporting_ids: tuple[str, ...]
    type: str = ""  # e.g. "bridge", "comparison", "single" (reported per type)


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
                    str(row.get("type") or ""),
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
    kb: KnowledgeBase,
    questions: Sequence[Question],
    mode: str,
    generator: Generator,
    config: QAConfig | None = None,
    on_answer: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]:
    """Answer every question with ``kb.ask`` and score the answers.

    ``on_answer`` receives each question's row: its ``id``, ``question``, ``answer``
    (``""`` for an abstention), ``golds``, ``steps`` (``[sub-question, answer]`` pairs),
    ``cited`` (document ids) and the scores below (0 or 1 each).

    Keys (percentages 0-100, seconds): ``em`` and ``f1`` (SQuAD normalisation,
    best over the gold answers, ``llm/metrics.py``), ``rouge_l`` and ``bleu``
    (ROUGE-L F-measure and sentence BLEU against the gold answers,
    ``llm/overlap_metrics.py``: rouge-score, sacrebleu), an abstention scoring 0
    on each; ``answered``;
    ``cites_gold``: of the answered questions whose gold answer is not yes/no,
    the share citing a passage that contains a gold answer; ``answer_s_p50`` and
    ``answer_cpu_s_p50`` (wall clock, and CPU seconds of this process: on a
    shared machine the wall clock also counts other processes);
    ``multi_hop_s_p50``/``single_hop_s_p50`` (and ``_cpu_``) split by whether
    the answer took more than one hop; ``by_type``: ``em``, ``f1`` and ``n``
    per question ``type`` when the questions carry one. ``config`` overrides the
    answering settings (``mode`` is set from ``mode``).
    """
    from dataclasses import replace

    from tqdm import tqdm

    from llm.metrics import contains_answer, exact_match, f1_score, normalize_answer
    from llm.overlap_metrics import bleu, rouge_l
    from pipelines.qa import QAConfig

    cfg = replace(config or QAConfig(), mode=mode)
    rows: list[dict[str, Any]] = []
    for q in tqdm(
        questions, desc=f"answer {mode}", unit="q", leave=False, disable=not sys.stderr.isatty()
    ):
        ans = kb.ask(q.question, generator=generator, config=cfg)
        pred = "" if ans.abstained else ans.text
        yes_no = bool(q.answers) and all(normalize_answer(a) in ("yes", "no") for a in q.answers)
        texts = {h.chunk.id: h.chunk.text for h in ans.hits}
        rows.append({
            "type": q.type,
            "em": exact_match(pred, q.answers) if q.answers else 0.0,
            "f1": f1_score(pred, q.answers) if q.answers else 0.0,
            "rouge_l": rouge_l(pred, q.answers),
            "bleu": bleu(pred, q.answers),
            "answered": not ans.abstained,
            "yes_no": yes_no,
            "cites_gold": any(contains_answer(texts.get(c.chunk_id, c.quote), q.answers)
                              for c in ans.citations),
            "s": ans.timings.get("total_s", 0.0),
            "cpu_s": ans.timings.get("cpu_s", 0.0),
            "multi_hop": len(ans.steps) > 1,
        })
        if on_answer is not None:
            on_answer({"id": q.id, "question": q.question, "answer": pred, "golds": q.answers,
                       "steps": [[s.question, s.answer] for s in ans.steps],
                       "cited": list(dict.fromkeys(c.doc_id for c in ans.citations)),
                       **rows[-1]})
    cited = [r["cites_gold"] for r in rows if r["answered"] and not r["yes_no"]]
    out: dict[str, Any] = {
        "em": _pct(r["em"] for r in rows),
        "f1": _pct(r["f1"] for r in rows),
        "rouge_l": _pct(r["rouge_l"] for r in rows),
        "bleu": _pct(r["bleu"] for r in rows),
        "answered": _pct(r["answered"] for r in rows),
        "cites_gold": _pct(cited),
        "answer_s_p50": round(percentile([r["s"] for r in rows], 50), 2),
        "answer_cpu_s_p50": round(percentile([r["cpu_s"] for r in rows], 50), 2),
    }
    for name, multi in (("multi_hop", True), ("single_hop", False)):
        part = [r for r in rows if r["multi_hop"] == multi]
        out[f"{name}_n"] = len(part)
        out[f"{name}_s_p50"] = round(percentile([r["s"] for r in part], 50), 2)
        out[f"{name}_cpu_s_p50"] = round(percentile([r["cpu_s"] for r in part], 50), 2)
    types = sorted({r["type"] for r in rows if r["type"]})
    if types:
        out["by_type"] = {
            t: {"n": len(part), "em": _pct(r["em"] for r in part),
                "f1": _pct(r["f1"] for r in part)}
            for t in types
            for part in [[r for r in rows if r["type"] == t]]
        }
    return out


def _pct(values: Iterable[float | bool]) -> float:
    vals = [float(v) for v in values]
    return round(100 * float(np.mean(vals)), 1) if vals else 0.0


_FIRST = ["recall@2", "recall@5", "all@8", "latency_ms_p50", "latency_ms_p95", "em", "f1",
          "rouge_l", "bleu", "answered", "cites_gold", "answer_s_p50", "answer_cpu_s_p50"]


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """One row per mode, one column per figure; answers per question type below it."""
    flat = sorted({c for r in results.values() for c, v in r.items() if not isinstance(v, dict)},
                  key=lambda c: (_FIRST.index(c) if c in _FIRST else len(_FIRST), c))
    width = max([16, *(len(c) + 2 for c in flat)])
    lines = ["mode     " + "".join(f"{c:>{width}}" for c in flat)]
    for mode, r in results.items():
        lines.append(f"{mode:8} " + "".join(f"{r.get(c, float('nan')):>{width}}" for c in flat))
    for mode, r in results.items():
        for t, v in (r.get("by_type") or {}).items():
            lines.append(f"{mode} answers, {t} ({v['n']} questions): em {v['em']}, f1 {v['f1']}")
    return "\n".join(lines)
