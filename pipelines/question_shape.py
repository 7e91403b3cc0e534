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
import weakref
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
from pipelines.described import Description, descriptions

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

ShapeKind = Literal["bridge", "comparison", "yes_no", "single"]
WH_WORDS = frozenset({"who", "whom", "whose", "what", "which", "where", "when", "how", "why"})
_AUX = frozenset({"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can",
                  "could", "will", "would", "should", "may", "might"})
_BE = frozenset({"is", "are", "was", "were"})
_DO = frozenset({"do", "does", "did"})
_RELATIVE = frozenset({"who", "whom", "whose", "that", "which", "where", "when"})
_DETERMINERS = frozenset({"the", "a", "an"})
_PARTICIPLE_TAGS = frozenset({"VBN", "VBG"})
_NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
_MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "CD", "HYPH", "VBN", "VBG", "RBS", "RB", "POS",
                            "NN", "NNS", "NNP", "NNPS", "ADD", "NFP", "FW", "XX"})

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

    def substitute(self, answer: str) -> str:
        """The source question with the phrase replaced by ``answer``."""
        return tidy(self.source[: self.start] + answer + self.source[self.end :])


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
    plan = plan_comparison(nlp, question, label)  # "the founding of X or the founding of Y"
    if plan is not None or _is_comparison(question, doc):
        return QuestionShape(question, "comparison", expects, comparison=plan)
    tokens = list(doc)
    described = descriptions(tokens, _wh_phrase(tokens), _NOT_ENTITY_HEADS | _GENERIC_PERSON)
    bridge = find_bridge(doc, verb_words(nlp))
    if bridge is not None:
        return QuestionShape(question, "bridge", expects, bridge, described=described)
    return QuestionShape(question, "single", expects, described=described)


@dataclass(frozen=True)
class VerbWords:
    """Base forms of English verbs and nouns (WordNet's, as spaCy's English lemmatizer
    holds them in its ``lemma_index`` table)."""

    verbs: frozenset[str]
    nouns: frozenset[str]


_VERB_WORDS: weakref.WeakKeyDictionary[Language, VerbWords | None] = \
    weakref.WeakKeyDictionary()


def verb_words(nlp: Language) -> VerbWords | None:
    """The verb and noun words of ``nlp``'s rule lemmatizer, or ``None`` without one."""
    if nlp not in _VERB_WORDS:
        found = None
        try:
            index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")  # type: ignore[attr-defined]
            found = VerbWords(frozenset(index["verb"]), frozenset(index["noun"]))
        except (KeyError, AttributeError):
            pass
        _VERB_WORDS[nlp] = found
    return _VERB_WORDS[nlp]


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
    wh = _wh_phrase(tokens)
    subject_end = _subject_end(tokens, wh, lexicon)
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
        limit = subject_end if i < subject_end else end  # the predicate runs to the end
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
    clause after a man, woman or person, which no name describes."""
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
            start, end = det.idx, noun.idx + len(noun.text)
            return Bridge(f"{before} whom?", doc.text[start:end], start, end, "person", doc.text)
    return None


def _wh_phrase(tokens: Sequence[Token]) -> tuple[int, int] | None:
    """Token range of the question's wh-phrase ("In which city", "How many Publix stores")."""
    for i, t in enumerate(tokens):
        if t.lower_ in WH_WORDS and (t.tag_.startswith("W") or t.lower_ in ("how", "whose")):
            if i > 0 and tokens[i - 1].tag_ in _NOUN_TAGS and any(
                    u.lower_ in WH_WORDS and u.tag_.startswith("W") for u in tokens[i + 1 :]):
                continue  # "The state where X died has how many ...?": a relative word
            start = i - 1 if i > 0 and tokens[i - 1].tag_ == "IN" else i
            j = i + 1
            if t.lower_ == "how" and j < len(tokens):
                j += 1  # "how many", "how long"
            while j < len(tokens) and (
                tokens[j].tag_ in ("JJ", "JJS", "JJR", "NN", "NNS", "NNP", "NNPS", "CD", "HYPH")
                and tokens[j].lower_ not in _AUX
            ):
                j += 1
            if j + 1 < len(tokens) and tokens[j].lower_ == "of":
                k = j + 1  # "What amount of TEUs did ...", "What kind of plane ..."
                while k < len(tokens) and tokens[k].tag_ in _MODIFIER_TAGS | {"DT"} and \
                        tokens[k].lower_ not in _AUX:
                    k += 1
                if k < len(tokens) and tokens[k].lower_ in _AUX:
                    j = k
            if t.lower_ in ("who", "whom", "where", "when", "why") or (
                    t.lower_ == "what" and j == i + 1):
                return (start, i + 1)  # "Where | Tidewrack's editor went ..."
            return (start, j)
    return None


