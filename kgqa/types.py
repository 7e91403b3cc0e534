"""Typed values that cross module boundaries.

``kg``, ``retrieval``, ``llm`` and ``pipelines`` exchange only these frozen
dataclasses, never loose dicts. Character offsets (``start``/``end``) are
always half-open ``[start, end)`` positions in the *document* text, so that
``doc.text[chunk.start:chunk.end] == chunk.text`` and a citation can be shown
in its source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

#: How a question is matched to passages (see ``retrieval/hybrid.py``).
RetrievalMode = Literal["vector", "lexical", "graph", "hybrid"]
RETRIEVAL_MODES: tuple[RetrievalMode, ...] = ("vector", "lexical", "graph", "hybrid")

# -- the graph's vocabulary, named once --------------------------------------------
#: Label of the mention that links a chunk to the entity its document is about:
#: a document titled "Maria Okafor" is about the entity ``maria okafor``.
TITLE_LABEL = "TITLE"
#: Label of the relation between two entities named in one sentence.
CO_OCCURS = "co_occurs"
#: The links a retrieval path follows.
MENTIONED_IN = "mentioned in"  # entity -> a chunk that mentions it
MENTIONS = "mentions"  # chunk -> an entity it mentions
RELATED_TO = "related to"  # entity -> an entity it has a relation with


def content_hash(title: str, text: str) -> str:
    """Stable hash of a document's content (title and text), as hex sha256."""
    h = hashlib.sha256()
    h.update(title.encode("utf-8"))
    h.update(b"\x00")
    h.update(text.encode("utf-8"))
    return h.hexdigest()


