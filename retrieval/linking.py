"""Link the entities of a question to entities of the graph.

Three ways, from surest to loosest:

1. **alias match**: every word n-gram of the question (up to 8 words),
   normalised like entity ids, looked up among the graph's aliases; a match
   inside a longer match is dropped ("new york" inside "new york times").
2. **fuzzy match**: the question's extracted entity surfaces against entity
   ids by character-trigram Dice similarity (>= ``fuzzy_threshold``), for
   spelling and inflection variants.
3. **embedding match**: the same surfaces against entity *names* by cosine
   similarity of their embeddings (>= ``embedding_threshold``), for
   paraphrases; only when name vectors are supplied.

Each link carries a specificity weight ``1 / log(2 + df)`` (``df`` = chunks that
mention the entity), so "United States" counts for less than "Demon Dice".

>>> linker = EntityLinker.build(["acme robotics", "lisbon"], {"acme robotics": ["Acme"]},
...                             df=[3, 40], normalize=str.lower)
>>> [(l.entity_id, l.how) for l in linker.link("Where is Acme Robotics based?")]
[('acme robotics', 'alias')]
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kgqa.text import normalize_text
from retrieval.lexical import STOP_WORDS

if TYPE_CHECKING:
    from numpy.typing import NDArray

_WORD = re.compile(r"[\w&'-]+")
MAX_NGRAM = 8


@dataclass(frozen=True)
class LinkedEntity:
    entity_id: str
    surface: str  # the question text it was linked from
    score: float  # match confidence in [0, 1]
    weight: float  # specificity, 1 / log(2 + df)
    how: str  # "alias", "fuzzy" or "embedding"


def _is_namey(word: str) -> bool:
    """A word that can be part of a name: capitalised, or holding a digit."""
    return word[:1].isupper() or any(ch.isdigit() for ch in word)


def _trigrams(s: str) -> set[str]:
    s = f"  {s} "
    return {s[i : i + 3] for i in range(len(s) - 2)}


class EntityLinker:
    """Question -> graph entities (see the module docstring)."""

    def __init__(
        self,
        entity_ids: list[str],
        alias_index: dict[str, set[int]],
        df: NDArray[np.float32],
        normalize: Callable[[str], str],
        name_vectors: NDArray[np.float32] | None = None,
        fuzzy_threshold: float = 0.75,
        embedding_threshold: float = 0.85,
    ) -> None:
        self.entity_ids = entity_ids
        self.alias_index = alias_index  # normalised alias -> entity indices
        self.df = df
        self.normalize = normalize
        self.name_vectors = name_vectors  # (E, dim) or None
        self.fuzzy_threshold = fuzzy_threshold
        self.embedding_threshold = embedding_threshold
        self._grams: dict[str, list[int]] | None = None
        self._sizes = np.zeros(0, dtype=np.int32)

    @classmethod
    def build(
        cls,
        entity_ids: Sequence[str],
        aliases: Mapping[str, Sequence[str]],
        df: Sequence[float] | NDArray[np.float32],
        normalize: Callable[[str], str],
        **kw: object,
    ) -> EntityLinker:
        ids = list(entity_ids)
        index: dict[str, set[int]] = defaultdict(set)
        for i, eid in enumerate(ids):
            index[eid].add(i)
            for alias in aliases.get(eid, ()):
                key = normalize(alias)
                if key:
                    index[key].add(i)
        return cls(ids, dict(index), np.asarray(df, dtype=np.float32), normalize, **kw)  # type: ignore[arg-type]

    def weight(self, i: int) -> float:
        return 1.0 / math.log(2.0 + float(self.df[i]))

    def link(
        self,
        question: str,
        surfaces: Sequence[str] = (),
        surface_vectors: NDArray[np.float32] | None = None,
    ) -> list[LinkedEntity]:
        """Linked entities of ``question``, best first, one per entity.

        ``surfaces`` are entity mentions an extractor found in the question;
        ``surface_vectors`` ``(len(surfaces), dim)`` their embeddings.
        """
        found: dict[int, LinkedEntity] = {}

        def add(i: int, surface: str, score: float, how: str) -> None:
            old = found.get(i)
            if old is None or score > old.score:
                found[i] = LinkedEntity(self.entity_ids[i], surface, score, self.weight(i), how)

        for surface, ids in self._alias_matches(question):
            for i in ids:
                add(i, surface, 1.0, "alias")
        matched_surfaces = {lnk.surface for lnk in found.values()}
        for j, surface in enumerate(surfaces):
            key = self.normalize(surface)
            if not key or key in matched_surfaces or key in self.alias_index:
                for i in self.alias_index.get(key, ()):
                    add(i, key, 1.0, "alias")
                continue
            for i, sim in self._fuzzy(key):
                add(i, key, sim, "fuzzy")
            if (
                self.name_vectors is not None
                and surface_vectors is not None
                and len(self.name_vectors)
            ):
                sims = self.name_vectors @ surface_vectors[j]  # (E,)
                best = np.flatnonzero(sims >= self.embedding_threshold)
                for i in best[np.argsort(-sims[best])][:3]:
                    add(int(i), key, float(sims[i]), "embedding")
        return sorted(found.values(), key=lambda lnk: (-lnk.score * lnk.weight, lnk.entity_id))

    def _alias_matches(self, question: str) -> list[tuple[str, set[int]]]:
        raw = _WORD.findall(normalize_text(question).text)  # "Ya\u00adsmin" is one word
        pairs = [(self.normalize(w), _is_namey(w)) for w in raw]
        words = [w for w, _ in pairs if w]
        namey = [c for w, c in pairs if w]
        spans: list[tuple[int, int, str, set[int]]] = []
        for n in range(min(MAX_NGRAM, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                gram = " ".join(words[i : i + n])
                ids = self.alias_index.get(gram)
                if not ids:
                    continue
                if n == 1 and (gram in STOP_WORDS or len(gram) < 3):
                    continue
                if not any(namey[i : i + n]):
                    continue  # "the series", "a company": common words, not names
                if any(s <= i and i + n <= e for s, e, _, _ in spans):
                    continue  # inside a longer match
                spans.append((i, i + n, gram, ids))
        return [(gram, ids) for _, _, gram, ids in spans]

    def _fuzzy(self, key: str, limit: int = 3) -> list[tuple[int, float]]:
        if self._grams is None:
            grams: dict[str, list[int]] = defaultdict(list)
            sizes = np.zeros(len(self.entity_ids), dtype=np.int32)
            for i, eid in enumerate(self.entity_ids):
                tri = _trigrams(eid)
                sizes[i] = len(tri)
                for g in tri:
                    grams[g].append(i)
            self._grams, self._sizes = dict(grams), sizes
        mine = _trigrams(key)
        overlap: dict[int, int] = defaultdict(int)
        for g in mine:
            for i in self._grams.get(g, ()):
                overlap[i] += 1
        scored = []
        for i, shared in overlap.items():
            dice = 2 * shared / (len(mine) + int(self._sizes[i]))
            if dice >= self.fuzzy_threshold:
                scored.append((i, dice))
        scored.sort(key=lambda t: -t[1])
        return scored[:limit]
