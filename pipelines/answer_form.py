"""Answers in the form the question asks for (the reader's span, reshaped from its evidence).

A small reader copies a span; the question may want more or less of it:

- "Hsinchu, Taiwan" to "In which city ...?" is "Hsinchu"; "Hinds County,
  Mississippi" to "Which state ...?" is "Mississippi" (:func:`trim_to_place`);
- "1951" to "When was she born?" is "8 June 1951" when the cited passage gives
  that one date of that year; "In what year ...?" keeps the year (:func:`full_date`);
- "Renner" to "Who ...?" is "Karl Renner" when the cited sentence says so,
  titles left out (:func:`full_name`);
- "Gda, Poland" is "Gdańsk, Poland" and "Swan Swansea" is "Swansea" when that is
  what the cited sentence writes (:func:`as_written`); "18,500" is "€18,500"
  (:func:`with_currency`).

And the forms an answer is given to the user in: the JSON of ``kgqa ask
--json`` (:func:`answer_as_dict`), the words for the reader's refused
replies (:func:`refused_note`) and for a name several documents share
(:func:`shared_names`, :func:`ambiguity_note`), and one answer from the
evidence of two hops (:func:`joined`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, replace
from difflib import SequenceMatcher

from kgqa.text import strip_accents, title_names, unqualified
from kgqa.types import Answer, Citation, Hit, Refusal
from llm.grounding import _MONTHS as MONTH_NAMES
from llm.grounding import sentence_spans
from pipelines.answer_type import AnswerType


def shared_names(question: str, hits: Sequence[Hit]) -> tuple[str, ...]:
    """Titles of ``hits`` that share a name ``question`` uses without their qualifier:
    "Night Harbour (film)" and "Night Harbour (novel)" (or "Night Harbour") for "Who
    directed Night Harbour?". A question that spells the qualifier is not ambiguous.

    >>> from kgqa.types import Chunk
    >>> def hit(title):
    ...     return Hit(0, Chunk("d#0", "d", 0, "t", 0, 1), title, 1.0, 1)
    >>> shared_names("Who wrote Night Harbour?", [hit("Night Harbour (film)"),
    ...                                           hit("Night Harbour (novel)")])
    ('Night Harbour (film)', 'Night Harbour (novel)')
    """
    groups: dict[str, set[str]] = {}
    for h in hits:
        names = title_names(h.title)
        groups.setdefault(strip_accents(names[-1]).casefold(), set()).add(h.title)
    low = strip_accents(question).casefold()
    out: list[str] = []
    for name, titles in groups.items():
        if len(titles) < 2 or not any("(" in t for t in titles):
            continue
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low) and not any(
                strip_accents(t).casefold() in low for t in titles if "(" in t):
            out += sorted(titles)
    return tuple(out)


def joined(question: str, text: str, parts: Sequence[Answer]) -> Answer:
    """The answer ``text`` to ``question`` that rests on each of ``parts`` (a comparison's
    value hops): their passages once each, in order, and their citations numbered by
    those passages (each hop numbers its own from 1).

    >>> from kgqa.types import Chunk, Hit
    >>> def hit(i):
    ...     return Hit(i, Chunk(f"d{i}#0", f"d{i}", 0, "t", 0, 1), f"D{i}", 1.0, 1)
    >>> def cite(i):
    ...     return Citation(1, f"d{i}#0", f"d{i}", f"D{i}", 0, 1, "t")
    >>> a = Answer("qa", "1990", citations=(cite(1),), hits=(hit(1),))
    >>> b = Answer("qb", "1995", citations=(cite(2),), hits=(hit(2), hit(1)))
    >>> [c.number for c in joined("q", "A", (a, b)).citations]
    [1, 2]
    """
    first: dict[str, Hit] = {}
    for part in parts:
        for h in part.hits:
            first.setdefault(h.chunk.id, h)  # each passage once, at its first place
    hits = list(first.values())
    where = {h.chunk.id: n for n, h in enumerate(hits, 1)}
    citations: list[Citation] = []
    for part in parts:
        for c in part.citations:
            c = replace(c, number=where.get(c.chunk_id, c.number))
            if all((c.chunk_id, c.start) != (k.chunk_id, k.start) for k in citations):
                citations.append(c)
    return Answer(question=question, text=text, citations=tuple(citations), hits=tuple(hits))


def in_asked_form(ans: Answer, question: str, expects: AnswerType | str) -> Answer:
    """``ans`` as its evidence writes it, trimmed to the place asked for, widened to the
    full date or name."""
    ans = full_date(trim_to_place(as_written(ans), question, expects), question, expects)
    return with_currency(full_name(died(ans, question), expects))


_CURRENCY_WORD = (r"(?:euros?|dollars?|pounds?(?:\s+sterling)?|yen|yuan|francs?|kronor|krona|"
                  r"kroner|krone|rupees?|pesos?|rubles?|roubles?|guilders?|marks?|lire|won)\b")
_CURRENCY_CODE = r"(?:USD|EUR|GBP|CHF|SEK|NOK|DKK|JPY|CNY|INR|AUD|CAD|NZD|US\$|A\$|C\$)"
_MONEY = re.compile(rf"[€£$¥₹₩₽₺]|\b{_CURRENCY_CODE}|\b{_CURRENCY_WORD}", re.I)
_ASKS_PRICE = re.compile(
    r"\bhow\s+much\b[^?]*\b(?:cost|costs|pay|paid|spend|spent|charge|charged|charges|worth|"
    r"sell|sold|buy|bought)\b|\b(?:price|cost|fee|fare|budget)\s+(?:of|for)\b", re.I)


def with_currency(ans: Answer) -> Answer:
    """A bare amount with the currency its cited sentence gives it: "18,500" -> "€18,500"
    when the sentence says "costs €18,500"; "180,000 euros", "EUR 180,000" likewise."""
    text = ans.text.strip()
    if ans.abstained or not re.fullmatch(r"\d[\d,.]*(?:\s+(?:million|billion|thousand))?", text):
        return ans
    amount = re.escape(text) + r"(?![\d,.]*\d)"
    for c in ans.citations:
        if not c.supported:
            continue
        m = re.search(rf"([€£$¥₹]|\b{_CURRENCY_CODE}\s?)\s?{amount}", c.quote)
        if m:
            return replace(ans, text=f"{m.group(1)}{text}")
        m = re.search(rf"{amount}((?:\s+(?:million|billion|thousand))?\s+{_CURRENCY_WORD})",
                      c.quote, re.I)
        if m:
            return replace(ans, text=f"{text}{m.group(1)}")
    return ans


# Relations a passage states in a few words: (what the question says, what a sentence
# stating it says, how to say it lacks). A reply read from a sentence with none of them
# was read from a sentence about something else ("founded in 1889" for "When did X die?").
_LIFE_SPAN = r"\d{4}\)?\s*[–—-]\s*(?:\d{1,2}\s+[A-Z][a-z]+\s+|[A-Z][a-z]+\s+\d{1,2},?\s+)?\d{4}"
_ASKS_DEATH = re.compile(r"\b(?:did|does|do)\b[^?]*\bdie(?:\s+in)?\s*\?\s*$", re.I)
_RELATIONS = (  # the question's own predicate, not a clause inside it ("where X died")
    (_ASKS_DEATH,
     re.compile(r"\b(?:die[sd]?|death|dead|killed|passed\s+away|executed|murdered|"
                r"assassinated|drowned|perished|suicide)\b|" + _LIFE_SPAN, re.I), "dying"),
    (re.compile(r"\bmarried\s+to\s*\?\s*$|\b(?:did|does|do)\b[^?]*\bmarry\s*\?\s*$|"
                r"^\s*who\s+(?:is|was|are|were)\s+(?:the\s+)?(?:wife|husband|spouse)\s+of\b|"
                r"^\s*who\s+(?:is|was|are|were)\s+[^?]*?['’]s\s+(?:wife|husband|spouse)\s*\?",
                re.I),
     re.compile(r"\b(?:marr(?:y|ied|ies|iage)|wife|husband|spouse|wed(?:ded|ding)?|"
                r"widow(?:ed|er)?|partner)\b", re.I), "marriage"),
    (re.compile(r"^\s*(?:when|in\s+(?:what|which)\s+year|what\s+year)\s+(?:was|were|did|is|are)"
                r"\s[^?]*?\b(?:founded|established|opened|open|incorporated|set\s+up)"
                r"(?:\s+in)?\s*\?\s*$", re.I),  # not "created", "built": said in too many ways
     re.compile(r"\b(?:found\w*|establish\w*|form(?:ed|ing|ation)|open\w*|launch\w*|creat\w*|"
                r"incorporat\w*|buil[td]\w*|set\s+up|start\w*|began|begun|inaugurat\w*|"
                r"dates?\s+(?:back|from))\b", re.I), "founding or opening"),
    (re.compile(r"^\s*who\s+designed\b|\bdesigned\s+by\s+whom\b|"
                r"^\s*who\s+(?:is|was)\s+the\s+designer\s+of\b", re.I),
     re.compile(r"\b(?:design\w*|architect\w*|drew|drawn|engineered)\b", re.I), "design"),
)


def died(ans: Answer, question: str) -> Answer:
    """The end of the life span a cited sentence gives, for "When did X die?" answered with
    its start ("1872" from "Oskar Brenner (1872–1941) was ..." -> "1941")."""
    text = ans.text.strip()
    if ans.abstained or not text or not _ASKS_DEATH.search(question):
        return ans
    for c in ans.citations:
        m = re.search(r"\(([^()]*?\d{4})\s*[–—-]\s*([^()]*?\d{4})\)", c.quote) if c.supported \
            else None
        if m and text in m.group(1) and text not in m.group(2):
            return replace(ans, text=m.group(2).strip())
    return ans


def unsaid_relation(ans: Answer, question: str) -> str | None:
    """Why ``ans`` is no answer when the question asks a death, a marriage, a design, a
    founding or an opening and no sentence it cites, nor any shown sentence naming it, says
    one ("its sentences say nothing of dying"), else None."""
    if ans.abstained:
        return None
    name = ans.text.strip().casefold()
    quotes = [c.quote for c in ans.citations if c.supported] + [
        h.chunk.text[a:b] for h in ans.hits for a, b in sentence_spans(h.chunk.text)
        if name and name in h.chunk.text[a:b].casefold()]
    for asks, says, what in _RELATIONS:
        if asks.search(question) and not any(says.search(q) for q in quotes):
            return f"its sentences say nothing of {what}"
    return None


_EVENT_DATE = re.compile(r"\b(?:\d{1,2}\s+[A-Z][a-z]+\s+\d{4}|[A-Z][a-z]+\s+\d{1,2},\s+\d{4}|"
                         r"(?:1[0-9]|20)\d\d)\b")


def read_event_date(question: str, hits: Sequence[Hit]) -> tuple[str, int] | None:
    """``(date, passage number)`` for "When did X open/die?", "When was X founded?" read
    off X's own passage (its title, less a bracketed qualifier, is in the question): the
    first date of its first sentence that says the event ("It opened in 1934."); None
    when the question asks no such event or no such sentence is shown. For when every
    reply was refused (:func:`unsaid_relation`): the reader may keep naming another
    event's year from the same passages."""
    says = next((s for asks, s, what in _RELATIONS if what in ("dying", "founding or opening")
                 and asks.search(question)), None)
    if says is None:
        return None
    for n, h in enumerate(hits, start=1):
        subject = unqualified(h.title)
        if not subject or subject.casefold() not in question.casefold():
            continue
        for a, b in sentence_spans(h.chunk.text):
            sentence = h.chunk.text[a:b]
            date = _EVENT_DATE.search(sentence) if says.search(sentence) else None
            if date:
                return date.group(0), n
    return None


