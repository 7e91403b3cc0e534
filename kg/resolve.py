"""Entity resolution: which mentions name the same entity.

An entity's id is the normalised key of its name (:func:`normalize`), and that
key is the first identity *across* documents: "Acme Corp." in one file and
"ACME Corp" in another are one entity, as are "Lumen-Labs", "Lumen Labs Inc."
and "LUMEN LABS", or "Dr. Marguerite Okonkwo" and "Marguerite  Okonkwo".
*Within* one document, :func:`resolve_document` also maps

* a lone first or last name to the one full PERSON name of the document that
  starts or ends with it ("Okafor" -> "maria okafor"), whether spaCy called the
  lone name a PERSON or (mistaking a surname for a company or a nationality) an
  ORG or a NORP -- those only when no other name of the document holds that
  word ("Ford" beside "Henry Ford" and "Ford Motor" stays apart); with two
  Okafors it stays "okafor";
* an all-caps acronym to its definition "Full Name (ACR)" in the text, else to
  the one multi-word entity of the document whose initials spell it
  ("ESA" -> "european space agency"); ambiguous or none -> its own entity.

Given the base's :class:`NameIndex`, two rules also reach *across* documents:

* a lone last name that the document calls a PERSON (or gives a title: "Dr.
  Okonkwo") joins the one full PERSON name of the base that ends with it;
* a plural name that is not a person's ("Kestrel Stations") joins its singular
  when the document or the base has it ("Kestrel Station").

Two different multi-word names are never merged. Every mention keeps its
surface form, so aliases ("ESA", "Okafor") are preserved.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from kgqa.text import fold
from kgqa.types import Chunk, Document, Extraction, Mention, Relation

__all__ = [
    "NameIndex",
    "Resolution",
    "canonical_name",
    "normalize",
    "resolve_batch",
    "resolve_document",
]

_POSSESSIVE = re.compile(r"(?<=\w)'s?(?=\W*$)")  # "acme's", "smiths'", '"acme\'s"'
_DOTTED_ACRONYM = re.compile(r"(?<!\w)[^\W\d_](?:\.[^\W\d_])+\.?(?!\w)")  # "u.s.", "u.s.a"
_SPACES = re.compile(r"\s+")
_INTERNAL = frozenset("&")
_CO_OCCURS = "co_occurs"
_INITIAL_STOPWORDS = frozenset({"of", "the", "and", "for"})
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")
#: Words before a name that are a title, not part of it ("Dr. Okonkwo" is "okonkwo").
TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof", "professor", "sir", "dame", "rev"})
#: Words after a company's name that give its legal form, not its name.
LEGAL_SUFFIXES = frozenset(
    {
        "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation",
        "co", "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "pty", "kk",
        "oy", "oyj", "ab", "asa", "lp", "kg", "kgaa",
    }
)  # fmt: skip


def normalize(surface: str) -> str:
    """The key an entity is known by: case, quotes, punctuation, titles and legal forms folded.

    Invisible characters (soft hyphens, zero-width spaces) are removed and
    compatibility forms folded (NFKC), so text copied from a PDF or a web page
    gives the same key as text typed by hand. A hyphen is a space. A leading
    title (Dr., Prof., Mr. ...) and trailing legal forms (Inc., Ltd, LLC, GmbH
    ...) are dropped while a word of the name remains.

    >>> normalize("The Acme Corp.")
    'acme'
    >>> normalize("ACME")
    'acme'
    >>> normalize("Acme\u2019s")
    'acme'
    >>> normalize("U.S.")
    'us'
    >>> normalize("AT&T")
    'at&t'
    >>> normalize("Procter & Gamble")
    'procter gamble'
    >>> normalize("Lumen-Labs  GmbH")
    'lumen labs'
    >>> normalize("Dr. Marguerite\\nOkonkwo")
    'marguerite okonkwo'
    >>> normalize("Ya\u00adsmin")
    'yasmin'
    >>> normalize("\uff2e\uff21\uff33\uff21")  # full-width letters (NFKC)
    'nasa'
    >>> normalize("...")
    ''
    """
    s = fold(surface)
    s = _POSSESSIVE.sub("", s)
    s = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), s)
    chars = []
    for i, ch in enumerate(s):
        if unicodedata.category(ch).startswith("P") and not (
            ch in _INTERNAL and 0 < i < len(s) - 1 and s[i - 1].isalnum() and s[i + 1].isalnum()
        ):
            chars.append(" ")
        else:
            chars.append(ch)
    words = "".join(chars).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words = words[:-1]
    return " ".join(words)


def canonical_name(surfaces: Iterable[str]) -> str:
    """The display name: most frequent surface; ties -> longest, then alphabetical.

    >>> canonical_name(["ESA", "European Space Agency", "ESA"])
    'ESA'
    >>> canonical_name(["Acme Corp", "ACME Corp."])
    'ACME Corp.'
    """
    counts = Counter(surfaces)
    if not counts:
        raise ValueError("canonical_name needs at least one surface form")
    return min(counts, key=lambda s: (-counts[s], -len(s), s))


def entity_summary(counts: Counter[tuple[str, str]]) -> tuple[str, str, int]:
    """An entity's name, label and mention count from its mentions counted per
    (surface, label): the :func:`canonical_name` of the surfaces, the most
    frequent label (ties -> alphabetical), the total. Raises ``ValueError`` when
    no count is positive.

    >>> entity_summary(Counter({("ESA", "ORG"): 2, ("European Space Agency", "GPE"): 1}))
    ('ESA', 'ORG', 3)
    """
    surfaces: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    for (surface, label), n in counts.items():
        if n > 0:
            surfaces[surface] += n
            labels[label] += n
    name = canonical_name(surfaces)
    return name, min(labels.items(), key=lambda kv: (-kv[1], kv[0]))[0], surfaces.total()


@dataclass(frozen=True)
class Resolution:
    """The mentions and relations of one document, with resolved entity ids."""

    mentions: tuple[Mention, ...]
    relations: tuple[Relation, ...]


@dataclass(frozen=True)
class _Raw:
    """One extracted mention before resolution."""

    chunk_id: str
    surface: str
    label: str
    start: int
    end: int
    key: str


@dataclass
class NameIndex:
    """What the knowledge base already knows, for the rules that cross documents.

    ``people`` maps a last name to the full PERSON keys (two words or more)
    that end with it; ``lookup`` says whether an entity key exists in the base
    (answers are cached). Ingest builds one per run from the store and adds
    each batch's names as it goes (:func:`resolve_batch`).

    >>> names = NameIndex.of_people(["marguerite okonkwo", "ada lovelace"])
    >>> sorted(names.people["okonkwo"])
    ['marguerite okonkwo']
    """

    people: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    lookup: Callable[[str], bool] | None = None
    _known: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of_people(
        cls, person_keys: Iterable[str], lookup: Callable[[str], bool] | None = None
    ) -> NameIndex:
        index = cls(lookup=lookup)
        for key in person_keys:
            index.add_person(key)
        return index

    def add_person(self, key: str) -> None:
        words = key.split()
        if len(words) > 1:
            self.people[words[-1]].add(key)
        self._known[key] = True

    def add_key(self, key: str) -> None:
        self._known[key] = True

    def exists(self, key: str) -> bool:
        """Whether ``key`` is an entity of the base (or of the batch being resolved)."""
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = bool(self.lookup and self.lookup(key))
        return found


def resolve_document(
    doc: Document,
    chunks: Sequence[Chunk],
    extractions: Sequence[Extraction],
    names: NameIndex | None = None,
) -> Resolution:
    """Resolve the extractions of one document's chunks into mentions and relations.

    Entity ids are normalised keys. Relations whose two ends resolve to the same
    entity are dropped; duplicates (same source, target, label, chunk and span)
    are collapsed; ``co_occurs`` is symmetric, so its ends are stored sorted and
    it is dropped where a verb relation links the same two entities in the same
    sentence. Mentions with an empty key (e.g. only punctuation) are skipped.
    ``names`` (the base's names) enables the rules across documents.
    """
    return resolve_batch([(doc, chunks, extractions)], names)[0]


def resolve_batch(
    items: Sequence[tuple[Document, Sequence[Chunk], Sequence[Extraction]]],
    names: NameIndex | None = None,
) -> list[Resolution]:
    """:func:`resolve_document` for several documents that see each other's names.

    The full person names and the keys of every document of the batch are added
    to ``names`` first, so a lone "Okonkwo" in one file joins "Marguerite
    Okonkwo" of another file of the same batch, whatever their order.
    """
    collected = [_collect(doc, chunks, extractions) for doc, chunks, extractions in items]
    if names is not None:
        for raws, _ in collected:
            for r in raws:
                if r.label == "PERSON" and " " in r.key:
                    names.add_person(r.key)
                else:
                    names.add_key(r.key)
    out: list[Resolution] = []
    for (doc, _, extractions), (raws, per_extraction) in zip(items, collected, strict=True):
        ids = _resolve_ids(doc, raws, names)
        mentions = tuple(
            Mention(
                entity_id=ids[i],
                chunk_id=r.chunk_id,
                doc_id=doc.id,
                surface=r.surface,
                start=r.start,
                end=r.end,
                label=r.label,
            )
            for i, r in enumerate(raws)
        )
        out.append(Resolution(mentions, _relations(doc, extractions, per_extraction, ids)))
    return out


def _collect(
    doc: Document, chunks: Sequence[Chunk], extractions: Sequence[Extraction]
) -> tuple[list[_Raw], list[list[int | None]]]:
    """Validated raw mentions, and per extraction: entity index -> raw index (None: skipped)."""
    chunk_ids = {c.id for c in chunks}
    for c in chunks:
        if c.doc_id != doc.id:
            raise ValueError(f"chunk {c.id!r} belongs to document {c.doc_id!r}, not {doc.id!r}")
    n = len(doc.text)
    raws: list[_Raw] = []
    per_extraction: list[list[int | None]] = []
    for ex in extractions:
        if ex.chunk_id not in chunk_ids:
            raise ValueError(
                f"extraction for chunk {ex.chunk_id!r} is not one of the chunks of {doc.id!r}"
            )
        index: list[int | None] = []
        for e in ex.entities:
            if not 0 <= e.start <= e.end <= n:
                raise ValueError(
                    f"entity {e.surface!r} of chunk {ex.chunk_id!r} has offsets "
                    f"[{e.start}, {e.end}) "
                    f"outside document {doc.id!r} of length {n}"
                )
            key = normalize(e.surface)
            if not key:
                index.append(None)
                continue
            index.append(len(raws))
            raws.append(_Raw(ex.chunk_id, e.surface, e.label, e.start, e.end, key))
        for r in ex.relations:
            if not (0 <= r.subject < len(ex.entities) and 0 <= r.object < len(ex.entities)):
                raise ValueError(
                    f"relation {r.label!r} of chunk {ex.chunk_id!r} points at entity "
                    f"{r.subject} or {r.object}, but the chunk has {len(ex.entities)} entities"
                )
            if not 0 <= r.start <= r.end <= n:
                raise ValueError(
                    f"relation {r.label!r} of chunk {ex.chunk_id!r} has offsets "
                    f"[{r.start}, {r.end}) "
                    f"outside document {doc.id!r} of length {n}"
                )
        per_extraction.append(index)
    return raws, per_extraction


def _resolve_ids(doc: Document, raws: list[_Raw], names: NameIndex | None) -> list[str]:
    """The entity id of each raw mention (see the module docstring for the rules)."""
    multi_word = {r.key for r in raws if " " in r.key}
    persons = {r.key for r in raws if r.label == "PERSON" and r.key in multi_word}
    by_name_part: dict[str, set[str]] = defaultdict(set)  # "okafor" -> {"maria okafor"}
    for key in persons:
        words = key.split()
        by_name_part[words[0]].add(key)
        by_name_part[words[-1]].add(key)
    other_words = {w for key in multi_word - persons for w in key.split()}
    people = {  # lone names the document calls a person somewhere, or gives a title
        r.key
        for r in raws
        if " " not in r.key and (r.label == "PERSON" or _titled(doc.text, r.start))
    }
    keys = {r.key for r in raws}
    definitions = _acronym_definitions(doc.text, raws)
    acronym_cache: dict[str, str | None] = {}

    ids: list[str] = []
    for r in raws:
        target: str | None = None
        acronym = _as_acronym(r.surface)
        if " " not in r.key and acronym is None:
            candidates = by_name_part.get(r.key, set())
            if len(candidates) == 1 and (
                r.label == "PERSON"
                or r.key in people
                or (r.label in ("ORG", "NORP") and r.key not in other_words)
            ):
                target = next(iter(candidates))
            elif (
                not candidates
                and names is not None
                and r.key in people
                and r.label in ("PERSON", "ORG")
                and len(names.people.get(r.key, ())) == 1
            ):
                target = next(iter(names.people[r.key]))
        if target is None and acronym is not None:
            if acronym not in acronym_cache:
                acronym_cache[acronym] = _expand_acronym(acronym, definitions, multi_word)
            target = acronym_cache[acronym]
        if target is None and " " in r.key and r.label != "PERSON":
            singular = _singular(r.key)
            if singular is not None and (
                singular in keys or (names is not None and names.exists(singular))
            ):
                target = singular
        ids.append(target if target is not None and target != r.key else r.key)
    return ids


_TITLE_BEFORE = re.compile(
    r"(?:^|\W)(?:" + "|".join(sorted(TITLES)) + r")\.?\s+$", flags=re.IGNORECASE
)


def _titled(text: str, start: int) -> bool:
    """Does a title such as "Dr." stand right before offset ``start``?"""
    return _TITLE_BEFORE.search(text, max(0, start - 12), start) is not None


def _singular(key: str) -> str | None:
    """The key with its last word made singular, if it reads as a plural.

    >>> _singular("kestrel stations"), _singular("acme industries"), _singular("lumen labs")
    ('kestrel station', 'acme industry', 'lumen lab')
    >>> _singular("united states"), _singular("st louis"), _singular("alps")
    ('united state', None, None)
    """
    words = key.split()
    last = words[-1]
    if len(words) < 2 or len(last) < 4 or not last.endswith("s"):
        return None
    if last.endswith(("ss", "us", "is", "os")):
        return None
    if last.endswith("ies"):
        stem = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "xes", "zes")):
        stem = last[:-2]
    else:
        stem = last[:-1]
    return " ".join([*words[:-1], stem])


def _as_acronym(surface: str) -> str | None:
    """ "ESA", "U.S." -> the letters; None for anything else."""
    letters = surface.strip().replace(".", "")
    return letters if _ACRONYM.match(letters) else None


def _initials(key: str) -> set[str]:
    """Ways the words of a key spell an acronym: without and with stopwords."""
    words = key.split()
    content = [w for w in words if w not in _INITIAL_STOPWORDS]
    return {"".join(w[0] for w in content), "".join(w[0] for w in words)}


def _acronym_definitions(text: str, raws: list[_Raw]) -> dict[str, set[str]]:
    """Acronym -> keys defined next to it as "Full Name (ACR)" in the text."""
    ends: dict[int, set[str]] = defaultdict(set)  # mention end offset -> keys
    for r in raws:
        if " " in r.key:
            ends[r.end].add(r.key)
    found: dict[str, set[str]] = defaultdict(set)
    for m in re.finditer(r"\(\s*([A-Z](?:\.?[A-Z]){1,5}\.?)\s*\)", text):
        acronym = m.group(1).replace(".", "")
        before = m.start()
        while before > 0 and text[before - 1].isspace():
            before -= 1
        keys = {k for k in ends.get(before, ()) if _may_abbreviate(acronym, k)}
        if not keys:  # the name was not tagged as an entity: read it from the text
            name = _name_before(text[:before], acronym)
            if name:
                keys = {name}
        found[acronym].update(keys)
    return found


def _may_abbreviate(acronym: str, key: str) -> bool:
    """Whether ``acronym`` can stand for ``key``: same first letter, letters in order.

    Lenient on purpose ("Deutsche Bahn (DB)", "Network Rail (NR)"), strict enough
    to refuse "Paris (AFP)".
    """
    letters = acronym.lower()
    if not key or key[0] != letters[0]:
        return False
    rest = iter(key)
    return all(ch in rest for ch in letters)


def _name_before(prefix: str, acronym: str) -> str | None:
    """The normalised words ending ``prefix`` whose initials spell ``acronym``."""
    words = prefix.split()[-2 * len(acronym) :]
    for n in range(len(acronym), len(words) + 1):
        key = normalize(" ".join(words[-n:]))
        if " " in key and acronym.lower() in _initials(key):
            return key
    return None


def _expand_acronym(
    acronym: str, definitions: dict[str, set[str]], multi_word: set[str]
) -> str | None:
    defined = {k for k in definitions.get(acronym, set()) if k in multi_word}
    if defined:
        return next(iter(defined)) if len(defined) == 1 else None
    spelled = [k for k in multi_word if acronym.lower() in _initials(k)]
    return spelled[0] if len(spelled) == 1 else None


def _relations(
    doc: Document,
    extractions: Sequence[Extraction],
    per_extraction: list[list[int | None]],
    ids: list[str],
) -> tuple[Relation, ...]:
    out: dict[tuple[str, str, str, str, int, int], Relation] = {}
    verb_linked: set[tuple[frozenset[str], str, int, int]] = set()
    for ex, index in zip(extractions, per_extraction, strict=True):
        for r in ex.relations:
            s_raw, o_raw = index[r.subject], index[r.object]
            if s_raw is None or o_raw is None:
                continue
            source, target = ids[s_raw], ids[o_raw]
            if source == target:
                continue
            if r.label == _CO_OCCURS:
                source, target = sorted((source, target))
            else:
                verb_linked.add((frozenset((source, target)), ex.chunk_id, r.start, r.end))
            key = (source, target, r.label, ex.chunk_id, r.start, r.end)
            if key not in out:
                out[key] = Relation(
                    source=source,
                    target=target,
                    label=r.label,
                    chunk_id=ex.chunk_id,
                    doc_id=doc.id,
                    evidence=doc.text[r.start : r.end],
                    start=r.start,
                    end=r.end,
                )
    return tuple(
        rel
        for rel in out.values()
        if rel.label != _CO_OCCURS
        or (frozenset((rel.source, rel.target)), rel.chunk_id, rel.start, rel.end)
        not in verb_linked
    )
