"""Follow-up questions rewritten into self-contained ones (the rules of a conversation).

:class:`FollowUpResolver` rewrites a follow-up ("Which university did she
attend?") from the turns before it; :class:`pipelines.conversation.Conversation`
keeps the turns and answers the rewritten question. What is rewritten, and why
by rules on the parse rather than by the model, is described there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kgqa.types import Answer
from pipelines.question_shape import (
    WH_WORDS,
    expected_type,
    merge_names,
    noun_type,
    tidy,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

Kind = Literal["person", "organisation", "place", "thing", "date", "number", "unknown"]
RewriteKind = Literal["none", "pronoun", "definite", "ellipsis", "other"]

#: Pronoun -> the kinds of referent it can stand for, best first.
PRONOUNS: dict[str, tuple[Kind, ...]] = {
    "he": ("person",), "she": ("person",), "him": ("person",), "her": ("person",),
    "his": ("person",), "hers": ("person",),
    "it": ("thing", "organisation", "place", "unknown"),
    "its": ("thing", "organisation", "place", "unknown"),
    "they": ("organisation", "person"), "them": ("organisation", "person"),
    "their": ("organisation", "person"),
}
_POSSESSIVE = frozenset({"his", "its", "their", "hers"})
_DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
_LABEL_KIND: dict[str, Kind] = {
    "PERSON": "person", "ORG": "organisation", "NORP": "organisation", "GPE": "place",
    "LOC": "place", "FAC": "place", "PRODUCT": "thing", "WORK_OF_ART": "thing",
    "EVENT": "thing", "LAW": "thing", "DATE": "date", "TIME": "date", "CARDINAL": "number",
    "QUANTITY": "number", "MONEY": "number", "PERCENT": "number",
}
_EXPECT_KIND: dict[str, Kind] = {
    "person": "person", "place": "place", "location": "place", "university": "organisation",
    "organisation": "organisation", "date": "date", "number": "number",
}
_NOUN_TAGS = frozenset({"NN", "NNS"})
_NAME_TAGS = frozenset({"NNP", "NNPS"})
_ELLIPSIS = re.compile(
    r"^\s*(?:(?:and|but|so|ok|okay)[,\s]+)?(?:(?:what|how)\s+about|and(?:\s+(?:for|of|in))?|"
    r"same\s+(?:for|question\s+for))\s+(?P<rest>.+?)\s*[?.!]*\s*$", re.I)
_LEAD = re.compile(r"^\s*(?:and|but|so|then|also)\b[,\s]*", re.I)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")


@dataclass(frozen=True)
class Referent:
    """Something a follow-up can refer to: an earlier answer or an entity of a question.

    ``text`` is how it is written into a question ("Adaeze Nwosu", "the
    Edinburgh office"); ``nouns`` the common nouns that describe it ("customer"
    for the answer to "Which customer ...?", "institute" for "Northmere
    Institute of Oceanography").
    """

    text: str
    kind: Kind
    nouns: tuple[str, ...] = ()
    source: Literal["answer", "step", "question"] = "question"


@dataclass(frozen=True)
class Rewrite:
    """A follow-up as understood: the self-contained question and what was replaced.

    ``replaced`` holds ``(words of the follow-up, what they stand for)`` pairs;
    ``kind`` is ``none`` when the question was left as it is. ``unresolved``
    holds the personal pronouns ("she", "his") that stand for no one: nobody
    named before them in the question or earlier in the conversation.
    """

    question: str
    kind: RewriteKind = "none"
    replaced: tuple[tuple[str, str], ...] = ()
    unresolved: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.kind != "none"


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and its answer.

    ``question`` is what was asked, ``understood_as`` the self-contained
    question that was answered ("" when it was asked as it stands).
    """

    question: str
    answer: Answer
    understood_as: str = ""

    @property
    def asked(self) -> str:
        """The self-contained question this turn answered."""
        return self.understood_as or self.question


class FollowUpResolver:
    """Rewrites follow-up questions from the turns before them (see the module docstring).

    ``nlp`` is a spaCy pipeline with a tagger and named entities, or a function
    that returns one (loaded on first use); ``is_name(text)`` whether a run of
    words is a name the graph knows; ``entity_label(name)`` the graph's label
    of a name (``PERSON``, ``ORG``...). ``lookback`` is how many earlier turns
    are searched for a referent.
    """

    def __init__(self, nlp: Language | Callable[[], Language], *,
                 is_name: Callable[[str], bool] | None = None,
                 entity_label: Callable[[str], str | None] | None = None,
                 lookback: int = 3) -> None:
        self._nlp = nlp
        self.is_name = is_name
        self.entity_label = entity_label
        self.lookback = lookback
        self._parsed: dict[str, Doc] = {}

    @property
    def nlp(self) -> Language:
        if not hasattr(self._nlp, "pipe_names"):
            self._nlp = self._nlp()
        return self._nlp  # type: ignore[return-value]

    def parse(self, text: str) -> Doc:
        """The tagged parse of ``text``, known names merged (kept for the last 64 texts)."""
        doc = self._parsed.get(text)
        if doc is None:
            doc = self.nlp(tidy(text))
            if self.is_name is not None:
                merge_names(doc, self.is_name)
            if len(self._parsed) >= 64:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[text] = doc
        return doc

    # -- the rewrite ---------------------------------------------------------------
    def rewrite(self, question: str, history: Sequence[Turn]) -> Rewrite:
        """``question`` as a self-contained question, given the earlier ``history``."""
        if not question.strip():
            return Rewrite(question)
        if not history:
            return Rewrite(question, unresolved=self._unresolved(self.parse(question), []))
        turns = list(history)[-self.lookback:][::-1]  # newest first
        ellipsis = self._ellipsis(question, turns[0])
        if ellipsis is not None:
            return ellipsis
        doc = self.parse(question)
        referents = [r for turn in turns for r in self.referents(turn)]
        edits = self._pronouns(doc, referents) + self._definites(doc, referents)
        if not edits:
            return Rewrite(question, unresolved=self._unresolved(doc, referents))
        edits.sort()
        text = doc.text
        out, at, replaced = [], 0, []
        for start, end, new, _kind in edits:
            if start < at:
                continue  # overlapping: the first one wins
            out.append(text[at:start])
            out.append(new)
            replaced.append((text[start:end], new))
            at = end
        out.append(text[at:])
        rewritten = _capitalise(tidy(_LEAD.sub("", "".join(out))))
        kinds = {e[3] for e in edits}
        return Rewrite(rewritten, "pronoun" if "pronoun" in kinds else "definite",
                       tuple(replaced))

    # -- referents -----------------------------------------------------------------
    def referents(self, turn: Turn) -> list[Referent]:
        """What a later question may refer to in ``turn``, most salient first."""
        out: list[Referent] = []
        ans = turn.answer
        asked = turn.asked
        text = ans.text.strip().rstrip(".")
        if not ans.abstained and text and text.lower() not in ("yes", "no"):
            out += self._answer_referents(text, asked)
        # a chain's hops (a bridge, or a described entity reread), not a comparison's values
        bridges = ans.steps[:-1] if ans.shape in ("bridge", "single") else ()
        for step in reversed(bridges):
            if step.abstained or not step.answer.strip():
                continue
            head = step.replaces.split()[1] if len(step.replaces.split()) > 1 else ""
            nouns = tuple(w.lower() for w in step.replaces.split() if w.islower())
            kind = _EXPECT_KIND.get(noun_type(head), "unknown") if head else "unknown"
            if kind == "unknown":
                kind = self._name_kind(step.answer, None)
            out.append(Referent(step.answer.strip(), kind, nouns, "step"))
        out += self._question_referents(self.parse(asked))
        seen: set[str] = set()
        unique = []
        for r in out:
            key = r.text.lower().removeprefix("the ")
            if key not in seen:
                seen.add(key)
                unique.append(r)
        return unique

    def _answer_referents(self, text: str, asked: str) -> list[Referent]:
        expects = expected_type(asked)
        label = self._label(text)
        kind = _EXPECT_KIND.get(expects)
        if kind is None or (kind == "organisation" and label in ("GPE", "LOC")):
            kind = self._name_kind(text, label)
        nouns = _wh_nouns(asked) + tuple(w.lower() for w in text.split())
        if len(text.split()) > 8:  # a sentence, not a name: only the names in it
            return [Referent(p.text, p.kind, p.nouns, "answer")
                    for p in self._question_referents(self.parse(text))]
        if text.split()[-1].islower() and not text.lower().startswith("the "):
            text = "the " + text  # "Edinburgh office" -> "the Edinburgh office"
        main = Referent(text, kind, nouns, "answer")
        parts = [Referent(p.text, p.kind, p.nouns, "answer")
                 for p in self._question_referents(self.parse(text)) if p.text != text]
        if label in ("GPE", "LOC"):
            # "Which office ...?" -> "Edinburgh": the Edinburgh office, and Edinburgh
            noun = next((n for n in _wh_nouns(asked) if noun_type(n) != "place"), None)
            if noun is not None and noun not in text.lower():
                main = Referent(f"the {text} {noun}", "organisation", nouns, "answer")
                parts.insert(0, Referent(text, "place", (), "answer"))
        return [main, *parts]

    def _question_referents(self, doc: Doc) -> list[Referent]:
        out = []
        for start, end, head in _name_phrases(doc):
            words = doc[start:end]
            text = words.text
            name = " ".join(t.text for t in words if t.lower_ != "the" and not (
                t.is_lower and t.tag_ in _NOUN_TAGS | {"JJ", "CD"})).strip()
            label = self._label(name) or self._label(text)
            if label is None and head is not None:
                label = next((e.label_ for e in doc.ents if e.start <= head < e.end), None)
            if head is not None and doc[head].is_lower:
                kind: Kind = _EXPECT_KIND.get(noun_type(doc[head].lower_), "thing")
            else:
                kind = self._name_kind(name, label)
            nouns = tuple(t.lower_ for t in words if t.lower_ != "the")
            out.append(Referent(text, kind, nouns, "question"))
            inner = [t for t in words if t.tag_ in _NAME_TAGS]
            if head is not None and doc[head].is_lower and inner:
                part = " ".join(t.text for t in inner)
                part_label = self._label(part)
                if part_label in ("GPE", "LOC", "PERSON"):
                    out.append(Referent(part, self._name_kind(part, part_label), (), "question"))
        return out

    def _label(self, name: str) -> str | None:
        if self.entity_label is None or not name.strip():
            return None
        return self.entity_label(name)

    def _name_kind(self, name: str, label: str | None) -> Kind:
        if label is None:
            label = self._label(name)
        if label is None:
            ents = self.nlp(name).ents
            label = ents[0].label_ if len(ents) == 1 and ents[0].text == name else None
        if _YEAR.fullmatch(name.strip()):
            return "date"
        return _LABEL_KIND.get(label or "", "unknown")

    # -- pronouns and definite references -----------------------------------------------
    def _pronouns(self, doc: Doc, referents: list[Referent]) -> list[tuple[int, int, str, str]]:
        edits = []
        for tok in doc:
            kinds = PRONOUNS.get(tok.lower_)
            if kinds is None or tok.tag_ not in ("PRP", "PRP$"):
                continue
            if _has_antecedent(doc, tok, kinds, self):
                continue
            ref = _pick(referents, kinds)
            if ref is None:
                continue
            possessive = tok.lower_ in _POSSESSIVE or (tok.lower_ == "her" and tok.tag_ == "PRP$")
            new = _possessive(ref.text) if possessive else ref.text
            edits.append((tok.idx, tok.idx + len(tok.text), new, "pronoun"))
        return edits

    def _unresolved(self, doc: Doc, referents: list[Referent]) -> tuple[str, ...]:
        """The personal pronouns of ``doc`` that nothing before them can stand for.

        Only "he/she/him/her/his/hers": "it" and "they" are often impersonal
        ("How far is it from Porto to Braga?").
        """
        out = []
        for tok in doc:
            kinds = PRONOUNS.get(tok.lower_)
            if kinds != ("person",) or tok.tag_ not in ("PRP", "PRP$"):
                continue
            if not _has_antecedent(doc, tok, kinds, self) and _pick(referents, kinds) is None:
                out.append(tok.text)
        return tuple(out)

    def _definites(self, doc: Doc, referents: list[Referent]) -> list[tuple[int, int, str, str]]:
        edits = []
        names_in_question = any(t.tag_ in _NAME_TAGS and not t.is_lower for t in doc)
        tokens = list(doc)
        for i, tok in enumerate(tokens):
            demonstrative = tok.lower_ in _DEMONSTRATIVES
            if not demonstrative and tok.lower_ != "the":
                continue
            if i > 0 and (tokens[i - 1].tag_ in _NOUN_TAGS | _NAME_TAGS or
                          tokens[i - 1].lower_ in WH_WORDS):
                continue  # "the product that ...": a relative pronoun; "which the"
            j = i + 1
            while j < len(tokens) and tokens[j].tag_ in ("JJ", "JJS", "VBN") and tokens[j].is_lower:
                j += 1
            if j >= len(tokens) or tokens[j].tag_ not in _NOUN_TAGS or not tokens[j].is_lower:
                continue
            while j + 1 < len(tokens) and tokens[j + 1].tag_ in _NOUN_TAGS and \
                    tokens[j + 1].is_lower and tokens[j + 1].tag_ != "POS":
                j += 1  # "that research institute"
            head = tokens[j]
            noun = head.lemma_.lower() if head.tag_ == "NNS" else head.lower_
            if not demonstrative:
                # a bare "the city": only in a question that names nothing, and only
                # when nothing restricts it ("the team that built ...", "the city of ...")
                nxt = tokens[j + 1] if j + 1 < len(tokens) else None
                if names_in_question or (nxt is not None and (
                        nxt.lower_ in ("of", "who", "that", "which", "whose", "where", "in",
                                       "at", "for", "from", "with") or nxt.tag_ in
                        ("VBN", "VBG", "WDT", "WP"))):
                    continue
            ref = _pick_for_noun(referents, noun, strict=not demonstrative)
            if ref is None:
                continue
            start, end = tok.idx, head.idx + len(head.text)
            edits.append((start, end, ref.text, "definite"))
        return edits

    # -- ellipsis ------------------------------------------------------------------------
    def _ellipsis(self, question: str, last: Turn) -> Rewrite | None:
        m = _ELLIPSIS.match(question)
        if m is None:
            return None
        rest = m.group("rest").strip()
        frag = self.parse(rest)
        if any(t.tag_.startswith(("VB", "MD")) and t.tag_ not in ("VBN", "VBG") for t in frag) \
                or any(t.lower_ in WH_WORDS for t in frag):
            return None  # "And where was she born?": a question of its own
        previous = last.asked
        prev = self.parse(previous)
        new = re.sub(r"^(?:in|for|of|at)\s+", "", rest, flags=re.I)
        if _YEAR.fullmatch(new) or any(e.label_ == "DATE" and e.text == new for e in frag.ents):
            span = _date_span(prev)
            if span is None:
                body = previous.rstrip().rstrip("?").rstrip()
                text = tidy(f"{body} in {new}?")
            else:
                text = tidy(previous[: span[0]] + new + previous[span[1]:])
            return Rewrite(text, "ellipsis", ((question, text),))
        target = self._matching_phrase(prev, frag, new)
        if target is None:
            return None
        start, end = target
        text = _capitalise(tidy(previous[:start] + new + previous[end:]))
        return Rewrite(text, "ellipsis", ((question, text),))

    def _matching_phrase(self, prev: Doc, frag: Doc, new: str) -> tuple[int, int] | None:
        """Character span of the phrase of ``prev`` that ``new`` takes the place of."""
        phrases = [(s, e, h) for s, e, h in _name_phrases(prev) if not _in_wh(prev, s)]
        if not phrases:
            return None
        frag_words = [t for t in frag if not t.is_punct]
        frag_head = frag_words[-1].lower_ if frag_words and frag_words[-1].is_lower else None
        new_label = self._label(re.sub(r"^the\s+", "", new, flags=re.I))
        new_kind = self._name_kind(new, new_label) if not frag_head else "unknown"

        def score(phrase: tuple[int, int, int | None]) -> tuple[int, int]:
            s, e, h = phrase
            head = prev[h].lower_ if h is not None and prev[h].is_lower else None
            if frag_head and head == frag_head:
                return (3, -s)
            name = " ".join(t.text for t in prev[s:e] if t.lower_ != "the")
            if not frag_head and not head and new_kind != "unknown" and \
                    self._name_kind(name, None) == new_kind:
                return (2, -s)
            return (1 if not frag_head and not head else 0, -s)

        best = max(phrases, key=score)
        if score(best)[0] == 0 and len(phrases) > 1:
            return None
        s, e, _ = best
        return prev[s].idx, prev[e - 1].idx + len(prev[e - 1].text)


# -- helpers -----------------------------------------------------------------------------
def _pick(referents: Sequence[Referent], kinds: Sequence[Kind]) -> Referent | None:
    """The first referent (newest, most salient) of the best-ranked fitting kind."""
    for kind in kinds:
        for r in referents:
            if r.kind == kind:
                return r
    return None


def _pick_for_noun(referents: Sequence[Referent], noun: str, strict: bool) -> Referent | None:
    """The referent a definite "that ``noun``" stands for: the noun itself, else its type."""
    for r in referents:
        if noun in r.nouns or noun + "s" in r.nouns:
            return r
    wanted = _EXPECT_KIND.get(noun_type(noun))
    if wanted is None or (strict and wanted != "place"):
        return None
    return _pick(referents, (wanted,))


def _has_antecedent(doc: Doc, pronoun: Token, kinds: Sequence[Kind],
                    resolver: FollowUpResolver) -> bool:
    """A name before ``pronoun`` in the question itself that it may stand for."""
    before = [t for t in doc[: pronoun.i] if t.tag_ in _NAME_TAGS and not t.is_lower]
    if not before:
        return False
    if kinds[0] != "person":
        return True  # "its", "they" after any name
    return any(resolver._name_kind(t.text, None) in ("person", "unknown") for t in before)


def _name_phrases(doc: Doc) -> list[tuple[int, int, int | None]]:
    """Token spans of the noun phrases that hold a name: ``(start, end, head)``.

    "the Edinburgh office" (head "office"), "the Driftline Buoy", "Stratwell
    Instruments", "2021" is not one (see :func:`_date_span`). A leading "the"
    is part of the span.
    """
    tokens = list(doc)
    out: list[tuple[int, int, int | None]] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if not (t.tag_ in _NAME_TAGS and not t.is_lower) or t.lower_ in WH_WORDS:
            i += 1
            continue
        j = i
        while j < len(tokens) and ((tokens[j].tag_ in _NAME_TAGS and not tokens[j].is_lower) or (
                tokens[j].tag_ == "CD" and j > i) or tokens[j].tag_ == "HYPH"):
            j += 1
        head: int | None = j - 1
        if j < len(tokens) and tokens[j].tag_ in _NOUN_TAGS and tokens[j].is_lower:
            while j < len(tokens) and tokens[j].tag_ in _NOUN_TAGS and tokens[j].is_lower:
                j += 1
            head = j - 1
        start = i
        while start > 0 and tokens[start - 1].tag_ in ("JJ", "CD") and tokens[start - 1].is_lower:
            start -= 1
        if start > 0 and tokens[start - 1].lower_ == "the":
            start -= 1
        elif start > 0 and tokens[start - 1].tag_ == "CD":
            start -= 1  # "40 Driftline Buoys"
        if j < len(tokens) and tokens[j].tag_ == "POS":
            head = None if head == j - 1 and not tokens[head].is_lower else head
        out.append((start, j, head))
        i = j
    return out


def _in_wh(doc: Doc, start: int) -> bool:
    return start > 0 and doc[start - 1].lower_ in WH_WORDS


def _date_span(doc: Doc) -> tuple[int, int] | None:
    """Character span of the last date of a question ("2021", "in March 2021" -> "March 2021")."""
    dates = [e for e in doc.ents if e.label_ == "DATE" and not any(
        t.lower_ in WH_WORDS for t in e)]
    if dates:
        e = dates[-1]
        return e.start_char, e.end_char
    years = list(_YEAR.finditer(doc.text))
    if years:
        return years[-1].start(), years[-1].end()
    return None


def _wh_nouns(question: str) -> tuple[str, ...]:
    """The noun of the question's wh-phrase: ("customer",) for "Which customer bought ...?"."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", question)
    for i, w in enumerate(words):
        if w.lower() in ("which", "what", "whose"):
            for noun in words[i + 1 : i + 3]:
                if noun.islower() and noun_type(noun) != "any":
                    return (noun.lower(),)
            return ()
        if w.lower() in ("who", "whom"):
            return ("person",)
    return ()


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") and not name.endswith("ss") else "'s")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
