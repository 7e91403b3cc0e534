"""Question/answer pairs made from a knowledge graph's relations, no labels needed.

Each verb relation of the graph (subject entity, verb lemma with its
preposition, object entity, the sentence that states it) gives two
questions, one asking for the object and one for the subject::

    Freya Lindqvist --launch--> Stormcast
      "Freya Lindqvist launched Stormcast, the company's new ... model."
    -> "What did Freya Lindqvist launch?"        answers: ["Stormcast"]
    -> "Who launched Stormcast?"                 answers: ["Freya Lindqvist"]

    Henrik Dahl --work at--> NIO (an organisation)
    -> "Which organisation did Henrik Dahl work at?"
    Samuel Otieno --fly to--> Perth (a place)
    -> "Where did Samuel Otieno fly?"

The question word follows the asked entity's label (a person: *who*; a
place after *in/at/to/from...*: *where*; an organisation: *which
organisation*; else *what*). The verb is inflected with ``lemminflect``
(Burns 2019) as the evidence sentence uses it: present, past, or passive
("Where was Ada Nwosu born?"). Nationalities and groups (spaCy's NORP,
mostly adjectives such as "American") take no part. Relations that share a subject and verb
(or a verb and object) make one question with every such entity as an
answer. Copulas (*be*, *have*) and co-occurrence edges make no questions.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kg.extract import CO_OCCURS
from kgqa.types import Entity, Relation
from llm.metrics import normalize_answer

if TYPE_CHECKING:
    from pipelines.kb import KnowledgeBase

SKIP_VERBS = frozenset({"be", "is", "are", "was", "were", "have", "do", "say", "include",
                        "become"})
# Nationalities and groups ("American", "Welsh") are mostly adjectives in the text: "Where
# did American bear?" is what they make, so they ask and answer nothing.
SKIP_LABELS = frozenset({"NORP"})
_BE = {"is": "is", "are": "is", "was": "was", "were": "was", "been": "was", "being": "was",
       "be": "was"}
_WHICH = {"ORG": "organisation", "PRODUCT": "product", "EVENT": "event", "WORK_OF_ART": "work",
          "NORP": "group", "LAW": "law", "LANGUAGE": "language", "FAC": "place",
          "GPE": "place", "LOC": "place"}
_PLACE = frozenset({"GPE", "LOC", "FAC"})
_PLACE_PREPS = frozenset({"in", "at", "to", "from", "into", "near", "across", "through",
                          "outside", "inside", "on", "onto", "toward", "towards", "around"})


@dataclass(frozen=True)
class SyntheticPair:
    """One generated question in the questions-JSONL layout, with where it came from."""

    id: str
    question: str
    answers: tuple[str, ...]
    supporting_ids: tuple[str, ...]  # documents stating the relation
    evidence: str  # the sentence stating it
    relation: tuple[str, str, str]  # (subject name, verb label, object name)
    asks: str  # "object" | "subject"


def kb_relations(kb: KnowledgeBase, max_entities: int = 1_000_000) -> list[Relation]:
    """Every verb relation of the base, each once (co-occurrence edges left out)."""
    seen: dict[tuple[str, str, str, str, int], Relation] = {}
    for ent in kb.entities(None, limit=max_entities):
        for nb in kb.neighbours(ent.id):
            for rel in nb.relations:
                if rel.label == CO_OCCURS:
                    continue
                seen.setdefault((rel.source, rel.target, rel.label, rel.chunk_id, rel.start), rel)
    return sorted(seen.values(), key=lambda r: (r.source, r.label, r.target, r.chunk_id, r.start))


def make_pairs(relations: Iterable[Relation], entities: dict[str, Entity], *,
               seed: int = 0, limit: int = 0) -> list[SyntheticPair]:
    """Questions from ``relations`` (see the module docstring), shuffled with ``seed``.

    ``entities`` maps the entity ids of the relations to their entities (for
    names, labels and aliases); ``limit`` > 0 keeps the first ``limit`` pairs.
    """
    by_object: dict[tuple[str, str], list[Relation]] = {}
    by_subject: dict[tuple[str, str], list[Relation]] = {}
    for rel in relations:
        verb = rel.label.split()[0] if rel.label.split() else ""
        if (not verb or verb in SKIP_VERBS or rel.source == rel.target
                or rel.source not in entities or rel.target not in entities
                or entities[rel.source].label in SKIP_LABELS
                or entities[rel.target].label in SKIP_LABELS):
            continue
        by_object.setdefault((rel.source, rel.label), []).append(rel)
        by_subject.setdefault((rel.label, rel.target), []).append(rel)
    pairs: list[SyntheticPair] = []
    for (source, label), rels in by_object.items():
        pair = _pair("object", entities[source], label, [entities[r.target] for r in rels], rels)
        if pair is not None:
            pairs.append(pair)
    for (label, target), rels in by_subject.items():
        pair = _pair("subject", entities[target], label, [entities[r.source] for r in rels], rels)
        if pair is not None:
            pairs.append(pair)
    pairs.sort(key=lambda p: p.id)
    random.Random(seed).shuffle(pairs)
    return pairs[:limit] if limit > 0 else pairs


def question(asks: str, known: Entity, label: str, answer_label: str, evidence: str) -> str:
    """The question about ``known`` whose answer is the other end of a ``label`` relation.

    >>> person = Entity("ada", "Ada Nwosu", "PERSON")
    >>> question("object", person, "work at", "ORG", "Ada Nwosu worked at the NIO.")
    'Which organisation did Ada Nwosu work at?'
    >>> question("subject", Entity("nio", "NIO", "ORG"), "work at", "PERSON", "She works at NIO.")
    'Who works at NIO?'
    >>> question("object", person, "fly to", "GPE", "Ada Nwosu flew to Perth.")
    'Where did Ada Nwosu fly?'
    >>> question("object", person, "bear in", "GPE", "Ada Nwosu (born 1970 in Lagos) is ...")
    'Where was Ada Nwosu born?'
    >>> question("subject", Entity("l", "Lagos", "GPE"), "bear in", "PERSON", "born in Lagos")
    'Who was born in Lagos?'
    """
    verb, *rest = label.split()
    prep = " ".join(rest)
    voice, be = _voice(verb, evidence)
    tail = f" {prep}" if prep else ""
    where = answer_label in _PLACE and prep in _PLACE_PREPS
    if voice == "passive":
        done = _inflect(verb, "VBN")
        if asks == "object":
            return f"{'Where' if where else _wh(answer_label)} {be} {known.name} {done}" + (
                "?" if where else f"{tail}?")
        return f"{_wh(answer_label)} {be} {done}{tail} {known.name}?"
    if asks == "object":
        aux = "did" if voice == "past" else "does"
        if where:
            return f"Where {aux} {known.name} {verb}?"
        return f"{_wh(answer_label)} {aux} {known.name} {verb}{tail}?"
    verbed = _inflect(verb, "VBD" if voice == "past" else "VBZ")
    return f"{_wh(answer_label)} {verbed}{tail} {known.name}?"


def write_pairs(pairs: Sequence[SyntheticPair], path: Path,
                used: set[str] | None = None) -> None:
    """One JSON object per line (the questions-JSONL layout plus ``evidence``, ``relation``,
    ``asks`` and, when ``used`` is given, whether the pair became a training example)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for p in pairs:
            row = asdict(p)
            if used is not None:
                row["used"] = p.id in used
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _pair(asks: str, known: Entity, label: str, answers: list[Entity],
          rels: list[Relation]) -> SyntheticPair | None:
    evidence = " ".join(rels[0].evidence.split())
    names: list[str] = []
    for ent in answers:
        for name in _answer_names(ent, [r.evidence for r in rels]):
            if name not in names:
                names.append(name)
    q_norm = normalize_answer(known.name)
    names = [n for n in names if normalize_answer(n) and normalize_answer(n) != q_norm]
    if not names or not evidence or len(known.name) < 2:
        return None
    labels = {ent.label for ent in answers}
    answer_label = labels.pop() if len(labels) == 1 else ""
    text = question(asks, known, label, answer_label, evidence)
    docs = tuple(dict.fromkeys(r.doc_id for r in rels))
    pid = f"syn-{asks[0]}-{known.id}-{label}".replace(" ", "_")
    subject, obj = (known.name, names[0]) if asks == "object" else (names[0], known.name)
    return SyntheticPair(pid, text, tuple(names), docs, evidence, (subject, label, obj), asks)


