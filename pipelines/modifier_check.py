"""Is a "yes" said of the option? The check behind "Are A and B both American directors?".

A small reader answers "Is Géza von Cziffra an American director?" with "yes"
from a passage that calls him a Hungarian and Austrian film director: it hears
"director" and agrees. For a "both" question the pipeline asks each option in
turn (:mod:`pipelines.comparison`); an option's "yes" then stands only if the
evidence about that option says what qualifies the noun:

- the modifiers are the predicate's nationality adjectives ("American",
  "Hungarian", "Québécois") and participles ("animated"); other words that
  qualify the noun ("film" directors, "Nobel Prize" winners) are not checked;
- a participle is said by the word or a word of its stem ("computer-animation");
  a nationality by the word, its stem ("Italian", "Italy") or its country named
  otherwise ("American": "the United States", "U.S.", "US"; "British":
  "England", "UK"), accents aside;
- the evidence about an option is the passage titled with its name and the
  sentences that begin with it and say more than the name (a heading is none;
  "Carlos Ortega, a Spanish engineer, works with Maria Lindqvist" says nothing
  of Maria's nationality).

A participle the evidence about the option does not say turns its "yes" to
"no". A nationality does only when that evidence names another one
("Hungarian and Austrian film director" for "American"): a passage that says
"from Ukraine" or "born in Ghent" may say it in words no list holds. Without
evidence about the option, the reader's answer stands.

>>> modifiers(["American", "film"]), modifiers(["computer-animated"])
(('American',), ('computer-animated',))
>>> lacks("American", ["Géza von Cziffra was a Hungarian and Austrian film director."])
True
>>> lacks("American", ["Tom Reid is a film director from the US."])  # no other nationality
False
>>> lacks("British", ["The magazine is published in London, England."])
False
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kgqa.text import strip_accents
from llm.grounding import sentence_spans

# nationalities whose country is named otherwise (lower case; a stem match covers the rest:
# "Italian" / "Italy", "Canadian" / "Canada")
_COUNTRY_WORDS = {
    "american": ("united states", "u.s.", "u.s.a.", "usa", "US"),
    "british": ("britain", "united kingdom", "u.k.", "UK", "england", "english", "scotland",
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
    "filipino": ("philippines", "philippine"),
    "brazilian": ("brazil", "brasil"),
    "belgian": ("belgium",),
    "ukrainian": ("ukraine",),
    "lebanese": ("lebanon",),
    "peruvian": ("peru",),
    "afghan": ("afghanistan",),
    "cypriot": ("cyprus",),
    "argentinian": ("argentina", "argentine"),
    "portuguese": ("portugal",),
    "argentine": ("argentina", "argentinian"),
}
_ENDINGS = frozenset({"", "s", "es", "d", "ed", "ing", "ion", "ions", "ation", "n", "an", "ian",
                      "ians", "ese", "ish", "i", "a", "o", "y", "al", "ic", "ical"})
_ALIASES = {"us": "american", "u.s.": "american", "usa": "american", "u.s.a.": "american",
            "uk": "british", "u.k.": "british"}  # modifiers written as the country
_PAREN = re.compile(r"\s*\([^)]*\)\s*$")  # "Frozen (2013 film)"
# a nationality adjective: one of the table's, or a capitalised word with a demonym's ending
_DEMONYM_WORD = re.compile(
    rf"[A-Z][a-z]+(?:an|ese|ish|i|ois|oise)|{'|'.join(k.title() for k in _COUNTRY_WORDS)}")
# ... as one stands before what it qualifies ("Hungarian and Austrian film director"), not
# as part of a name ("Jonathan Reid") or a possessive ("Woman's")
_DEMONYM = re.compile(rf"\b(?:{_DEMONYM_WORD.pattern})(?=(?:[\s-]+(?:and\s+)?)[a-zA-Z])"
                      rf"(?![\s-]+[A-Z][a-z]+\b(?<!and))")


def modifiers(words: Sequence[str]) -> tuple[str, ...]:
    """The modifiers to check among the words before a predicate's noun (see above)."""
    out = []
    for w in words:
        if "'" in w or "\u2019" in w:
            continue  # a possessive ("Hale's children") qualifies by owner, not kind
        if is_nationality(w) or (len(w) > 4 and w.endswith("ed") and w.replace("-", "").isalpha()):
            out.append(w)
    return tuple(out)


def is_nationality(word: str) -> bool:
    """Whether ``word`` is a nationality adjective ("Welsh", "Hungarian", "U.S.")."""
    parts = [strip_accents(p) for p in word.split("-") if p]
    return bool(parts) and word[:1].isupper() and all(
        p.lower() in _COUNTRY_WORDS or p.lower() in _ALIASES or _DEMONYM_WORD.fullmatch(p)
        for p in parts
    )


def lacks_modifiers(mods: Sequence[str], option: str, passages: Sequence[tuple[str, str]]) -> bool:
    """True when ``passages`` (``(title, text)``) hold evidence about ``option`` and it
    does not say one of ``mods``; False without such evidence (nothing to check)."""
    if not mods:
        return False
    about = _about(option, passages)
    return bool(about) and any(lacks(m, about) for m in mods)


def lacks(modifier: str, texts: Sequence[str]) -> bool:
    """Whether ``texts`` fail to say ``modifier`` (every part of a hyphenated word), as
    the module docstring says: a nationality only when they name another one."""
    raw = strip_accents("\n".join(texts))
    text = raw.lower()
    words = set(re.findall(r"[a-z]+", text))
    parts = [p for p in modifier.split("-") if p]
    if all(_said(p, raw, text, words) for p in parts):
        return False
    if not is_nationality(modifier):
        return True  # a participle
    asked = {strip_accents(p).lower() for p in parts}
    return bool(_nationalities(raw) - asked)


def _nationalities(text: str) -> set[str]:
    """The nationality adjectives ``text`` uses, lower case; not a word of a name
    ("Christopher Nolan is": a capitalised word before it that is no nationality)."""
    out = set()
    for m in _DEMONYM.finditer(text):
        before = text[: m.start()].split()
        if text[m.start() - 1 : m.start()] == "-" or not before or not before[-1][:1].isupper():
            out.add(m.group(0).lower())  # "a Hungarian", "French-Canadian"
    return out


def _said(word: str, raw: str, text: str, words: set[str]) -> bool:
    w = strip_accents(word).lower()
    w = _ALIASES.get(w, w)
    if w in _COUNTRY_WORDS:
        for form in (w, *_COUNTRY_WORDS[w]):
            hay, f = (raw, form) if form.isupper() else (text, form)  # "US", "UK": as written
            if re.search(rf"(?<![\w.]){re.escape(f)}(?!\w)", hay):
                return True
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
            out.append(re.sub(r"(?m)^\s*#+.*$", "", text))  # its headings say nothing
            continue
        for s, e in sentence_spans(text):
            said = _norm(text[s:e])
            if said.startswith(key + " ") and len(said.split()) >= len(key.split()) + 3:
                out.append(text[s:e])  # begins with the name and says more than a heading
    return out


def _norm(text: str) -> str:
    text = re.sub(r"[-_\s]+", " ", strip_accents(text).replace("\u2019", "'").lower()).strip(" #*")
    return text[4:] if text.startswith("the ") else text