def unsaid(shaped: Answer, question: str) -> str | None:
    """Why ``shaped``, an answer in its asked form (:func:`in_asked_form`), does not say
    what the question asks (a price that is no money, a death, marriage, design, founding
    or opening its sentences do not state), else None."""
    return "no amount of money" if is_no_price(shaped, question) else \
        unsaid_relation(shaped, question)


def is_no_price(ans: Answer, question: str) -> bool:
    """A question about a price answered with an amount that is no money by its own words
    or its cited sentence ("53" from "a carillon of 53 bells" to "How much did the
    carillon cost?"): the reader took a count for the price."""
    return not ans.abstained and bool(_ASKS_PRICE.search(question)) and \
        not _MONEY.search(ans.text) and bool(re.search(r"\d", ans.text))


_WORD = re.compile(r"\S+")


def _fold(word: str) -> str:
    word = re.sub(r"['’]s?$", "", strip_accents(word).casefold().strip(".,;:!?\"()“”‘"))
    return word.strip("'’")


def _near(a: str, b: str) -> bool:
    """One word miscopied as another: the same first letter, half the letters shared."""
    return a[:1] == b[:1] and SequenceMatcher(None, a, b).ratio() >= 0.5


def as_written(ans: Answer) -> Answer:
    """An answer the reader miscopied, set right from the cited sentence when no shown
    passage writes it as given: a false start ("Swan Swansea"), a word cut short before a
    letter outside ASCII ("Gda, Poland" where the sentence says "Gdańsk, Poland": the model
    ranked the end of the answer above that rare token) or one wrong word of a longer name
    ("Walter University of Technology" for "Warsaw University of Technology").

    >>> from kgqa.types import Citation
    >>> cite = Citation(1, "d#0", "d", "T", 0, 1, "He was born in Gdańsk, Poland, in 1979.")
    >>> as_written(Answer("q", "Gda, Poland", citations=(cite,))).text
    'Gdańsk, Poland'
    """
    given = ans.text.split()
    words = [_fold(w) for w in given]
    if ans.abstained or not words or not all(words):
        return ans
    quotes = [c.quote for c in ans.citations if c.supported]
    seen = [" ".join(_fold(w) for w in q.split())
            for q in [*quotes, *(h.chunk.text for h in ans.hits)]]

    def written(ws: list[str]) -> bool:
        return any(f" {' '.join(ws)} " in f" {q} " for q in seen)

    if written(words):
        return ans  # as some passage writes it ("Jo Johnson" stays)
    restart = [k for k in range(len(words) - 1) if len(words[k]) >= 2 and
               words[k + 1] != words[k] and words[k + 1].startswith(words[k])]
    if restart and written([w for k, w in enumerate(words) if k not in restart]):
        return replace(ans, text=" ".join(w for k, w in enumerate(given) if k not in restart))
    known = {w for q in seen for w in q.split()}  # "Russia" is no cut "Russian"
    for quote in quotes:
        found = list(_WORD.finditer(quote))
        for i in range(len(found) - len(words) + 1):
            window = found[i : i + len(words)]
            have = [_fold(m.group()) for m in window]
            cut = [a != b and b.startswith(a) and len(a) >= 3 and a.isalpha() and a not in known
                   and not m.group()[len(a) : len(a) + 1].isascii()  # "Gda|ńsk", not "Russia|n"
                   for a, b, m in zip(words, have, window, strict=True)]
            other = [a != b and not c for a, b, c in zip(words, have, cut, strict=True)]
            named = len(words) >= 3 and sum(other) == 1 and all(
                window[k].group()[:1].isupper() and _near(words[k], have[k])
                for k, o in enumerate(other) if o)
            if (any(cut) and not any(other)) or (named and not any(cut)):
                text = quote[window[0].start() : window[-1].end()].rstrip(".,;:!?")
                return replace(ans, text=text)
    return ans


