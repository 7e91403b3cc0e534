"""Deterministic fakes for fast unit tests (the real models run in tests/integration)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import ClassVar

from kgqa.types import Chunk, ExtractedEntity, ExtractedRelation, Extraction

_NAME = re.compile(r"\b[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)*\b")
_SENTENCE = re.compile(r"[^.!?]+[.!?]?")
_STOP = {"The", "A", "An", "In", "On", "It", "He", "She", "They", "We", "This", "That"}


class CapitalizedExtractor:
    """Entities = runs of capitalised words; relations = co-occurrence in a sentence."""

    name = "fake:capitalized"

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        out = []
        for chunk in chunks:
            ents: list[ExtractedEntity] = []
            rels: list[ExtractedRelation] = []
            for s_idx, sent in enumerate(_SENTENCE.finditer(chunk.text)):
                first = len(ents)
                for m in _NAME.finditer(sent.group()):
                    words = m.group().split()
                    while words and words[0] in _STOP:
                        words = words[1:]
                    if not words:
                        continue
                    surface = " ".join(words)
                    start = chunk.start + sent.start() + m.end() - len(surface)
                    ents.append(ExtractedEntity(surface, "ORG", start, start + len(surface), s_idx))
                s_start, s_end = chunk.start + sent.start(), chunk.start + sent.end()
                for i in range(first, len(ents)):
                    for j in range(i + 1, len(ents)):
                        rels.append(ExtractedRelation(i, j, "co_occurs", s_start, s_end))
            out.append(Extraction(chunk.id, tuple(ents), tuple(rels)))
        return out


class FaultyExtractor(CapitalizedExtractor):
    """The capitalised-words extractor, with faults planted in the text.

    A chunk containing ``FAIL`` raises; one containing ``CRASH`` ends the
    process that runs the extractor, as a crash in native code would. It can
    run in the ingest's extraction process (``spawn_args``).
    """

    name = "fake:faulty"

    def spawn_args(self) -> tuple[()]:
        return ()

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        for chunk in chunks:
            if "CRASH" in chunk.text:
                os._exit(3)
            if "FAIL" in chunk.text:
                raise RuntimeError("the parser cannot read this chunk")
            if len(chunk.text) > 1_000_000:
                raise ValueError("[E088] Text of length exceeds maximum of 1000000")
        return super().extract(chunks)


class VerbExtractor(CapitalizedExtractor):
    """Capitalised-word entities, co-occurrence, and ``Name verb Name`` relations.

    A known verb form between two names ("Ada Okafor founded Acme Robotics")
    gives a relation labelled by its lemma, as spaCy's subject-verb-object
    rule would; a name starting with a known first name is a PERSON, a known city a GPE.
    """

    name = "fake:verbs"
    VERBS: ClassVar[dict[str, str]] = {
        "founded": "found", "designed": "design", "leads": "lead", "joined": "join",
        "works at": "work at", "flew to": "fly to",
    }
    PEOPLE = ("Ada", "Ben", "Chioma", "Dmitri")
    PLACES = ("Perth", "Porto", "Oslo")

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        verbs = "|".join(sorted(self.VERBS, key=len, reverse=True))
        pattern = re.compile(rf"\b({verbs}) (?:the )?")
        out = []
        for ext, chunk in zip(super().extract(chunks), chunks, strict=True):
            ents = [ExtractedEntity(e.surface, self._label(e.surface, e.label), e.start, e.end,
                                    e.sentence) for e in ext.entities]
            rels = list(ext.relations)
            for m in pattern.finditer(chunk.text):
                at, after = chunk.start + m.start(), chunk.start + m.end()
                subj = [i for i, e in enumerate(ents) if e.end == at - 1]
                obj = [i for i, e in enumerate(ents) if e.start == after]
                if subj and obj:
                    sent = next(x for x in _SENTENCE.finditer(chunk.text)
                                if chunk.start + x.start() <= at < chunk.start + x.end())
                    rels.append(ExtractedRelation(subj[0], obj[0], self.VERBS[m.group(1)],
                                                  chunk.start + sent.start(),
                                                  chunk.start + sent.end()))
            out.append(Extraction(chunk.id, tuple(ents), tuple(rels)))
        return out

    def _label(self, surface: str, label: str) -> str:
        if surface.startswith(self.PEOPLE):
            return "PERSON"
        return "GPE" if surface in self.PLACES else label