def _subject_end(tokens: Sequence[Token], wh: tuple[int, int] | None,
                 lexicon: VerbWords | None = None) -> int:
    """Where the subject of an inverted question ends ("did NP attend", "is NP based").

    For "WH AUX SUBJECT PREDICATE ...?" the subject is the noun phrase after the
    auxiliary. A plain one ("the designer of X") ends where its "of"-chain ends;
    one with a relative or participle clause ends at the predicate: the last
    base-form verb after "do" (else the first lower-case word after the last
    name, the small tagger often takes "attend" for a noun), or a final
    participle after "be" ("located", "born") unless that closes the clause
    itself ("where X was born"). "What is NP?" has no predicate.
    """
    end = len(tokens)
    while end > 0 and tokens[end - 1].is_punct:
        end -= 1
    if wh is None or wh[1] >= end or tokens[wh[1]].lower_ not in _AUX:
        return end
    aux = tokens[wh[1]].lower_
    first = wh[1] + 1
    bare = wh[1] - wh[0] == 1 and tokens[wh[0]].lower_ in ("what", "who", "which")
    if aux in _BE and bare:
        # "What is the country where Baure is located | named after?": a participle and its
        # preposition after the relative clause are the predicate; "What is the state where
        # X is located?" has none
        j = end - 1 if end - 1 > first and tokens[end - 1].tag_ in ("IN", "RP") else end
        if j - 2 > first and tokens[j - 1].tag_ == "VBN" and tokens[j - 1].is_lower and \
                tokens[j - 2].tag_ == "VBN" and any(
                    t.lower_ in _RELATIVE for t in tokens[first : j - 2]):
            return j - 1
        return end
    skip = 1 if first < end and tokens[first].tag_ in ("DT", "PRP$") else 0
    head = _head_after(tokens, first + skip, end) if first + skip < end else None
    if head is None:
        return end
    e = _phrase_end(tokens, head, end)
    clause = e < end and (tokens[e].lower_ in _RELATIVE or tokens[e].tag_ in _PARTICIPLE_TAGS
                          or tokens[e].tag_ in ("RB", "RBS") or
                          (tokens[e].tag_ == "IN" and e + 1 < end and
                           tokens[e + 1].lower_ in ("which", "whom")))
    if aux in _BE and tokens[e].tag_ in _PARTICIPLE_TAGS if e < end else False:
        clause = False  # "When was the clock | built in ...": the participle is the predicate
    stop = end
    while aux in _DO and stop - 1 > first and tokens[stop - 1].tag_ in ("IN", "RP"):
        stop -= 1
    if not clause and e < stop:  # (after "do", a phrase running to the end holds the verb)
        return e
    if aux in _DO:
        verbs = [i for i in range(e + 1, end) if tokens[i].tag_ in ("VB", "VBP") and
                 tokens[i - 1].tag_ not in ("MD", "TO")]  # "will be held", "to be" are the clause's
        if clause and verbs:
            return verbs[-1]
        names = [i for i in range(first, end) if tokens[i].tag_ in ("NNP", "NNPS", "CD") or
                 (tokens[i].is_title and i > first)]
        after = names[-1] + 1 if names else first + 1
        pos = next((i for i in range(after, min(after + 3, end)) if tokens[i].tag_ == "POS"), None)
        if pos is not None:  # "the Marine Sensors team's main product | cost"
            k = pos + 1
            while k < end and tokens[k].tag_ in ("JJ", "JJS", "JJR"):
                k += 1
            run = k
            while run < end and tokens[run].tag_ in ("NN", "NNS"):
                run += 1
            return run - 1 if run - k >= 2 else min(run, end)
        for i in range(after, end):
            in_clause = tokens[i].tag_ == "MD" or tokens[i].lower_ in ("be", "been") or (
                tokens[i].tag_ == "VBN" and tokens[i - 1].lower_ in ("be", "been"))
            if tokens[i].is_lower and tokens[i].tag_ not in ("IN", "DT", "CC", "POS", "HYPH") \
                    and tokens[i].lower_ not in _AUX and not in_clause:
                return _verb_of_run(tokens, i, end, clause, lexicon)
        return end
    j = end
    while j - 1 > first and tokens[j - 1].tag_ in ("IN", "RP"):
        j -= 1  # "is X located in", "is X part of"
    closes_clause = j - 2 > wh[1] and (tokens[j - 2].lower_ in _BE | {"been", "be"} or
                                       tokens[j - 2].tag_ in ("NNP", "NNPS", "PRP")) and any(
        t.lower_ in _RELATIVE for t in tokens[first : j - 2])  # "where X was born", "that X
    # attended": the participle closes the relative clause, it is not the predicate
    if j - 1 > first and tokens[j - 1].tag_ in ("VBN", "VBD", "JJ", "VBG") and \
            tokens[j - 1].is_lower and not closes_clause:
        k = j - 1
        while k - 1 > first and tokens[k - 1].tag_ in ("RB", "RBS", "RBR"):
            k -= 1
        return k
    # "When was the country that produced Fist Power | taken by the British?": a
    # participle after the clause's own verb, not closing that clause itself
    finite = [i for i in range(e + 1, end) if tokens[i].tag_ in ("VBD", "VBZ", "VBP")]
    later = [i for i in range(e + 2, end) if tokens[i].tag_ == "VBN" and finite and
             i > finite[0] + 1 and tokens[i - 1].lower_ not in _BE | {"been", "be"}]
    return later[-1] if later else end


