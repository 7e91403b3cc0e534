"""Question analysis: the shape of a question, its expected answer type, its bridge.

A multi-hop ("bridge") question names something only by description: "Which
university did *the designer of the Kestrel Station* attend?". The phrase in
italics is the bridge; it is answered first, as a question of its own ("Who is
the designer of the Kestrel Station?"), and its answer is put in its place
("Which university did Adaeze Nwosu attend?"). Bridges nest (musique's
questions chain up to four facts); :func:`analyse` finds the innermost one, so
applying it again to the rewritten question walks the chain::

    >>> q = "Which university did the designer of the Kestrel Station attend?"
    >>> shape = analyse(nlp, q)                                       # doctest: +SKIP
    >>> shape.kind, shape.expects, shape.bridge.phrase, shape.bridge.question  # doctest: +SKIP
    ('bridge', 'university', 'the designer of the Kestrel Station',
     'Who is the designer of the Kestrel Station?')
    >>> shape.bridge.substitute("Adaeze Nwosu")                       # doctest: +SKIP
    'Which university did Adaeze Nwosu attend?'

Shapes: ``bridge`` (a described entity the question depends on), ``comparison``
("which ... first/more, A or B", "both"), ``yes_no`` ("Is ...", "Did ...") and
``single`` (everything else: the question names what it asks about).

How a bridge is found, on the spaCy parse (tags, not the dependency labels,
which the small English pipeline gets wrong more often on questions):

1. candidates start at a determiner ("the", "a") or at a name with a possessive
   ("Hello Love's performer") outside the question's wh-phrase;
2. the candidate's head noun is followed by a link: "of" + a noun phrase, a
   relative clause ("who ran ...", "that hosted ...", "where ... is found",
   "whose launch ..."), or a participle ("launched at ...", "most affected by");
   a possessive is a link of its own;
3. it ends where that noun phrase or clause ends: at the question's main verb
   after the subject of "did/is ... ?" questions, at a comma, or at the end;
4. it must contain a name (a capitalised word after its first word) and must not
   contain the wh-word; its head noun must denote a thing that has a name (not
   "the name of", "the population of", "the east of");
5. the innermost (shortest) candidate wins. The whole attribute of "Who/What
   is ...?" is not a bridge: it is what the question asks.

The rewrite to a sub-question is a template: "Who ran X?" for "the person who
ran X", "Which office hosted X?" for "the office that hosted X", else "Who is
NP?" for a person-like head ("designer", "sponsor") and "What is NP?" otherwise.
With the default 0.5B reader a model-written decomposition was tried first and
not kept: asked to copy the bridge phrase or to write the first sub-question
(five worked examples), it returned a valid one for 1 of 15 demo bridges.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pipelines.answer_type import AnswerType, expected_type, is_person_noun, noun_type
from pipelines.comparison import (
    ComparisonPlan,
    YesNoPlan,
    plan_comparison,
    plan_than,
    plan_yes_no,
)
from pipelines.coverage import AnswerDescription, answer_description
from pipelines.described import Description, descriptions
from pipelines.question_parts import AUX as _AUX
from pipelines.question_parts import BE as _BE
from pipelines.question_parts import PARTICIPLE_TAGS as _PARTICIPLE_TAGS
from pipelines.question_parts import RELATIVE as _RELATIVE
from pipelines.question_parts import (
    WH_WORDS,
    VerbWords,
    clause_end,
    head_after,
    phrase_end,
    reduced_relative,
    subject_end,
    verb_words,
    wh_phrase,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

ShapeKind = Literal["bridge", "comparison", "yes_no", "single"]
_DETERMINERS = frozenset({"the", "a", "an"})
#: Head nouns that do not denote a named thing: "the name of X" is not a bridge.
_NOT_ENTITY_HEADS = frozenset({
    "name", "names", "number", "type", "kind", "sort", "part", "rest", "population", "size",
    "year", "years", "date", "time", "amount", "percentage", "term", "length", "height",
    "east", "west", "north", "south", "side", "end", "beginning", "start", "middle", "top",
    "bottom", "first", "second", "last", "basis", "title", "role", "position", "account",
    "genre", "language", "age", "share", "majority", "area", "total", "version", "edition",
    "member", "members", "one", "most", "best", "many", "much", "capacity", "debt", "nickname",
    "theme", "subject", "topic", "cost", "price", "value", "budget", "revenue", "output",
    "focus", "aim", "goal", "purpose", "reason", "cause", "result", "effect", "meaning",
    "signing", "launch", "release", "opening", "founding", "death", "birth", "history",
    "summer", "winter", "spring", "autumn", "fall", "season", "period", "week", "month",
    "decade", "century", "era", "day", "night", "morning", "evening", "weekend", "unit", "units",
    "contract", "agreement", "deal", "terms", "licence", "license", "salary", "fee", "score",
})
_GENERIC_PERSON = frozenset({"person", "man", "woman", "people", "one", "individual", "guy",
                             "lady", "someone", "persons", "men", "women"})


@dataclass(frozen=True)
class Bridge:
    """A described entity a question depends on, and how to ask for it.

    ``start``/``end`` are character offsets of ``phrase`` in ``question``.
    """

    question: str  # the sub-question that finds the bridge entity
    phrase: str  # the words of the original question that describe it
    start: int
    end: int
    expects: AnswerType  # the kind of entity the phrase describes
    source: str  # the question the phrase was found in
    joint: str = ""  # words put after the answer ("was": "Trent Reznor was born in ...")

    def substitute(self, answer: str) -> str:
        """The source question with the phrase replaced by ``answer`` (capitalised when it
        opens the question: "the Harbour Guild" -> "The Harbour Guild was founded ...")."""
        if self.start == 0:
            answer = answer[:1].upper() + answer[1:]
        return tidy(self.source[: self.start] + answer + self.joint + self.source[self.end :])


@dataclass(frozen=True)
class QuestionShape:
    """What :func:`analyse` found: the shape, the expected answer, the bridge if any."""

    question: str
    kind: ShapeKind
    expects: AnswerType
    bridge: Bridge | None = None
    comparison: ComparisonPlan | None = None  # how to compare, for "..., A or B?"
    pair: YesNoPlan | None = None  # how to check, for "Are A and B both N?"
    # Noun phrases that describe another entity than the answer ("a painter known for
    # ..."): an answer that is one of them is a hop, not the answer (pipelines.described).
    described: tuple[Description, ...] = ()
    # What the question says of its answer, when it describes it ("Which comedy produced
    # by X had ...?"): the reader's pick is checked against the other candidates
    # (pipelines.coverage).
    describes_answer: AnswerDescription | None = None


def analyse(nlp: Language, question: str,
            is_name: Callable[[str], bool] | None = None,
            label: Callable[[str], str | None] | None = None) -> QuestionShape:
    """The shape of ``question`` (see the module docstring), from ``nlp``'s parse.

    ``nlp`` is a spaCy pipeline with a tagger (any English pipeline of spaCy 3).
    ``is_name(text)`` says whether a run of words is a known entity name (an
    alias in the knowledge graph): such a run is one name to the analysis, so a
    title such as "Songs I Wrote with Amy" or "The Girl Who Kicked the Hornets'
    Nest" is never cut inside. ``label(name)`` gives the graph's label of an
    entity, for comparisons by age ("Which is older, A or B?").
    """
    question = unembedded(tidy(question))
    doc = nlp(question)
    if is_name is not None:
        merge_names(doc, is_name)
    expects = expected_type(question, doc)
    if _is_yes_no(doc):
        than = plan_than(nlp, question, label)  # "Is A older than B?"
        if than is not None:
            return QuestionShape(question, "comparison", "yes_no", comparison=than)
        kind: ShapeKind = "comparison" if _is_comparison(question, doc) else "yes_no"
        return QuestionShape(question, kind, "yes_no", pair=plan_yes_no(question))
    tokens = list(doc)
    wh = wh_phrase(tokens)
    describes = answer_description(tokens, wh)
    plan = plan_comparison(nlp, question, label)  # "the founding of X or the founding of Y"
    if plan is not None or _is_comparison(question, doc):
        return QuestionShape(question, "comparison", expects, comparison=plan,
                             describes_answer=None if plan is not None or " or " in question
                             else describes)
    described = descriptions(tokens, wh, _NOT_ENTITY_HEADS | _GENERIC_PERSON)
    bridge = find_bridge(doc, verb_words(nlp))
    kind = "bridge" if bridge is not None else "single"
    return QuestionShape(question, kind, expects, bridge, described=described,
                         describes_answer=describes)


def merge_names(doc: Doc, is_name: Callable[[str], bool], longest: int = 16) -> None:
    """Merge each run of 2..``longest`` tokens that ``is_name`` knows into one proper noun.

    Runs start and end with a capitalised word or a number and do not cross a
    sentence end; longer runs win, and a run inside a longer one is left alone.
    """
    tokens = list(doc)
    taken = [False] * len(tokens)
    spans = []
    for n in range(min(longest, len(tokens)), 1, -1):
        for i in range(len(tokens) - n + 1):
            first, last = tokens[i], tokens[i + n - 1]
            if any(taken[i : i + n]) or not (first.is_title or first.is_upper or first.like_num):
                continue
            if not (last.is_title or last.is_upper or last.like_num or last.text in (")", '"')):
                continue
            if any(t.text in ("?", ".", "!", ";") for t in tokens[i : i + n]):
                continue
            if is_name(doc[i : i + n].text):
                spans.append(doc[i : i + n])
                taken[i : i + n] = [True] * n
    if spans:
        with doc.retokenize() as retokenizer:
            for span in spans:
                retokenizer.merge(span, attrs={"TAG": "NNP"})


_EMBEDDING = re.compile(
    r"^(?:(?:please|so)\s*,?\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|show)"
    r"\s+me|(?:please\s+)?tell\s+me|do\s+you\s+know|i\s+(?:want|would\s+like|need)\s+to\s+know)"
    r"\s*,?\s+(?=(?:who|whom|whose|what|which|where|when|how)\b)", re.I)


def unembedded(question: str) -> str:
    """The question a request wraps: "Tell me where X's editor went to university." ->
    "Where X's editor went to university?" (the words after it keep their order).

    >>> unembedded("Can you tell me which office Ada Lee works at?")
    'Which office Ada Lee works at?'
    """
    m = _EMBEDDING.match(question)
    if m is None:
        return question
    rest = question[m.end():].rstrip(" .?!")
    return f"{rest[:1].upper()}{rest[1:]}?"


def tidy(text: str) -> str:
    """One space between words, no space before ``?``/``,``."""
    text = " ".join(text.split())
    return re.sub(r"\s+([?,.;:!])", r"\1", text)


# -- shapes --------------------------------------------------------------------
def _is_yes_no(doc: Doc) -> bool:
    """A sentence of the question opens with an auxiliary verb ("Is ...", "Does ...")."""
    for sent in doc.sents:
        words = [t for t in sent if not t.is_punct]
        if words and words[0].lower_ in _AUX and not any(
                t.lower_ in WH_WORDS and t.tag_.startswith("W") for t in words[:3]):
            return True
    return False


def _is_comparison(question: str, doc: Doc) -> bool:
    """"A or B" between two names or noun phrases, "both", "same", "between A and B"."""
    low = question.lower()
    if re.search(r"\bboth\b|\bthe same\b|\bbetween\b.+\band\b|\beither\b|\bneither\b", low):
        return True
    ors = [t for t in doc if t.lower_ == "or"]
    for t in ors:
        if re.search(r"\bthan\s+[^,]*$", doc[: t.i].text, re.I):
            continue  # "What is older than A or B?" offers no choice between them
        left = doc[max(0, t.i - 4) : t.i]
        right = doc[t.i + 1 : t.i + 5]
        if any(x.tag_ in ("NNP", "NNPS") or x.is_title for x in left) and any(
            x.tag_ in ("NNP", "NNPS") or x.is_title for x in right
        ):
            return True
    return False


# -- bridges ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Candidate:
    start: int  # token index of the first word
    head: int  # token index of the head noun
    end: int  # token index after the last word
    link: str  # "of", "relative", "participle", "possessive", "prep"


def find_bridge(doc: Doc, lexicon: VerbWords | None = None) -> Bridge | None:
    """The innermost bridge phrase of a parsed question, or ``None``; ``lexicon`` tells a
    verb the tagger took for a noun (:func:`verb_words`)."""
    tokens = list(doc)
    if not tokens:
        return None
    wh = wh_phrase(tokens)
    subject_stop = subject_end(tokens, wh, lexicon)
    root = next((t.i for t in tokens if t.dep_ == "ROOT" and t.tag_.startswith("V")), -1)
    if root < 0:  # the small parser took "The founder of the label that signed X was ..." for a
        # noun phrase: the main verb is the auxiliary after the relative clause's verb
        rel = next((t.i for t in tokens if t.lower_ in _RELATIVE and t.tag_.startswith("W")), -1)
        if rel >= 0:
            root = next((t.i for t in tokens[rel + 2 : -1] if t.lower_ in _AUX and
                         tokens[t.i + 1].tag_ in ("VBN", "VBG")), -1)
    end = len(tokens)
    while end > 0 and tokens[end - 1].is_punct:
        end -= 1
    found: list[_Candidate] = []
    for i, tok in enumerate(tokens):
        if wh is not None and wh[0] <= i < wh[1]:
            continue
        limit = subject_stop if i < subject_stop else end  # the predicate runs to the end
        if wh is not None and i < root < wh[0]:
            verb = root  # "The state where X died | has how many districts?"
            while verb - 1 > i + 1 and (tokens[verb - 1].lower_ in _AUX | {"been", "be"} or
                                        tokens[verb - 1].tag_ in ("MD", "RB")):
                verb -= 1  # "The label that signed X | was founded by whom?"
            limit = min(limit, verb)
        cand = None
        if tok.lower_ in _DETERMINERS and i + 1 < limit and _starts_possessive(tokens, i + 1):
            cand = _from_possessive(tokens, i + 1, limit)
            cand = _Candidate(i, cand.head, cand.end, cand.link) if cand else None
        elif tok.lower_ == "the":  # "a/an" + noun does not single out one entity
            cand = _from_determiner(tokens, i, limit)
        elif _starts_possessive(tokens, i) and not (i > 0 and tokens[i - 1].lower_ == "the"):
            cand = _from_possessive(tokens, i, limit)
        if cand is not None and i > 0 and tokens[i - 1].lower_ == "as":
            cand = None  # "succeeded X as the chief executive of Y": a role, not an entity
        if cand is not None and _acceptable(tokens, cand, wh):
            found.append(cand)
    if not found:
        return _someone(doc, wh)
    typed = [c for c in found if noun_type(tokens[c.head].lower_) != "any"]
    found = [c for c in found if noun_type(tokens[c.head].lower_) != "any" or not any(
        d.start <= c.start and c.end <= d.end and d != c for d in typed)]
    best = min(found, key=lambda c: (c.end - c.start, -c.start))
    return _bridge(doc, best)


_SOMEONE = frozenset({"man", "woman", "person", "someone", "individual"})


def _someone(doc: Doc, wh: tuple[int, int] | None) -> Bridge | None:
    """ "X was produced by a man born in what year?": the person the question asks about
    is the one that did the main clause ("X was produced by whom?"); the wh-word is in the
    clause after a man, woman or person, which no name describes. The clause about that
    person is the next question ("Trent Reznor was born in what year?"; "... a woman who
    studied at which university?" -> "Ada Lee studied at which university?")."""
    tokens = list(doc)
    if wh is None or wh[0] < 4:
        return None
    for n in range(wh[0] - 1, 1, -1):
        det, noun, nxt = tokens[n - 1], tokens[n], tokens[n + 1]
        if noun.lower_ in _SOMEONE and det.lower_ in ("a", "an", "the") and (
                nxt.tag_ in _PARTICIPLE_TAGS or nxt.lower_ in ("who", "that")) and n + 1 < wh[0]:
            before = "".join(t.text_with_ws for t in tokens[: n - 1]).strip()
            if not before or not any(t.tag_.startswith("V") for t in tokens[: n - 1]):
                return None
            end = nxt.idx + len(nxt.text) if nxt.lower_ in ("who", "that") else \
                noun.idx + len(noun.text)
            joint = " was" if nxt.tag_ == "VBN" else " is" if nxt.tag_ == "VBG" else ""
            return Bridge(f"{before} whom?", doc.text[:end], 0, end, "person", doc.text, joint)
    return None


def _starts_possessive(tokens: Sequence[Token], i: int) -> bool:
    """A name (or "X's") whose possessive introduces a noun: "Hello Love's performer"."""
    t = tokens[i]
    if i > 0 and tokens[i - 1].tag_ == "HYPH":
        return False  # "Jean-Luc": inside a name
    if not (t.tag_ in ("NNP", "NNPS") or t.is_title) or (i > 0 and (
            tokens[i - 1].tag_ in ("NNP", "NNPS") or tokens[i - 1].is_title)
            and tokens[i - 1].lower_ not in WH_WORDS and i - 1 > 0):
        return False
    j = i
    while j < len(tokens) and (tokens[j].tag_ in ("NNP", "NNPS", "CD", "HYPH") or
                               tokens[j].is_title) and tokens[j].tag_ != "POS":
        j += 1
    k = j
    while k < len(tokens) and tokens[k].tag_ in ("NN", "NNS") and k - j < 2:
        k += 1  # "the Marine Sensors team's"
    return k < len(tokens) and j > i and tokens[k].tag_ == "POS" and tokens[k].lower_ in (
        "'s", "’s", "'", "’")


def _from_possessive(tokens: Sequence[Token], i: int, limit: int) -> _Candidate | None:
    j = i
    while tokens[j].tag_ != "POS":
        j += 1
    head = head_after(tokens, j + 1, limit)
    if head is None:
        return None
    end = phrase_end(tokens, head, limit)
    return _Candidate(i, head, end, "possessive")


def _from_determiner(tokens: Sequence[Token], i: int, limit: int) -> _Candidate | None:
    head = head_after(tokens, i + 1, limit)
    if head is None or head + 1 >= limit or not _is_common(tokens[head]):
        return None
    nxt = tokens[head + 1]
    low = nxt.lower_
    if low == "of":
        link = "of"
    elif low in _RELATIVE or (nxt.tag_ == "IN" and head + 2 < limit
                              and tokens[head + 2].lower_ in ("which", "whom")):
        link = "relative"
    elif nxt.tag_ in _PARTICIPLE_TAGS or (nxt.tag_ in ("RB", "RBS") and head + 2 < limit
                                          and tokens[head + 2].tag_ in _PARTICIPLE_TAGS):
        link = "participle"
    elif reduced_relative(tokens, head + 1, limit):
        link = "relative"  # "the country Signmark is from"
    else:
        return None
    end = phrase_end(tokens, head, limit) if link == "of" else clause_end(tokens, head, limit)
    return _Candidate(i, head, end, link)


def _is_common(token: Token) -> bool:
    """A common noun (a lower-case word the tagger called a proper noun counts too)."""
    return token.tag_ in ("NN", "NNS") or (token.tag_ in ("NNP", "NNPS") and token.is_lower)


def _acceptable(tokens: Sequence[Token], c: _Candidate, wh: tuple[int, int] | None) -> bool:
    words = tokens[c.start : c.end]
    if any(t.lower_ in WH_WORDS and t.tag_ in ("WP", "WDT", "WRB") and c.link != "relative"
           for t in words):
        return False
    if c.link == "relative" and any(t.lower_ in WH_WORDS and t.i > c.head + 2 for t in words):
        return False  # "a musician whose godfather is whom?": the wh-word is inside
    head = tokens[c.head]
    if head.lower_ in _NOT_ENTITY_HEADS and c.link != "possessive":
        return False
    if head.tag_ == "NNS" and noun_type(head.lower_) == "any" and c.link == "of":
        return False  # "the traction motors of the Heron railcar": things, not one entity
    if c.link != "possessive" and not is_person_noun(head.lower_) and any(
            t.text[:1].isupper() for t in tokens[c.start + 1 : c.head]):
        return False  # "the Porto flood of 2016", "the Tarvik bridge closure": a named thing
    if c.link == "possessive" and tokens[c.head].lower_ in ("name", "names"):
        return False
    names = [t for t in tokens[c.start + 1 : c.end] if t.text[:1].isupper() and t.i != c.head
             and (t.tag_ in ("NNP", "NNPS") or not t.is_sent_start)]  # not "the DJ of ..."
    if c.link == "possessive":
        names = [t for t in tokens[c.start : c.head] if t.tag_ in ("NNP", "NNPS") or t.is_title]
    if not names:
        return False
    if wh is not None and c.start == wh[1] + 1 and c.end >= len(tokens) - 1 and \
            wh[1] - wh[0] == 1 and tokens[wh[0]].lower_ in ("who", "what", "which"):
        lead = tokens[wh[1]].lower_ if wh[1] < len(tokens) else ""
        if lead in _BE:
            return False  # "Who was the first president of X?": the attribute is the answer
    return c.end - c.start >= 2


def _bridge(doc: Doc, c: _Candidate) -> Bridge:
    tokens = list(doc)
    start_char = tokens[c.start].idx
    last = tokens[c.end - 1]
    end_char = last.idx + len(last.text)
    phrase = doc.text[start_char:end_char]
    head = tokens[c.head]
    expects = noun_type(head.lower_)
    question = _sub_question(tokens, c, phrase, expects)
    return Bridge(question, phrase, start_char, end_char, expects, doc.text)


def _sub_question(tokens: Sequence[Token], c: _Candidate, phrase: str, expects: AnswerType) -> str:
    """The question that finds what ``phrase`` describes."""
    head = tokens[c.head]
    after = tokens[c.head + 1] if c.head + 1 < c.end else None
    if c.link == "relative" and after is not None and after.lower_ in ("who", "that", "which"):
        verb = tokens[c.head + 2] if c.head + 2 < c.end else None
        if verb is not None and (verb.tag_.startswith("V") or verb.tag_ in ("MD", "RB")):
            rest = _text(tokens, c.head + 2, c.end)
            if head.lower_ in _GENERIC_PERSON or after.lower_ == "who":
                return tidy(f"Who {rest}?")
            noun = _text(tokens, c.start + 1, c.head + 1)
            return tidy(f"Which {noun} {rest}?")
    wh = "Who" if expects == "person" else "What"
    body = phrase[0].lower() + phrase[1:] if tokens[c.start].lower_ in _DETERMINERS else phrase
    return tidy(f"{wh} is {body}?")


def _text(tokens: Sequence[Token], start: int, end: int) -> str:
    return "".join(t.text_with_ws for t in tokens[start:end]).strip()


__all__ = [
    "AnswerType",
    "Bridge",
    "QuestionShape",
    "ShapeKind",
    "analyse",
    "expected_type",
    "find_bridge",
    "is_person_noun",
    "merge_names",
    "noun_type",
    "tidy",
]