_MONTH = rf"(?i:\b(?:{MONTH_NAMES})\b\.?)"  # "June", "Dec."
_ASKS_YEAR = re.compile(r"\b(?:year|decade|century)\b", re.I)


def full_date(ans: Answer, question: str, expects: AnswerType | str) -> Answer:
    """A year (or month and year) answered to "when" widened to the full date its
    evidence states.

    "1951" to "When was she born?" is "8 June 1951" when a cited passage gives
    that date and no other date of that year (of that month, for "February
    2020"); a question that asks for the year ("in what year") keeps the year.
    """
    text = ans.text.strip()
    m = re.fullmatch(rf"(?:({_MONTH}) )?(\d{{4}})", text)
    if ans.abstained or expects != "date" or not m or _ASKS_YEAR.search(question):
        return ans
    month = re.escape(m.group(1)) if m.group(1) else _MONTH
    year = m.group(2)
    dates = rf"\b\d{{1,2}} {month} {year}\b|\b{month} \d{{1,2}}, {year}\b"
    cited = {c.chunk_id for c in ans.citations if c.supported}
    found = {d.group(0) for h in ans.hits if h.chunk.id in cited
             for d in re.finditer(dates, h.chunk.text)}
    return replace(ans, text=found.pop()) if len(found) == 1 else ans