def _verb_of_run(tokens: Sequence[Token], i: int, end: int, clause: bool,
                 lexicon: VerbWords | None) -> int:
    """The main verb of "did NP VERB?" when the tagger called none a verb, from ``i``, the
    first lower-case word after the subject's last name. Of the words running from there
    to the end: the first that is only a verb, else the first that can be one ("the Heron
    railcar | attend", "the Waymark app | work at", "the Driftline Buoy | study
    oceanography"), else the last. In a relative clause, a last word after the clause's
    stranded preposition ("the project that the X post-mortem fed into | attend"); else
    ``i``."""
    stop = end
    while stop - 1 > i and tokens[stop - 1].tag_ in ("IN", "RP"):
        stop -= 1  # "work at"
    j = i
    while j < stop and tokens[j].is_lower and tokens[j].tag_ in ("NN", "NNS", "VB", "VBP",
                                                                 "VBZ", "JJ"):
        j += 1  # "works open": the clause's verb, then the main one the tagger took for "open"
    if j == stop and j - i >= 2:
        if lexicon is not None:
            run = [k for k in range(i, j) if tokens[k].lower_ in lexicon.verbs]
            only = [k for k in run if tokens[k].lower_ not in lexicon.nouns]
            if only or run:
                return (only or run)[0]
        return j - 1
    f = stop - 1
    if clause and f - 2 > i and tokens[f].is_lower and tokens[f].tag_ in ("NN", "VB", "VBP") \
            and tokens[f - 1].tag_ in ("IN", "RP") and tokens[f - 2].tag_.startswith("V"):
        return f
    return i


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
    head = _head_after(tokens, j + 1, limit)
    if head is None:
        return None
    end = _phrase_end(tokens, head, limit)
    return _Candidate(i, head, end, "possessive")


def _from_determiner(tokens: Sequence[Token], i: int, limit: int) -> _Candidate | None:
    head = _head_after(tokens, i + 1, limit)
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
    elif _reduced_relative(tokens, head + 1, limit):
        link = "relative"  # "the country Signmark is from"
    else:
        return None
    end = _phrase_end(tokens, head, limit) if link == "of" else _clause_end(tokens, head, limit)
    return _Candidate(i, head, end, link)


def _is_common(token: Token) -> bool:
    """A common noun (a lower-case word the tagger called a proper noun counts too)."""
    return token.tag_ in ("NN", "NNS") or (token.tag_ in ("NNP", "NNPS") and token.is_lower)


