"""The parts of a parsed question that question analysis reads: its wh-phrase, where
an inverted question's subject ends and its main verb is (when spaCy's small tagger took
the verb for a noun), and where a noun phrase or a relative clause ends.

Token-level helpers of :mod:`pipelines.question_shape`; each takes the question's tokens
(spaCy ``Token``s with ``tag_``, ``lower_``, ``is_lower``) and token indices.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Token

WH_WORDS = frozenset({"who", "whom", "whose", "what", "which", "where", "when", "how", "why"})
AUX = frozenset({"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can",
                  "could", "will", "would", "should", "may", "might"})
BE = frozenset({"is", "are", "was", "were"})
DO = frozenset({"do", "does", "did"})
RELATIVE = frozenset({"who", "whom", "whose", "that", "which", "where", "when"})
PARTICIPLE_TAGS = frozenset({"VBN", "VBG"})
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "CD", "HYPH", "VBN", "VBG", "RBS", "RB", "POS",
                            "NN", "NNS", "NNP", "NNPS", "ADD", "NFP", "FW", "XX"})


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


def wh_phrase(tokens: Sequence[Token]) -> tuple[int, int] | None:
    """Token range of the question's wh-phrase ("In which city", "How many Publix stores")."""
    for i, t in enumerate(tokens):
        if t.lower_ in WH_WORDS and (t.tag_.startswith("W") or t.lower_ in ("how", "whose")):
            if i > 0 and tokens[i - 1].tag_ in NOUN_TAGS and any(
                    u.lower_ in WH_WORDS and u.tag_.startswith("W") for u in tokens[i + 1 :]):
                continue  # "The state where X died has how many ...?": a relative word
            start = i - 1 if i > 0 and tokens[i - 1].tag_ == "IN" else i
            j = i + 1
            if t.lower_ == "how" and j < len(tokens):
                j += 1  # "how many", "how long"
            while j < len(tokens) and (
                tokens[j].tag_ in ("JJ", "JJS", "JJR", "NN", "NNS", "NNP", "NNPS", "CD", "HYPH")
                and tokens[j].lower_ not in AUX
            ):
                j += 1
            if j + 1 < len(tokens) and tokens[j].lower_ == "of":
                k = j + 1  # "What amount of TEUs did ...", "What kind of plane ..."
                while k < len(tokens) and tokens[k].tag_ in MODIFIER_TAGS | {"DT"} and \
                        tokens[k].lower_ not in AUX:
                    k += 1
                if k < len(tokens) and tokens[k].lower_ in AUX:
                    j = k
            if t.lower_ in ("who", "whom", "where", "when", "why") or (
                    t.lower_ == "what" and j == i + 1):
                return (start, i + 1)  # "Where | Tidewrack's editor went ..."
            return (start, j)
    return None


def subject_end(tokens: Sequence[Token], wh: tuple[int, int] | None,
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
    if wh is None or wh[1] >= end or tokens[wh[1]].lower_ not in AUX:
        return end
    aux = tokens[wh[1]].lower_
    first = wh[1] + 1
    bare = wh[1] - wh[0] == 1 and tokens[wh[0]].lower_ in ("what", "who", "which")
    if aux in BE and bare:
        # "What is the country where Baure is located | named after?": a participle and its
        # preposition after the relative clause are the predicate; "What is the state where
        # X is located?" has none
        j = end - 1 if end - 1 > first and tokens[end - 1].tag_ in ("IN", "RP") else end
        if j - 2 > first and tokens[j - 1].tag_ == "VBN" and tokens[j - 1].is_lower and \
                tokens[j - 2].tag_ == "VBN" and any(
                    t.lower_ in RELATIVE for t in tokens[first : j - 2]):
            return j - 1
        return end
    skip = 1 if first < end and tokens[first].tag_ in ("DT", "PRP$") else 0
    head = head_after(tokens, first + skip, end) if first + skip < end else None
    if head is None:
        return end
    e = phrase_end(tokens, head, end)
    clause = e < end and (tokens[e].lower_ in RELATIVE or tokens[e].tag_ in PARTICIPLE_TAGS
                          or tokens[e].tag_ in ("RB", "RBS") or
                          (tokens[e].tag_ == "IN" and e + 1 < end and
                           tokens[e + 1].lower_ in ("which", "whom")))
    if aux in BE and tokens[e].tag_ in PARTICIPLE_TAGS if e < end else False:
        clause = False  # "When was the clock | built in ...": the participle is the predicate
    stop = end
    while aux in DO and stop - 1 > first and tokens[stop - 1].tag_ in ("IN", "RP"):
        stop -= 1
    if aux in DO and lexicon is not None:  # "did the founder of Acme | train as ...": a verb
        for i in range(head + 1, e):  # the tagger called a noun, after the phrase's name
            t = tokens[i]
            if t.is_lower and t.tag_ in ("NN", "NNS", "VB", "VBP") and t.lower_ in \
                    lexicon.verbs and tokens[i - 1].tag_ in ("NNP", "NNPS") and \
                    (i + 1 >= end or tokens[i + 1].tag_ in ("IN", "DT", "RP", "TO")):
                return i
    if not clause and e < stop:  # (after "do", a phrase running to the end holds the verb)
        return e
    if aux in DO:
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
                    and tokens[i].lower_ not in AUX and not in_clause:
                return verb_of_run(tokens, i, end, clause, lexicon)
        return end
    j = end
    while j - 1 > first and tokens[j - 1].tag_ in ("IN", "RP"):
        j -= 1  # "is X located in", "is X part of"
    closes_clause = j - 2 > wh[1] and (tokens[j - 2].lower_ in BE | {"been", "be"} or
                                       tokens[j - 2].tag_ in ("NNP", "NNPS", "PRP")) and any(
        t.lower_ in RELATIVE for t in tokens[first : j - 2])  # "where X was born", "that X
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
             i > finite[0] + 1 and tokens[i - 1].lower_ not in BE | {"been", "be"}]
    return later[-1] if later else end