_TITLES = frozenset(re.findall(r"\w+", """The A An Mr Mrs Ms Dr Sir Dame Lord Lady King Queen
    Prince Princess President Chancellor Prime Minister General Saint St"""))


def full_name(ans: Answer, expects: AnswerType | str) -> Answer:
    """A person answered by one name widened to the full name its evidence gives.

    "Renner" is "Karl Renner" when the cited sentence says "Karl Renner"; titles
    ("Chancellor", "Sir") are not part of the name.
    """
    text = ans.text.strip()
    if ans.abstained or expects != "person" or not re.fullmatch(r"[A-Z][\w'-]+", text):
        return ans
    for c in ans.citations:
        m = c.supported and re.search(
            rf"((?:\b[A-Z][\w'.-]*\s+){{1,2}}){re.escape(text)}\b", c.quote)
        if not m:
            continue
        first = [w for w in m.group(1).split() if w.rstrip(".") not in _TITLES]
        if first:
            return replace(ans, text=" ".join([*first, text]))
    return ans


_CITY_QUESTION = re.compile(
    r"\b(?:which|what)\s+(?:(?:is|was)\s+)?(?:\w+\s+)?(?:city|town|village)\b", re.I)
_REGION_QUESTION = re.compile(
    r"\b(?:which|what)\s+(?:(?:is|was)\s+)?(?:\w+\s+)?(?:state|country|nation|province|"
    r"region|county)\b", re.I)


