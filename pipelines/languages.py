"""Documents in scripts the base's models cannot read, and the notice that says so.

The default models read English only: ``all-MiniLM-L6-v2`` was trained on
English sentence pairs (Chinese characters are mostly ``[UNK]`` to it) and
``en_core_web_sm`` tags English. kgqa still stores, chunks and searches such
documents (lexical search matches them, see ``retrieval/lexical.py``), but
dense search and the graph help little. When an ingest meets documents written
mostly in another script (Chinese, Japanese, Thai, Cyrillic, Arabic...) and a
model of the base is English-only, it says so, once per base: the manifest
records :data:`NOTICE_ID` in its ``notices``.

    >>> dominant_script("星河海洋研究院位于浙江省舟山市 (Xinghe)")
    'Han (Chinese, Japanese)'
    >>> dominant_script("Glenrock Council approved the budget.") is None
    True
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from kgqa.types import Document

NOTICE_ID = "english-only-models"
#: A document is "in another script" when at least this share of its letters are not Latin.
OTHER_SCRIPT_SHARE = 0.3
_SAMPLE = 4000  # characters read per document
_SCRIPT_NAMES = {
    "CJK": "Han (Chinese, Japanese)",
    "HIRAGANA": "Japanese kana",
    "KATAKANA": "Japanese kana",
    "HANGUL": "Korean Hangul",
}


@runtime_checkable
class Monolingual(Protocol):
    """A model that says which one language it reads."""

    model: str  # the package name or directory the user gave

    @property
    def language(self) -> str | None:
        """ISO 639-1 code of the only language the model reads ("en"); None: several."""
        ...


def dominant_script(text: str) -> str | None:
    """The script of most letters of ``text`` when it is not Latin, else None."""
    counts: Counter[str] = Counter()
    letters = 0
    for ch in text[:_SAMPLE]:
        if not ch.isalpha():
            continue
        letters += 1
        words = unicodedata.name(ch, "").split()
        if words[:1] in (["FULLWIDTH"], ["HALFWIDTH"]):
            words = words[1:]
        if words and words[0] != "LATIN":
            counts[words[0]] += 1
    if not counts or sum(counts.values()) < OTHER_SCRIPT_SHARE * letters:
        return None
    script = counts.most_common(1)[0][0]
    return _SCRIPT_NAMES.get(script, script.title())


class LanguageCheck:
    """Counts the documents of an ingest by script; words the notice if one is due.

    ``models`` names the base's English-only models ("the embedder
    all-MiniLM-L6-v2"); with none, or once ``given``, it stays silent.
    """

    def __init__(self, models: Sequence[str], given: bool = False) -> None:
        self.models = tuple(models)
        self.active = bool(self.models) and not given
        self.scripts: Counter[str] = Counter()

    def see(self, doc: Document) -> None:
        if self.active and (script := dominant_script(doc.text)) is not None:
            self.scripts[script] += 1

    def notice(self) -> str | None:
        if not self.scripts:
            return None
        n = sum(self.scripts.values())
        scripts = ", ".join(s for s, _ in self.scripts.most_common())
        models = " and ".join(self.models)
        return (
            f"{n} document{'s are' if n > 1 else ' is'} written in {scripts} script, but "
            f"{models} {'read' if len(self.models) > 1 else 'reads'} English only: such "
            "passages are found mostly by their words (lexical search) and few of their "
            "entities are extracted. For other languages, build a new base with a "
            "multilingual sentence-transformers directory (--embedder PATH) and a spaCy "
            "pipeline for the language (--extractor NAME); see the README, "
            '"Other languages". This notice is given once per base.'
        )


def english_only_models(embedder: object, extractor: object) -> list[str]:
    """Descriptions of the models among these two that read English only."""
    out = []
    for role, model in (("the embedder", embedder), ("the spaCy pipeline", extractor)):
        if isinstance(model, Monolingual) and model.language == "en":
            out.append(f"{role} {model.model}")
    return out