def _answer_names(ent: Entity, evidence: Sequence[str]) -> list[str]:
    """The entity's name, then its aliases written in the evidence (longest first)."""
    text = " ".join(evidence).lower()
    written = sorted((a for a in ent.aliases if a.lower() in text and a != ent.name),
                     key=lambda a: -len(a))
    return [ent.name, *written]


def _wh(label: str) -> str:
    if label == "PERSON":
        return "Who"
    noun = _WHICH.get(label)
    return f"Which {noun}" if noun else "What"


def _voice(verb: str, evidence: str) -> tuple[str, str]:
    """How the evidence uses the verb: ``present``, ``past`` or ``passive`` (with "is"/"was").

    Passive: the participle differs from the past ("born", "known") or follows
    a form of *be* ("was founded") without a *by* agent (a passive with an
    agent was turned active by the extractor).
    """
    words = evidence.lower().replace(",", " ").replace("(", " ").split()
    past = {f.lower() for f in _forms(verb, "VBD")}
    participle = {f.lower() for f in _forms(verb, "VBN")}
    present = {f.lower() for f in _forms(verb, "VBZ")}
    for i, w in enumerate(words):
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if w in participle and after != "by" and (w not in past or before in _BE):
            return "passive", _BE.get(before, "was")
        if w in present:
            return "present", ""
        if w in past:
            return "past", ""
    return "past", ""


def _forms(verb: str, tag: str) -> tuple[str, ...]:
    from lemminflect import getInflection

    return tuple(getInflection(verb, tag) or ())


def _inflect(verb: str, tag: str) -> str:
    forms = _forms(verb, tag)
    return forms[0] if forms else verb
