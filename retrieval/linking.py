"""Link the entities of a question to entities of the graph.

Two ways, from surest to loosest:

1. **alias match**: every word n-gram of the question (up to 8 words),
   normalised like entity ids, looked up among the graph's aliases (the
   normalised surfaces of its mentions, and the entity ids); a match inside
   a longer match is dropped ("new york" inside "new york times").
2. **fuzzy match**: the question's extracted entity surfaces against entity
   ids by character-trigram Dice similarity (>= ``fuzzy_threshold``), for
   spelling and inflection variants.

Each link carries a specificity weight ``1 / log(2 + df)`` (``df`` = chunks that
mention the entity), so "United States" counts for less than "Demon Dice".

Aliases and trigrams are postings (:mod:`retrieval.postings`) of the search
index, so linking reads only the runs of the question's n-grams: an alias
posting names the chunk row it came from, and a deleted chunk's aliases stop
linking with it.

>>> linker = EntityLinker.from_names(["acme robotics", "lisbon"], {"acme robotics": ["Acme"]},
...                                  df=[3, 40], normalize=str.lower)
>>> [(l.entity_id, l.how) for l in linker.link("Where is Acme Robotics based?")]
[('acme robotics', 'alias')]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kgqa.text import normalize_text
from retrieval.lexical import STOP_WORDS
from retrieval.postings import HashCache, Segment, StringTable, lookup

if TYPE_CHECKING:
    from numpy.typing import NDArray

_WORD = re.compile(r"[\w&'-]+")
MAX_NGRAM = 8
_HASHES = HashCache()


@dataclass(frozen=True)
class LinkedEntity:
    entity_id: str
    surface: str  # the question text it was linked from
    score: float  # match confidence in [0, 1]
    weight: float  # specificity, 1 / log(2 + df)
    how: str  # "alias" or "fuzzy"
    index: int = -1  # the entity's index in the search index


def _is_namey(word: str) -> bool:
    """A word that can be part of a name: capitalised, or holding a digit."""
    return word[:1].isupper() or any(ch.isdigit() for ch in word)


def trigrams(s: str) -> list[str]:
    """The distinct character trigrams of ``s`` padded as ``"  s "``, sorted."""
    s = f"  {s} "
    return sorted({s[i : i + 3] for i in range(len(s) - 2)})


def alias_postings(
    entities: NDArray[np.int32], aliases: Sequence[str], rows: NDArray[np.int32]
) -> tuple[NDArray[np.uint64], NDArray[np.int32], NDArray[np.int32]]:
    """Postings ``(keys, rows, entities)`` of normalised aliases (empty ones left out)."""
    keep = [i for i, a in enumerate(aliases) if a]
    keys = _HASHES([aliases[i] for i in keep])
    return keys, np.asarray(rows)[keep], np.asarray(entities)[keep]


def trigram_postings(
    ids: Sequence[str], first: int = 0
) -> tuple[NDArray[np.uint64], NDArray[np.int32], NDArray[np.int32]]:
    """Postings ``(keys, entities)`` of the trigrams of entity ids, and each id's trigram count."""
    grams = [trigrams(e) for e in ids]
    sizes = np.fromiter((len(g) for g in grams), np.int32, count=len(grams))
    keys = _HASHES([g for gs in grams for g in gs])
    entities = np.repeat(np.arange(first, first + len(ids), dtype=np.int32), sizes)
    return keys, entities, sizes


