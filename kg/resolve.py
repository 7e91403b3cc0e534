"""Entity resolution: which mentions name the same entity.

An entity's id is the normalised key of its name (:func:`normalize`), and that
key is the only identity *across* documents: "Acme Corp." in one file and
"ACME Corp" in another are one entity, "Maria" in two files are not merged
with anyone. *Within* one document, :func:`resolve_document` also maps

* a lone first or last name of a PERSON to the one full name of the document
  that starts or ends with it ("Okafor" -> "maria okafor"); with two
  Okafors in the document it stays "okafor";
* an all-caps acronym to its definition "Full Name (ACR)" in the text, else to
  the one multi-word entity of the document whose initials spell it
  ("ESA" -> "european space agency"); ambiguous or none -> its own entity.

Two different multi-word names are never merged. Every mention keeps its
surface form, so aliases ("ESA", "Okafor") are preserved.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kgqa.types import Chunk, Document, Extraction, Mention, Relation

__all__ = ["Resolution", "canonical_name", "normalize", "resolve_document"]

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
_POSSESSIVE = re.compile(r"(?<=\w)'s?(?=\W*$)")  # "acme's", "smiths'", '"acme\'s"'
_DOTTED_ACRONYM = re.compile(r"(?<!\w)[^\W\d_](?:\.[^\W\d_])+\.?(?!\w)")  # "u.s.", "u.s.a"
_SPACES = re.compile(r"\s+")
_INTERNAL = frozenset("&-")
_CO_OCCURS = "co_occurs"
_INITIAL_STOPWORDS = frozenset({"of", "the", "and", "for"})
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")


def normalize(surface: str) -> str:
    """The key an entity is known by: case, quotes and punctuation folded.

    >>> normalize("The Acme Corp.")
    'acme corp'
    >>> normalize("ACME Corp")
    'acme corp'
    >>> normalize("Acme\u2019s")
    'acme'
    >>> normalize("U.S.")
    'us'
    >>> normalize("AT&T")
    'at&t'
    >>> normalize("Procter & Gamble")
    'procter gamble'
    >>> normalize("Coca-Cola  Company")
    'coca-cola company'
    >>> normalize("\uff2e\uff21\uff33\uff21")  # full-width letters (NFKC)
    'nasa'
    >>> normalize("...")
    ''
    """
    s = unicodedata.normalize("NFKC", surface).translate(_QUOTES).casefold().strip()
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
    s = _SPACES.sub(" ", "".join(chars)).strip()
    if s.startswith("the "):
        s = s[4:]
    return s


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


def resolve_document(
    doc: Document, chunks: Sequence[Chunk], extractions: Sequence[Extraction]
) -> Resolution:
    """Resolve the extractions of one document's chunks into mentions and relations.

    Entity ids are normalised keys. Relations whose two ends resolve to the same
    entity are dropped; duplicates (same source, target, label, chunk and span)
    are collapsed; ``co_occurs`` is symmetric, so its ends are stored sorted and
    it is dropped where a verb relation links the same two entities in the same
    sentence. Mentions with an empty key (e.g. only punctuation) are skipped.
    """
    raws, per_extraction = _collect(doc, chunks, extractions)
    ids = _resolve_ids(doc, raws)
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
    return Resolution(
        mentions=mentions, relations=_relations(doc, extractions, per_extraction, ids)
    )


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


def _resolve_ids(doc: Document, raws: list[_Raw]) -> list[str]:
    """The entity id of each raw mention (rules b and c; a and d are the key itself)."""
    multi_word = {r.key for r in raws if " " in r.key}
    persons = {r.key for r in raws if r.label == "PERSON" and r.key in multi_word}
    by_name_part: dict[str, set[str]] = defaultdict(set)  # "okafor" -> {"maria okafor"}
    for key in persons:
        words = key.split()
        by_name_part[words[0]].add(key)
        by_name_part[words[-1]].add(key)
    definitions = _acronym_definitions(doc.text, raws)
    acronym_cache: dict[str, str | None] = {}

    ids: list[str] = []
    for r in raws:
        target: str | None = None
        if r.label == "PERSON" and " " not in r.key:
            candidates = by_name_part.get(r.key, set())
            if len(candidates) == 1:
                target = next(iter(candidates))
        if target is None:
            acronym = _as_acronym(r.surface)
            if acronym is not None:
                if acronym not in acronym_cache:
                    acronym_cache[acronym] = _expand_acronym(acronym, definitions, multi_word)
                target = acronym_cache[acronym]
        ids.append(target if target is not None and target != r.key else r.key)
    return ids


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