_TRAILING_DATE = re.compile(
    rf",?\s+(?:in|on|during|since|around|from)\s+(?:the\s+)?(?:\d{{1,2}}\s+)?(?:{_MONTH}\s+)?"
    rf"(?:\d{{1,2}},?\s+)?\d{{3,4}}s?\s*$")


def trim_to_place(ans: Answer, question: str, expects: AnswerType | str) -> Answer:
    """A place answer cut to the part the question asks for.

    "Hsinchu, Taiwan" -> "Hsinchu" when the question asks which city or town;
    "Hinds County, Mississippi" -> "Mississippi" when it asks which state,
    country or province (the larger place comes last in such a name). A date
    after the place is not part of it ("Leyton, East London, in 1975"). A region answered to
    "which city" is the city its cited sentence names before it ("Sweden" from "born in
    Gothenburg, Sweden." is "Gothenburg").
    """
    if ans.abstained or expects not in ("place", "location"):
        return ans
    dated = _TRAILING_DATE.sub("", ans.text)  # "Leyton, East London, in 1975"
    if dated != ans.text and dated.strip():
        ans = replace(ans, text=dated.strip())
    if expects == "place" and "," not in ans.text and _CITY_QUESTION.search(question):
        for c in ans.citations:  # "Sweden" from "born in Gothenburg, Sweden.": the city
            m = c.supported and re.search(
                rf"\b(?:in|at|near|from)\s+((?:[A-Z][\w'’-]+\s?){{1,3}}),\s+{re.escape(ans.text)}"
                rf"(?=\s*(?:[.;:)]|,\s+(?:in|on|and)\b|and\s+[a-z]|$))", c.quote)
            if m:
                return replace(ans, text=m.group(1).strip())
    if expects != "place" or "," not in ans.text:
        return ans
    parts = [p.strip() for p in ans.text.split(",") if p.strip()]
    if not parts:
        return ans
    if _CITY_QUESTION.search(question):
        return replace(ans, text=parts[0])
    if _REGION_QUESTION.search(question):
        if re.search(r"\bcounty\b", question, re.I):  # "Hinds County, Mississippi" stays a county
            county = [p for p in parts if re.search(r"\bcounty\b", p, re.I)]
            return replace(ans, text=county[0]) if county else ans
        return replace(ans, text=parts[-1])
    return ans


def ambiguity_note(titles: Sequence[str]) -> str:
    """Words for ``Answer.ambiguous``, as ``kgqa ask`` and the web UI show them."""
    return (f"The question's name is shared by {len(titles)} documents ({'; '.join(titles)}); "
            "the citations say which one the answer is about.")


def refused_note(refused: Sequence[Refusal], abstained: bool) -> str:
    """Words for the reader's replies the checks refused (``Answer.refused``), as
    ``kgqa ask`` and the web UI show them beside the answer."""
    replies = "; ".join(f'"{r.reply}" ({r.why})' for r in refused)
    if abstained and len(refused) == 1:
        return f'The reader\'s reply "{refused[0].reply}" was refused: {refused[0].why}.'
    if abstained:
        return f"Refused replies of the reader: {replies}."
    if len(refused) == 1:
        return f"The reader's first reply {replies} was refused; the answer came after it."
    return f"The reader's replies {replies} were refused; the answer came after them."


def answer_as_dict(ans: Answer) -> dict[str, object]:
    """A JSON-ready view of an answer (what ``kgqa ask --json`` prints)."""
    return {
        "question": ans.question,
        "understood_as": ans.understood_as,
        "answer": ans.text,
        "abstained": ans.abstained,
        "shape": ans.shape,
        "refused": [asdict(r) for r in ans.refused],
        "ambiguous": list(ans.ambiguous),
        "citations": [_citation_dict(c) for c in ans.citations],
        "steps": [
            {
                "question": s.question,
                "answer": s.answer,
                "abstained": s.abstained,
                "replaces": s.replaces,
                "refused": [asdict(r) for r in s.refused],
                "citations": [_citation_dict(c) for c in s.citations],
            }
            for s in ans.steps
        ],
        "hits": [
            {
                "rank": h.rank,
                "title": h.title,
                "chunk_id": h.chunk.id,
                "score": h.score,
                "scores": h.scores,
            }
            for h in ans.hits
        ],
        "timings": ans.timings,
    }


def _citation_dict(c: Citation) -> dict[str, object]:
    return {
        "number": c.number,
        "title": c.title,
        "doc_id": c.doc_id,
        "chunk_id": c.chunk_id,
        "start": c.start,
        "end": c.end,
        "quote": c.quote,
        "supported": c.supported,
    }
