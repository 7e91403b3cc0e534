"""Training examples for the three ``kgqa finetune`` tasks, built from a knowledge base.

- ``qa``: each question of a questions JSONL (``answers`` required) becomes
  the exact prompt ``kgqa ask`` would send (:func:`llm.grounding.build_messages`
  with the default :class:`pipelines.qa.QAConfig` prompt settings), the
  reply to learn being a gold answer;
- ``synthetic``: the same, on questions made from the graph's relations
  (``pipelines/synthetic.py``);
- ``corpus``: the base's documents as plain text (title, blank line, text).

Passages: ``retrieved`` shows what ``kb.search`` returns (mode, top k);
``gold`` shows the question's supporting documents among retrieved
distractors, in a seeded random order. A question none of whose shown
passages contains a gold answer is left out (the model would learn to guess),
and counted; the reply is the first gold answer the passages contain.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kgqa.types import Chunk, Hit
from llm.finetune_data import ChatExample
from llm.grounding import build_messages
from llm.metrics import contains_answer
from pipelines.evaluate import Question
from pipelines.qa import QAConfig

if TYPE_CHECKING:
    from pipelines.kb import KnowledgeBase


@dataclass(frozen=True)
class QAExamples:
    """Chat examples, the ids of the questions they came from, and what was left out."""

    examples: tuple[ChatExample, ...]
    used_ids: frozenset[str]
    tried: int  # questions looked at (all, unless ``limit`` examples were reached first)
    no_answer_in_passages: int
    no_answers: int


def qa_examples(kb: KnowledgeBase, questions: Sequence[Question], *, passages: str = "retrieved",
                mode: str = "hybrid", top_k: int = 5, seed: int = 0,
                limit: int = 0) -> QAExamples:
    """One chat example per question whose shown passages hold a gold answer, in order,
    until ``limit`` examples (0: all questions)."""
    prompt = QAConfig().prompt
    rng = random.Random(seed)
    out: list[ChatExample] = []
    used: set[str] = set()
    missing = no_answers = tried = 0
    for q in questions:
        if limit and len(out) >= limit:
            break
        tried += 1
        if not q.answers:
            no_answers += 1
            continue
        hits = kb.search(q.question, mode=mode, top_k=top_k)
        if passages == "gold":
            hits = with_gold(kb, hits, q.supporting_ids, top_k, rng)
        messages = build_messages(q.question, hits, prompt)
        shown = messages[-1]["content"]
        reply = next((a for a in q.answers if contains_answer(shown, [a])), None)
        if reply is None:
            missing += 1
            continue
        out.append(ChatExample(tuple(messages), reply))
        used.add(q.id)
    return QAExamples(tuple(out), frozenset(used), tried, missing, no_answers)


def with_gold(kb: KnowledgeBase, hits: Sequence[Hit], gold_ids: Sequence[str], top_k: int,
              rng: random.Random) -> list[Hit]:
    """The supporting documents (their retrieved chunk, else the whole document) and
    retrieved distractors, ``top_k`` in all, shuffled; ranks renumbered."""
    gold = [h for h in hits if h.chunk.doc_id in gold_ids]
    have = {h.chunk.doc_id for h in gold}
    for doc_id in gold_ids:
        if doc_id not in have:
            doc = kb.document(doc_id)
            chunk = Chunk(Chunk.make_id(doc_id, 0), doc_id, 0, doc.text, 0, len(doc.text))
            gold.append(Hit(key=-1, chunk=chunk, title=doc.title, score=0.0, rank=0))
            have.add(doc_id)
    rest = [h for h in hits if h.chunk.doc_id not in have]
    shown = gold[:top_k] + rest[:max(0, top_k - len(gold))]
    rng.shuffle(shown)
    return [replace(h, rank=r) for r, h in enumerate(shown, start=1)]


def corpus_texts(kb: KnowledgeBase, limit: int = 0) -> list[str]:
    """Each document as ``title\\n\\ntext`` (no title when the text starts with it)."""
    texts = []
    for info in kb.documents():
        doc = kb.document(info.id)
        title = doc.title.strip()
        body = doc.text.strip()
        texts.append(body if not title or body.startswith(title) else f"{title}\n\n{body}")
        if limit and len(texts) >= limit:
            break
    return texts
