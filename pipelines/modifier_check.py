"""Is a "yes" said of the option? The check behind "Are A and B both American directors?".

A small reader answers "Is Géza von Cziffra an American director?" with "yes"
from a passage that calls him a Hungarian and Austrian film director: it hears
"director" and agrees. For a "both" question the pipeline asks each option in
turn (:mod:`pipelines.comparison`); an option's "yes" then stands only if the
evidence about that option says what qualifies the noun:

- the modifiers are the predicate's proper adjectives ("American", "Nobel
  Prize": a run of capitalised words is one modifier, any of its words will
  do; "Italian-American": each part) and participles ("animated"); noun
  modifiers ("film" directors, "board" games) are not checked, since "an
  American director" is a film director;
- a modifier is said by the word itself, a word of the same stem ("animated"
  and "animation", "Italian" and "Italy": a common beginning of four letters
  or more, the rest a usual ending), or, for a nationality whose country is
  named otherwise, the country ("American": "the United States", "U.S.";
  "British": "England", "the United Kingdom"; "Dutch": "the Netherlands");
- the evidence about an option is the passages titled with its name and the
  sentences that begin with it, not every passage that names it ("Carlos
  Ortega, a Spanish engineer, works with Maria Lindqvist" says nothing of
  Maria's nationality).

When such evidence is found and it does not say a modifier, the "yes" becomes
"no"; when there is none, the reader's answer stands.

>>> modifiers(["American", "film"]), modifiers(["computer-animated"])
(('American',), ('computer-animated',))
>>> lacks("American", ["Géza von Cziffra was a Hungarian and Austrian film director."])
True
>>> lacks("British", ["The magazine is published in London, England."])
False
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llm.grounding import sentence_spans

# nationalities whose country is named otherwise (lower case; a stem match covers the rest:
# "Italian" / "Italy", "Canadian" / "Canada")
_COUNTRY_WORDS = {
    "american": ("america", "united states", "u.s.", "u.s.a.", "usa"),
    "british": ("britain", "united kingdom", "u.k.", "uk", "england", "english", "scotland",
                "scottish", "wales", "welsh", "northern ireland"),
    "english": ("england",),
    "scottish": ("scotland", "scots"),
    "welsh": ("wales",),
    "irish": ("ireland",),
    "french": ("france",),
    "spanish": ("spain",),
    "dutch": ("netherlands", "holland"),
    "swiss": ("switzerland",),
    "danish": ("denmark",),
    "swedish": ("sweden",),
    "finnish": ("finland",),
    "norwegian": ("norway",),
    "polish": ("poland",),
    "greek": ("greece",),
    "turkish": ("turkey",),
    "thai": ("thailand",),
    "filipino": ("philippines",),
    "portuguese": ("portugal",),
    "argentine": ("argentina",),
}
_ENDINGS = frozenset({"", "s", "es", "d", "ed", "ing", "ion", "ions", "ation", "n", "an", "ian",
                      "ians", "ese", "ish", "i", "a", "o", "y", "al", "ic", "ical"})
_PAREN = re.compile(r"\s*\([^)]*\)\s*$")  # "Frozen (2013 film)"


def modifiers(words: Sequence[str]) -> tuple[str, ...]:
    """The modifiers to check among the words before a predicate's noun (see above)."""
    out: list[str] = []
    run: list[str] = []
    for w in words:
        if w[:1].isupper():
            run.append(w)
            continue
        if run:
            out.append(" ".join(run))
            run = []
        if len(w) > 4 and w.endswith("ed") and w.replace("-", "").isalpha():
            out.append(w)
    if run:
        out.append(" ".join(run))
    return tuple(out)


def lacks_modifiers(mods: Sequence[str], option: str, passages: Sequence[tuple[str, str]]) -> bool:
    """True when ``passages`` (``(title, text)``) hold evidence about ``option`` and it
    does not say one of ``mods``; False without such evidence (nothing to check)."""
    if not mods:
        return False
    about = _about(option, passages)
    return bool(about) and any(lacks(m, about) for m in mods)


def lacks(modifier: str, texts: Sequence[str]) -> bool:
    """Whether none of ``texts`` says ``modifier`` (any word of a capitalised run; every
    part of a hyphenated word)."""
    text = "\n".join(texts).lower()
    words = set(re.findall(r"[a-z]+", text))
    if modifier[:1].isupper() and " " in modifier:
        return not any(_said(w, text, words) for w in modifier.split())
    return not all(_said(part, text, words) for part in modifier.split("-") if part)


def _said(word: str, text: str, words: set[str]) -> bool:
    w = word.lower()
    if w in _COUNTRY_WORDS:
        forms = (w, *_COUNTRY_WORDS[w])
        return any(re.search(rf"(?<![\w.]){re.escape(f)}(?![\w])", text) for f in forms)
    return any(_same_stem(w, x) for x in words)


def _same_stem(a: str, b: str) -> bool:
    if a == b:
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4 and a[n:] in _ENDINGS and b[n:] in _ENDINGS


def _about(option: str, passages: Sequence[tuple[str, str]]) -> list[str]:
    """The texts about ``option``: passages titled with it, sentences that begin with it."""
    key = _norm(option)
    if not key:
        return []
    out = []
    for title, text in passages:
        if _norm(_PAREN.sub("", title)) == key:
            out.append(text)
            continue
        out += [text[s:e] for s, e in sentence_spans(text)
                if (_norm(text[s:e]) + " ").startswith(key + " ")]  # fmt: skip
    return out


def _norm(text: str) -> str:
    text = re.sub(r"[-_\s]+", " ", text.replace("\u2019", "'").lower()).strip(" #*")
    return text[4:] if text.startswith("the ") else text