class EntityLinker:
    """Question -> graph entities (see the module docstring).

    ``aliases``: postings alias key -> chunk row, with the entity as value;
    ``grams``: postings trigram key -> entity; ``gram_counts`` ``(E,)`` each
    entity's trigram count; ``df`` ``(E,)`` live chunks per entity (0: the
    entity is gone); ``live`` ``(R,)`` False for deleted rows, or None.
    """

    def __init__(
        self,
        ids: StringTable,
        aliases: Sequence[Segment],
        grams: Sequence[Segment],
        gram_counts: NDArray[np.int32],
        df: NDArray[np.int32],
        live: NDArray[np.bool_] | None,
        normalize: Callable[[str], str],
        fuzzy_threshold: float = 0.75,
    ) -> None:
        self.ids = ids
        self.aliases = list(aliases)
        self.grams = list(grams)
        self.gram_counts = gram_counts
        self.df = df
        self.live = live
        self.normalize = normalize
        self.fuzzy_threshold = fuzzy_threshold

    @classmethod
    def from_names(
        cls,
        entity_ids: Sequence[str],
        aliases: Mapping[str, Sequence[str]],
        df: Sequence[int] | NDArray[np.int32],
        normalize: Callable[[str], str],
        **kw: float,
    ) -> EntityLinker:
        """A linker held in memory, from entity ids, their aliases and chunk counts."""
        ids = list(entity_ids)
        names: list[str] = []
        owners: list[int] = []
        for i, eid in enumerate(ids):
            for alias in (eid, *aliases.get(eid, ())):
                names.append(normalize(alias))
                owners.append(i)
        keys, rows, ents = alias_postings(
            np.asarray(owners, np.int32), names, np.zeros(len(names), np.int32)
        )
        gkeys, gents, sizes = trigram_postings(ids)
        return cls(
            StringTable.build(ids),
            [Segment.build(keys, rows, ents)],
            [Segment.build(gkeys, gents)],
            sizes,
            np.asarray(df, np.int32),
            None,
            normalize,
            **kw,
        )

    def weight(self, i: int) -> float:
        return 1.0 / math.log(2.0 + float(self.df[i]))

    def entities_of(self, aliases: Sequence[str]) -> list[list[int]]:
        """The live entities each normalised alias names (sorted indices)."""
        if not aliases:
            return []
        owner, rows, ents = lookup(self.aliases, _HASHES(list(aliases)))
        if ents is None:  # no segments at all: an empty base
            return [[] for _ in aliases]
        if self.live is not None and len(rows):
            keep = np.asarray(self.live)[rows]
            owner, ents = owner[keep], ents[keep]
        out: list[list[int]] = [[] for _ in aliases]
        if len(owner):
            pairs = np.unique(np.stack([owner, ents.astype(np.int64)]), axis=1)
            for o, e in pairs.T.tolist():
                out[o].append(e)
        return out

    def link(self, question: str, surfaces: Sequence[str] = ()) -> list[LinkedEntity]:
        """Linked entities of ``question``, best first, one per entity.

        ``surfaces`` are entity mentions an extractor found in the question.
        """
        found: dict[int, LinkedEntity] = {}

        def add(i: int, surface: str, score: float, how: str) -> None:
            old = found.get(i)
            if old is None or score > old.score:
                found[i] = LinkedEntity(self.ids[i], surface, score, self.weight(i), how, i)

        for surface, ids in self._alias_matches(question):
            for i in ids:
                add(i, surface, 1.0, "alias")
        matched_surfaces = {lnk.surface for lnk in found.values()}
        keys = [self.normalize(s) for s in surfaces]
        known = self.entities_of([k for k in keys if k])
        by_key = dict(zip([k for k in keys if k], known, strict=True))
        for key in keys:
            if not key or key in matched_surfaces or by_key.get(key):
                for i in by_key.get(key, ()):
                    add(i, key, 1.0, "alias")
                continue
            for i, sim in self._fuzzy(key):
                add(i, key, sim, "fuzzy")
        return sorted(found.values(), key=lambda lnk: (-lnk.score * lnk.weight, lnk.entity_id))

    def _alias_matches(self, question: str) -> list[tuple[str, list[int]]]:
        raw = _WORD.findall(normalize_text(question).text)  # "Ya\u00adsmin" is one word
        pairs = [(self.normalize(w), _is_namey(w)) for w in raw]
        words = [w for w, _ in pairs if w]
        namey = [c for w, c in pairs if w]
        grams: list[tuple[int, int, str]] = []  # longest first, then left to right
        for n in range(min(MAX_NGRAM, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                gram = " ".join(words[i : i + n])
                if n == 1 and (gram in STOP_WORDS or len(gram) < 3):
                    continue
                if not any(namey[i : i + n]):
                    continue  # "the series", "a company": common words, not names
                grams.append((i, n, gram))
        spans: list[tuple[int, int, str, list[int]]] = []
        for (i, n, gram), ids in zip(
            grams, self.entities_of([g for _, _, g in grams]), strict=True
        ):
            if not ids:
                continue
            if any(s <= i and i + n <= e for s, e, _, _ in spans):
                continue  # inside a longer match
            spans.append((i, i + n, gram, ids))
        return [(gram, ids) for _, _, gram, ids in spans]

    def names_disambiguated(self, key: str) -> bool:
        """Whether an entity's id is ``key`` and one or two words more: a title with a
        disambiguator ("girl who kicked the hornets nest film" for "girl who kicked the
        hornets nest", from the document "The Girl Who Kicked the Hornets' Nest (film)")."""
        return any(self.ids[i].startswith(key + " ") and
                   len(self.ids[i][len(key) + 1:].split()) <= 2 for i, _ in self._fuzzy(key))

    def _fuzzy(self, key: str, limit: int = 3) -> list[tuple[int, float]]:
        mine = trigrams(key)
        _, ents, _ = lookup(self.grams, _HASHES(mine))
        if not len(ents):
            return []
        cand, shared = np.unique(ents, return_counts=True)
        dice = 2 * shared / (len(mine) + np.asarray(self.gram_counts)[cand])
        ok = (dice >= self.fuzzy_threshold) & (np.asarray(self.df)[cand] > 0)
        scored = [(int(i), float(d)) for i, d in zip(cand[ok], dice[ok], strict=True)]
        scored.sort(key=lambda t: (-t[1], self.ids[t[0]]))
        return scored[:limit]
