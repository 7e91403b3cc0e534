"""Shared by the pipelines.qa tests: a three-document fake base and ``answer`` wired to it."""

from __future__ import annotations

from kgqa.types import Document
from pipelines.ingest import IngestOptions
from pipelines.qa import QAConfig, answer
from pipelines.question_shape import Bridge, QuestionShape

ACME_DOC = (
    "# Acme\n\nAcme Robotics builds warehouse robots. It was founded in 1998 by Maria Okafor "
    "in Lisbon. Its first product was the Skyline Station."
)
MARIA_DOC = "Maria Okafor is an engineer. She studied at the University of Porto."
BOLT_DOC = "Bolt Logistics is a courier firm. It was founded in 2004 by Ivo Santos in Porto."


def add_docs(kb, *docs):
    """``kb`` with ``docs`` ingested, each ``(doc_id, title, text)``, no progress bar."""
    kb.ingest([Document(*d) for d in docs], options=IngestOptions(progress=False))
    return kb


def with_acme(fake_kb):
    """``fake_kb`` holding the Acme, Maria Okafor and Bolt Logistics documents."""
    return add_docs(fake_kb, ("acme.md", "Acme", ACME_DOC), ("maria.md", "Maria", MARIA_DOC),
                    ("bolt.md", "Bolt Logistics", BOLT_DOC))


def ask(kb, question, gen, *, analyse=None, config=None, labels=None, **kw):
    """``answer`` wired to the fake base the way ``KnowledgeBase.ask`` wires a real one.

    The fake extractor labels every entity ORG, so graph labels come from ``labels``.
    """
    cfg = config or QAConfig(mode="vector")
    return answer(question, retrieve=lambda q, k: kb.search(q, mode=cfg.mode, top_k=k),
                  generator=gen, document_text=lambda d: kb.document(d).text,
                  analyse=analyse, entity_label=(labels or {}).get, config=cfg, **kw)


def bridge_shape(question, phrase, sub_question, expects="any", outer="any"):
    start = question.index(phrase)
    bridge = Bridge(sub_question, phrase, start, start + len(phrase), expects, question)
    return QuestionShape(question, "bridge", outer, bridge)


def reply_by_question(table):
    """A generator that answers by which question its prompt ends with."""
    def reply(msgs):
        q = msgs[1]["content"].rsplit("Question:", 1)[1]
        return next((a for key, a in table.items() if key in q), "NOT FOUND")
    return reply