def verb_of_run(tokens: Sequence[Token], i: int, end: int, clause: bool,
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


def reduced_relative(tokens: Sequence[Token], i: int, limit: int) -> bool:
    """A name then a verb right after a noun: "the country [that] Signmark is from"."""
    j = i
    while j < limit and (tokens[j].tag_ in ("NNP", "NNPS") or tokens[j].is_title):
        j += 1
    return j > i and j < limit and tokens[j].tag_.startswith("V")


def head_after(tokens: Sequence[Token], i: int, limit: int) -> int | None:
    """The last noun of the modifier-and-noun run that starts at ``i``."""
    j, head = i, None
    while j < limit and tokens[j].tag_ in MODIFIER_TAGS and tokens[j].lower_ not in (
            "of", "'s", "’s") and not (tokens[j].tag_ in PARTICIPLE_TAGS and head is not None):
        if head is not None and tokens[head].tag_ in ("NN", "NNS") and \
                tokens[j].tag_ in ("NNP", "NNPS") and reduced_relative(tokens, j, limit):
            break  # "the country | Signmark is from"
        if head is not None and verb_before_wh(tokens, j, limit):
            break  # "The Heron railcar's designer | sponsors which project?"
        if tokens[j].tag_ in NOUN_TAGS:
            head = j
        j += 1
    return head


def verb_before_wh(tokens: Sequence[Token], j: int, limit: int) -> bool:
    """A lower-case word the tagger may call a noun right before "which/what/whom": the
    verb of "X's designer sponsors which project?"."""
    t = tokens[j]
    return t.is_lower and t.tag_ in ("NN", "NNS", "VBZ") and j + 1 < limit and \
        tokens[j + 1].lower_ in ("which", "what", "whom")


def clause_end(tokens: Sequence[Token], head: int, limit: int) -> int:
    """End of a relative or participle clause: ``limit``, or a comma that opens another
    clause (one not followed by a name, as "Johnnycake, West Virginia" is)."""
    for j in range(head + 1, limit):
        if tokens[j].text == "," and j + 1 < limit and not tokens[j + 1].is_title:
            return j
    return limit


def phrase_end(tokens: Sequence[Token], head: int, limit: int) -> int:
    """End of a noun phrase whose head is at ``head``, through "of"/"in" + noun phrases."""
    j = head + 1
    while j < limit:
        t = tokens[j]
        if t.tag_ == "DT" and tokens[j - 1].tag_ != "IN":
            break  # "the author of Brand | a citizen of"
        if t.tag_ in ("JJ", "JJS") and not (j + 1 < limit and tokens[j + 1].tag_ in (
                "NN", "NNS", "NNP", "NNPS", "JJ", "CD", "HYPH")):
            break  # "the Admiral Twin | open in ...": an adjective needs its noun
        if verb_before_wh(tokens, j, limit):
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