def _reduced_relative(tokens: Sequence[Token], i: int, limit: int) -> bool:
    """A name then a verb right after a noun: "the country [that] Signmark is from"."""
    j = i
    while j < limit and (tokens[j].tag_ in ("NNP", "NNPS") or tokens[j].is_title):
        j += 1
    return j > i and j < limit and tokens[j].tag_.startswith("V")


def _head_after(tokens: Sequence[Token], i: int, limit: int) -> int | None:
    """The last noun of the modifier-and-noun run that starts at ``i``."""
    j, head = i, None
    while j < limit and tokens[j].tag_ in _MODIFIER_TAGS and tokens[j].lower_ not in (
            "of", "'s", "’s") and not (tokens[j].tag_ in _PARTICIPLE_TAGS and head is not None):
        if head is not None and tokens[head].tag_ in ("NN", "NNS") and \
                tokens[j].tag_ in ("NNP", "NNPS") and _reduced_relative(tokens, j, limit):
            break  # "the country | Signmark is from"
        if head is not None and _verb_before_wh(tokens, j, limit):
            break  # "The Heron railcar's designer | sponsors which project?"
        if tokens[j].tag_ in _NOUN_TAGS:
            head = j
        j += 1
    return head


def _verb_before_wh(tokens: Sequence[Token], j: int, limit: int) -> bool:
    """A lower-case word the tagger may call a noun right before "which/what/whom": the
    verb of "X's designer sponsors which project?"."""
    t = tokens[j]
    return t.is_lower and t.tag_ in ("NN", "NNS", "VBZ") and j + 1 < limit and \
        tokens[j + 1].lower_ in ("which", "what", "whom")


def _clause_end(tokens: Sequence[Token], head: int, limit: int) -> int:
    """End of a relative or participle clause: ``limit``, or a comma that opens another
    clause (one not followed by a name, as "Johnnycake, West Virginia" is)."""
    for j in range(head + 1, limit):
        if tokens[j].text == "," and j + 1 < limit and not tokens[j + 1].is_title:
            return j
    return limit


def _phrase_end(tokens: Sequence[Token], head: int, limit: int) -> int:
    """End of a noun phrase whose head is at ``head``, through "of"/"in" + noun phrases."""
    j = head + 1
    while j < limit:
        t = tokens[j]
        if t.tag_ == "DT" and tokens[j - 1].tag_ != "IN":
            break  # "the author of Brand | a citizen of"
        if t.tag_ in ("JJ", "JJS") and not (j + 1 < limit and tokens[j + 1].tag_ in (
                "NN", "NNS", "NNP", "NNPS", "JJ", "CD", "HYPH")):
            break  # "the Admiral Twin | open in ...": an adjective needs its noun
        if _verb_before_wh(tokens, j, limit):
            break  # "The Heron railcar's designer | sponsors which project?": the verb
        if t.lower_ in ("of", "in", "at", "from", "'s", "’s") or t.tag_ in (
                "DT", "NN", "NNS", "NNP", "NNPS", "CD", "JJ", "JJS", "HYPH", "POS", "PRP$") or (
                t.tag_ in ("VBN", "VBG") and tokens[j - 1].tag_ == "HYPH"):  # "the Cork-born"
            j += 1
            continue
        if t.lower_ in ("and", "&") and j + 1 < limit and tokens[j + 1].is_title:
            j += 1  # "Procter and Gamble"
            continue
        if t.lower_ in ("behind", "about") and j + 1 < limit:
            j += 1  # "the story behind X", "the book about Y"
            continue
        if t.tag_ == "``" and tokens[j - 1].tag_ == "IN":  # a quoted title, whatever is in it
            close = next((k for k in range(j + 1, limit) if tokens[k].tag_ == "''" or (
                k > j + 1 and tokens[k].text.endswith(('"', "”")))), None)  # 'Action"' merged
            if close is not None:
                j = close + 1
                continue
        break
    while j > head + 1 and tokens[j - 1].tag_ in ("IN", "DT", "CC", "HYPH"):
        j -= 1
    return j


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
    names = [t for t in tokens[c.start + 1 : c.end] if t.text[:1].isupper() and (
             t.tag_ in ("NNP", "NNPS") or not t.is_sent_start)]
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