@dataclass(frozen=True)
class Document:
    """One source document: a file, or one line of a JSONL corpus.

    >>> d = Document(id="wiki/alice", title="Alice", text="Alice works at Acme.")
    >>> len(d.content_hash)
    64
    """

    id: str
    title: str
    text: str
    source: str = ""  # the path (or "path:line") it was read from
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Document.id must be a non-empty string")
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.title, self.text))


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``text == document.text[start:end]``."""

    id: str  # "<doc_id>#<index>"
    doc_id: str
    index: int  # position of the chunk within its document
    text: str
    start: int
    end: int

    @staticmethod
    def make_id(doc_id: str, index: int) -> str:
        return f"{doc_id}#{index}"


@dataclass(frozen=True)
class ExtractedEntity:
    """An entity mention found by an extractor inside one chunk.

    ``start``/``end`` are offsets in the document text (not the chunk).
    """

    surface: str  # the text as written, invisible characters removed (kgqa.text.visible)
    label: str  # spaCy label, e.g. PERSON, ORG, GPE
    start: int
    end: int
    sentence: int  # index of the sentence within the chunk


@dataclass(frozen=True)
class ExtractedRelation:
    """A relation between two mentions of the same chunk.

    ``subject``/``object`` index into :attr:`Extraction.entities`. ``label`` is
    the verb lemma for a subject-verb-object triple, or :data:`CO_OCCURS`.
    The sentence that evidences it is ``doc.text[start:end]``.
    """

    subject: int
    object: int
    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Extraction:
    """Everything an extractor found in one chunk."""

    chunk_id: str
    entities: tuple[ExtractedEntity, ...] = ()
    relations: tuple[ExtractedRelation, ...] = ()


@dataclass(frozen=True)
class Entity:
    """A resolved entity of the knowledge graph."""

    id: str  # the normalised key, e.g. "acme corporation"
    name: str  # the display name (most frequent surface form)
    label: str  # most frequent extractor label
    aliases: tuple[str, ...] = ()  # every surface form seen
    mention_count: int = 0


@dataclass(frozen=True)
class Mention:
    """An entity mentioned in a chunk, at ``[start, end)`` of the document.

    ``surface`` is that span as a reader sees it: the document's own characters
    with invisible ones (soft hyphens, zero-width spaces) removed and white
    space collapsed, so ``document.text[start:end]`` may hold more.
    """

    entity_id: str
    chunk_id: str
    doc_id: str
    surface: str
    start: int
    end: int
    label: str = ""  # the extractor's label for this mention


@dataclass(frozen=True)
class Relation:
    """A labelled edge between two entities, with the sentence that evidences it."""

    source: str  # entity id
    target: str  # entity id
    label: str
    chunk_id: str
    doc_id: str
    evidence: str  # the sentence text
    start: int
    end: int


@dataclass(frozen=True)
class Neighbour:
    """An entity linked to another one, with the relations between them."""

    entity: Entity
    relations: tuple[Relation, ...]


@dataclass(frozen=True)
class IngestProblem:
    """A file or record that could not be ingested, and why.

    ``partial`` is True when the document was ingested without the part that
    ``reason`` names (e.g. a run of encoded data that was not indexed).
    """

    source: str
    reason: str
    partial: bool = False


@dataclass(frozen=True)
class Conflict:
    """A new document whose id belongs to a document from another source.

    ``action`` is what the ingest did (its ``on_conflict`` policy):
    ``"keep-both"`` (the new document was stored as ``new_id``), ``"replace"``
    (the document that had the id is gone) or ``"skip"`` (the new one was not
    ingested).
    """

    doc_id: str  # the id both documents would have
    source: str  # where the new document comes from
    existing_source: str  # where the document holding the id came from
    action: str
    new_id: str = ""


@dataclass(frozen=True)
class IngestReport:
    """What one ingest call did.

    ``notices``: things the user should know once, in plain words (for example
    that the base's models read English only and some documents are not).
    """

    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    chunks_added: int = 0
    entities_added: int = 0
    relations_added: int = 0
    mentions_added: int = 0
    problems: tuple[IngestProblem, ...] = ()
    seconds: float = 0.0
    notices: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()  # ids another source had, and what was done


@dataclass(frozen=True)
class Stats:
    """Counts of a knowledge base."""

    documents: int
    chunks: int
    entities: int
    relations: int
    mentions: int
    aliases: int
    embedder: str
    extractor: str
    last_ingest: str | None = None  # ISO timestamp

    def as_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "entities": self.entities,
            "relations": self.relations,
            "mentions": self.mentions,
            "aliases": self.aliases,
            "embedder": self.embedder,
            "extractor": self.extractor,
            "last_ingest": self.last_ingest,
        }


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with what the search index needs of it.

    ``mentions`` are ``(entity id, surface as written)`` and ``relations``
    ``(source, target)`` entity ids, each in the order they were written.
    """

    key: int  # the chunk's integer key in the store
    title: str  # its document's title
    text: str
    vector: NDArray[np.float32]  # (dim,) L2-normalised
    mentions: tuple[tuple[str, str], ...] = ()
    relations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EntityStep:
    """A retrieval path passing through an entity."""

    id: str
    name: str  # its display name


@dataclass(frozen=True)
class RelationStep:
    """The link between two steps: :data:`MENTIONED_IN`, :data:`MENTIONS`, :data:`RELATED_TO`."""

    label: str


@dataclass(frozen=True)
class ChunkStep:
    """A retrieval path passing through a passage."""

    key: int
    chunk_id: str  # "<doc_id>#<index>"
    title: str  # its document's title


PathStep = EntityStep | RelationStep | ChunkStep


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and why it was retrieved.

    ``scores`` holds each signal's score (e.g. ``{"vector": 0.61, "lexical": 7.2,
    "graph": 0.013}``); ``entities`` the display names of the query entities
    linked in the graph that led here; ``paths`` up to three typed paths, e.g.
    ``(EntityStep("maria okafor", "Maria Okafor"), RelationStep(MENTIONED_IN),
    ChunkStep(3, "acme.md#0", "Acme"))``; the CLI and the web UI render them.
    """

    key: int  # the chunk's integer key in the store (its vector id)
    chunk: Chunk
    title: str  # the document's title
    score: float  # the fused score that ranked it
    rank: int  # 1-based
    scores: dict[str, float] = field(default_factory=dict)
    entities: tuple[str, ...] = ()
    paths: tuple[tuple[PathStep, ...], ...] = ()


@dataclass(frozen=True)
class Citation:
    """A passage an answer cites: ``[number]`` in the answer text.

    ``start``/``end`` is the supporting span in the document text (the
    sentence that backs the answer when one could be found, else the chunk).
    """

    number: int
    chunk_id: str
    doc_id: str
    title: str
    start: int
    end: int
    quote: str  # document.text[start:end]
    supported: bool = True  # the span contains the answer's content


@dataclass(frozen=True)
class Refusal:
    """A reply of the reader that the checks refused, and why in words ("not a place",
    "the question's own words", "no passage shown states it")."""

    reply: str
    why: str


@dataclass(frozen=True)
class Step:
    """One hop of a multi-hop answer: a sub-question, its answer and its evidence.

    ``replaces`` is the phrase of the question this hop's answer stands for
    ("the designer of the Kestrel Station"); it is empty for the last hop, whose
    question is the original one with every earlier phrase replaced.
    """

    question: str
    answer: str
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    abstained: bool = False
    replaces: str = ""
    refused: tuple[Refusal, ...] = ()  # the reader's replies the checks refused (see Answer)


@dataclass(frozen=True)
class Answer:
    """A grounded answer with its citations and the evidence it was drawn from.

    ``steps`` is the chain of a multi-hop answer, one :class:`Step` per hop in
    the order they were answered, the last one giving ``text``; it is empty for
    a question answered in one step. ``shape`` is what question analysis found
    (``bridge``, ``comparison``, ``yes_no``, ``single``). ``understood_as`` is
    the self-contained question a follow-up of a conversation was rewritten
    into and answered as ("Which university did Adaeze Nwosu attend?" for
    "Which university did she attend?"); it is empty when the question was
    answered as asked. ``refused`` holds the reader's replies to the question
    (or to the chain's last question) that the checks refused before ``text``
    was given, in order, each with why ("Yes" to "In which city ...?", the
    question's own subject, an organisation for "which city"): a non-empty
    ``refused`` beside an answer means the reader's first choice could not
    answer, and ``text`` came after it. ``ambiguous`` lists the titles of the
    retrieved documents that share a name the question uses with no qualifier
    ("Night Harbour (film)", "Night Harbour (novel)" for "Who wrote Night
    Harbour?"): the question may mean either, and the citations say which one
    the answer is about.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    abstained: bool = False  # True when the documents do not contain the answer
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    steps: tuple[Step, ...] = ()
    shape: str = "single"
    understood_as: str = ""
    refused: tuple[Refusal, ...] = ()
    ambiguous: tuple[str, ...] = ()
