"""Comparison questions answered by comparing values, not by asking the reader to.

"Which team has more people, the Firmware team or the Platform team?" asks
for two facts and a comparison. A small reader finds facts well and compares
them badly, so the comparison is done here: each option gets its own value
question ("How many people does the Firmware team have?"), answered hop by
hop, and the values are parsed and compared::

    >>> q = "Who joined Stratwell first, Adaeze Nwosu or Keiko Tanaka?"
    >>> plan = plan_comparison(nlp, q)                                   # doctest: +SKIP
    >>> plan.options, plan.questions, plan.kind, plan.pick               # doctest: +SKIP
    (('Adaeze Nwosu', 'Keiko Tanaka'),
     ('When did Adaeze Nwosu join Stratwell?', 'When did Keiko Tanaka join Stratwell?'),
     'date', 'min')

Recognised: "Which/Who ... more/fewer N ...", "... larger/longer/higher ...",
"... first/earlier/later/last/before/after ...", "... older/younger ..." with two
options at the end ("A or B", after a comma or right after the comparative word).
An option that is an event of a named thing ("the forming of The Dandy Warhols",
"the birth of Robert Young") is asked about as that event ("When was Robert Young
born?") and answered by the thing's name. Anything else (and any value that
cannot be parsed) is left to the reader as one question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from pipelines.answer_type import answer_kind, is_person_noun
from pipelines.modifier_check import modifiers

if TYPE_CHECKING:
    from collections.abc import Callable

    from spacy.language import Language
    from spacy.tokens import Token

ValueKind = Literal["number", "date", "yes_no"]
_MORE = frozenset({"more", "most", "larger", "largest", "bigger", "biggest", "higher",
                   "highest", "longer", "longest", "taller", "tallest", "greater", "greatest"})
_LESS = frozenset({"fewer", "fewest", "less", "least", "smaller", "smallest", "lower", "lowest",
                   "shorter", "shortest"})
_EARLY = frozenset({"first", "earlier", "earliest", "before", "sooner", "older", "oldest"})
_LATE = frozenset({"later", "latest", "last", "after", "younger", "youngest", "newer", "newest",
                   "recently"})
_AGE = frozenset({"older", "oldest", "younger", "youngest"})
_SIZE_ADJ = {"larger": "large", "largest": "large", "bigger": "big", "biggest": "big",
             "higher": "high", "highest": "high", "longer": "long", "longest": "long",
             "taller": "tall", "tallest": "tall", "greater": "great", "greatest": "great",
             "smaller": "small", "smallest": "small", "lower": "low", "lowest": "low",
             "shorter": "short", "shortest": "short"}
_DO_FORM = {"VBD": "did", "VBZ": "does", "VBP": "do", "VB": "do"}
_BE = frozenset({"is", "are", "was", "were"})


# "Which band was formed first The Exies or Circus Diablo?": no comma before the options
_UNMARKED = re.compile(
    r"^(?P<stem>(?:which|who|what)\b[^,]*?\b(?:"
    + "|".join(sorted((_MORE | _LESS | _EARLY | _LATE) - {"after", "before"}))
    + r"))\s+(?!than\b)(?P<a>[^,]+?)\s+or\s+(?P<b>[^,]+)$", re.I)

#: "the birth of X" -> "When was X born?": an option that is an event of a named thing
_EVENTS = {"birth": "was {} born", "death": "did {} die", "forming": "was {} formed",
           "formation": "was {} formed", "founding": "was {} founded",
           "foundation": "was {} founded", "establishment": "was {} established",
           "creation": "was {} created", "release": "was {} released",
           "publication": "was {} published", "opening": "was {} opened",
           "launch": "was {} launched", "construction": "was {} built",
           "premiere": "did {} premiere", "start": "did {} start", "beginning": "did {} begin",
           "end": "did {} end", "founding date": "was {} founded"}
_EVENT = re.compile(r"^(?:the\s+)?(?P<event>" + "|".join(sorted(_EVENTS, key=len, reverse=True))
                    + r")\s+of\s+(?P<name>.+)$", re.I)


@dataclass(frozen=True)
class ComparisonPlan:
    """Two options, the value question for each, and which value wins."""

    options: tuple[str, str]
    questions: tuple[str, str]
    kind: ValueKind
    pick: Literal["max", "min"]
    # the question's own noun for the options ("office" in "Which office opened first, Porto
    # or Toronto?"): an option's value question that finds nothing is asked again with it
    noun: str = ""
    # "Is A older than B?": the answer is "yes" when the first option wins, else "no"
    yes_no: bool = False
    # kind "yes_no" ("Which singer is American, A or B?"): what each option must be said to be
    modifiers: tuple[str, ...] = ()


_OPTIONS_FIRST = re.compile(r"^(?:of|between)\s+(?P<a>[^,]+?)\s+and\s+(?P<b>[^,]+?),\s*"
                            r"(?P<stem>(?:which|who|what)\b[^,]+)$", re.I)


def split_options(question: str) -> tuple[str, str, str] | None:
    """``(stem, A, B)`` for a question ending in "..., A or B?", else ``None``.

    >>> split_options("Which team has more people, the Firmware team or the Platform team?")
    ('Which team has more people', 'the Firmware team', 'the Platform team')

    Without the comma, the stem ends at its comparative word:

    >>> split_options("Which band was formed first The Exies or Circus Diablo ?")
    ('Which band was formed first', 'The Exies', 'Circus Diablo')
    >>> split_options("Which came first: Acme, or Bolt?")
    ('Which came first', 'Acme', 'Bolt')

    The options may come first:

    >>> split_options("Of the Heron railcar and the Waymark app, which was launched earlier?")
    ('which was launched earlier', 'the Heron railcar', 'the Waymark app')
    """
    q = question.strip().rstrip("?").strip()
    first = _OPTIONS_FIRST.match(q)
    if first is not None:
        a, b, stem = first.group("a").strip(), first.group("b").strip(), first.group("stem")
        return (stem, a, b) if len(a.split()) <= 8 and len(b.split()) <= 8 else None
    q = re.sub(r",\s+or\s+", " or ", q)  # "A, or B"
    m = re.search(r"^(?P<stem>.+?),\s*(?P<a>[^,]+?)\s+or\s+(?P<b>[^,]+)$", q) or \
        re.search(r"^(?P<stem>[^,:]+?):\s*(?P<a>[^,]+?)\s+or\s+(?P<b>[^,]+)$", q) or \
        _UNMARKED.search(q)
    if m is None:
        return None
    stem, a, b = m.group("stem").strip(), m.group("a").strip(), m.group("b").strip()
    if not stem or not a or not b or len(a.split()) > 8 or len(b.split()) > 8:
        return None
    return stem, a, b


def plan_comparison(nlp: Language, question: str,
                    label: Callable[[str], str | None] | None = None) -> ComparisonPlan | None:
    """The plan for a comparison question (see the module docstring), else ``None``.

    ``label(name)`` is the knowledge graph's label of an option (``PERSON``,
    ``ORG``...), if known: "Which is older, A or B?" asks when a person was born
    and when an organisation was founded.
    """
    parts = split_options(question)
    if parts is None:
        return None
    stem, a, b = parts
    doc = nlp(stem)
    tokens = list(doc)
    if len(tokens) < 3 or tokens[0].lower_ not in ("which", "who", "what"):
        return None
    j = 1
    while j < len(tokens) and tokens[j].tag_ in ("NN", "NNS", "JJ", "NNP", "NNPS"):
        j += 1  # "Which team", "Which product", "Who"
    if j >= len(tokens):
        return None
    words = [t.lower_ for t in tokens]
    nouns = [t.lower_ for t in tokens[1:j] if t.tag_ in ("NN", "NNS")]
    noun = nouns[-1] if nouns else ""
    for i, w in enumerate(words):
        if w in _MORE | _LESS and i + 1 < len(tokens) and tokens[i + 1].tag_ in ("NN", "NNS") \
                and w in ("more", "most", "fewer", "fewest", "less", "least"):
            qs = tuple(_how_many(tokens, j, i, opt) for opt in (a, b))
            if None in qs:
                return None
            return ComparisonPlan((a, b), qs, "number", "max" if w in _MORE else "min", noun)  # type: ignore[arg-type]
        if w in ("more", "less") and i == len(tokens) - 1 and i > 1 and \
                tokens[i - 1].tag_ in ("VBZ", "VBP", "VBD") and tokens[i - 1].lower_ not in _BE:
            # "Which costs more, A or B?": how much each costs
            verb = tokens[i - 1].lemma_.lower()
            qs = tuple(f"How much does {_lower_the(opt)} {verb}?" for opt in (a, b))
            return ComparisonPlan((a, b), qs, "number", "max" if w == "more" else "min", noun)  # type: ignore[arg-type]
        if w in _SIZE_ADJ and tokens[j].lower_ in _BE:
            adj = _SIZE_ADJ[w]
            qs = tuple(f"How {adj} {tokens[j].lower_} {_lower_the(opt)}?" for opt in (a, b))
            return ComparisonPlan((a, b), qs, "number", "max" if w in _MORE else "min", noun)  # type: ignore[arg-type]
        if w in _EARLY | _LATE:
            pick: Literal["max", "min"] = "min" if w in _EARLY else "max"
            if w in _AGE:
                qs = tuple(f"When was {_lower_the(opt)} {_age_event(nouns, label, opt)}?"
                           for opt in (a, b))
                return ComparisonPlan((a, b), qs, "date", pick, noun)  # type: ignore[arg-type]
            qs2 = tuple(_date_question(tokens, j, i, opt, label) for opt in (a, b))
            if None in qs2:
                return None
            names = tuple(e.group("name") if (e := _EVENT.match(opt)) is not None else opt
                          for opt in (a, b))
            return ComparisonPlan(names, qs2, "date", pick, noun)  # type: ignore[arg-type]
    if tokens[j].lower_ in _BE and j + 2 == len(tokens) and tokens[j + 1].tag_ == "JJ":
        # "Which singer is American, A or B?": is each option said to be it
        adj = tokens[j + 1].text
        be = "Is" if tokens[j].lower_ in ("is", "are") else "Was"
        kind = f"{adj} {' '.join(nouns)}" if nouns else adj
        qs = tuple(f"{be} {_lower_the(opt)} {_article(kind) + ' ' if nouns else ''}{kind}?"
                   for opt in (a, b))
        return ComparisonPlan((a, b), qs, "yes_no", "max", noun,  # type: ignore[arg-type]
                              modifiers=modifiers([adj]))
    return None


_THAN = re.compile(r"^(?P<aux>is|was|are|were)\s+(?P<rest>.+?)\s+than\s+(?P<b>[^?]+?)\s*\??$",
                   re.I)


def plan_than(nlp: Language, question: str,
              label: Callable[[str], str | None] | None = None) -> ComparisonPlan | None:
    """ "Is A older than B?", "Was A founded earlier than B?": the plan of "Which is older,
    A or B?", answered yes when A wins; else ``None``."""
    m = _THAN.match(" ".join(question.split()))
    if m is None:
        return None
    tokens = list(nlp(m.group("rest")))
    words = _MORE | _LESS | _EARLY | _LATE
    k = next((i for i in range(len(tokens) - 1, 0, -1)
              if tokens[i].lower_ in words or tokens[i].tag_ in ("JJR", "RBR")), None)
    if k is None:
        return None
    if tokens[k - 1].tag_ in ("VBN", "VBD") and tokens[k - 1].is_lower:
        k -= 1  # "founded earlier"
    a = "".join(t.text_with_ws for t in tokens[:k]).strip()
    predicate = "".join(t.text_with_ws for t in tokens[k:]).strip()
    if not a or not predicate:
        return None
    plan = plan_comparison(nlp, f"Which {m.group('aux').lower()} {predicate}, {a} or "
                                f"{m.group('b')}?", label)
    return None if plan is None else replace(plan, yes_no=True)


_OPENED = frozenset({"office", "station", "plant", "factory", "building", "bridge", "store",
                     "shop", "branch", "campus", "museum", "hospital", "library", "airport",
                     "stadium", "theatre", "theater", "hotel", "restaurant", "mine", "line"})
_AGE_EVENTS = {"ORG": "founded", "GPE": "founded", "FAC": "built", "WORK_OF_ART": "released",
               "PRODUCT": "released"}


_WORK = re.compile(r"\((?:[^()]*\s)?(film|novel|album|song|book|play|series|single|game|poem)"
                   r"\)\s*$", re.I)


def _age_event(nouns: list[str], label: Callable[[str], str | None] | None, option: str,
               unknown: str = "born") -> str:
    """What an option's age counts from: "Which band is older" -> founded; "Who is older",
    "Which actor is older" -> born; with no noun, the option's own words, then the graph's
    label of it; ``unknown`` when none tells."""
    if nouns:
        return "born" if is_person_noun(nouns[-1]) else "founded"
    work = _WORK.search(option)  # "Night Harbour (novel)"
    if work is not None:
        return "published" if work.group(1).lower() in ("novel", "book", "poem") else "released"
    if answer_kind(option)[0] in ("organisation", "university"):  # "Acme Robotics", "Labs"
        return "founded"
    if option.split()[-1].lower() in _OPENED:  # "the Lancaster office"
        return "opened"
    kind = label(re.sub(r"^the\s+", "", option)) if label is not None else None
    return _AGE_EVENTS.get(kind or "", "born" if kind == "PERSON" else unknown)


def _how_many(tokens: list[Token], verb_at: int, more_at: int, option: str) -> str | None:
    """ "Which customer bought more devices from X" -> "How many devices did A buy from X?" """
    verb = tokens[verb_at]
    if not verb.tag_.startswith("V") or more_at <= verb_at:
        return None
    noun = tokens[more_at + 1]
    rest = " ".join(t.text for t in tokens[more_at + 2 :])
    if verb.lower_ in _BE:
        return _tidy(f"How many {noun.text} {verb.lower_} {_lower_the(option)} {rest}?")
    do = _DO_FORM.get(verb.tag_, "did")
    return _tidy(f"How many {noun.text} {do} {_lower_the(option)} {verb.lemma_ or verb.text} "
                 f"{rest}?")


def _date_question(tokens: list[Token], verb_at: int, cmp_at: int, option: str,
                   label: Callable[[str], str | None] | None) -> str | None:
    """The date question for one option of a first/earlier/later comparison: of its event
    ("the birth of X" -> "When was X born?"), of what it is when the verb says only that
    it came ("Which came first, A or B?" -> "When was A founded?"), else of the verb."""
    e = _EVENT.match(option)
    if e is not None:
        return f"When {_EVENTS[e.group('event').lower()].format(e.group('name'))}?"
    verb = tokens[verb_at]
    came = verb.lemma_.lower() in ("come", "appear") or verb.lower_ in (
        "came", "come", "comes", "appeared")
    event = _age_event([], label, option, "") if came else ""
    if event:
        return f"When was {_lower_the(option)} {event}?"
    return _when(tokens, verb_at, cmp_at, option)


def _when(tokens: list[Token], verb_at: int, cmp_at: int, option: str) -> str | None:
    """ "Which product went on sale earlier" -> "When did A go on sale?" """
    verb = tokens[verb_at]
    if not (verb.tag_.startswith("V") or verb.lower_ in _BE):
        return None
    rest = " ".join(t.text for k, t in enumerate(tokens) if k > verb_at and k != cmp_at)
    if verb.lower_ in _BE:  # "Which band was formed first" -> "When was A formed?"
        return _tidy(f"When {verb.lower_} {_lower_the(option)} {rest}?")
    do = _DO_FORM.get(verb.tag_, "did")
    return _tidy(f"When {do} {_lower_the(option)} {verb.lemma_ or verb.text} {rest}?")


def _lower_the(option: str) -> str:
    return "the" + option[3:] if option.startswith("The ") and len(option.split()) > 1 and \
        option.split()[1][:1].islower() else option


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s+([?,.;:!])", r"\1", text)


# -- values ----------------------------------------------------------------------
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
                 "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                 "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
                 "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
                 "dozen": 12}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}


def parse_number(text: str) -> float | None:
    """The first number ``text`` states: digits ("2,400", "1.4") or words ("eleven").

    >>> parse_number("about 340 staff"), parse_number("eleven hours"), parse_number("2.5 million")
    (340.0, 11.0, 2500000.0)
    """
    low = text.lower()
    m = re.search(r"\d[\d,]*(?:\.\d+)?", low)
    value: float | None = None
    end = 0
    if m is not None:
        try:
            value = float(m.group(0).replace(",", ""))
        except ValueError:
            value = None
        end = m.end()
    else:
        for w in re.findall(r"[a-z]+", low):
            if w in _NUMBER_WORDS:
                value = float(_NUMBER_WORDS[w])
                end = low.index(w) + len(w)
                break
    if value is None:
        return None
    scale = re.match(r"\s*(thousand|million|billion|trillion)\b", low[end:])
    return value * _SCALE[scale.group(1)] if scale else value


def parse_date(text: str) -> tuple[int, int, int] | None:
    """``(year, month, day)`` of the date ``text`` states (0 for what it leaves out).

    >>> parse_date("September 2016"), parse_date("9 February 2020"), parse_date("in 2013")
    ((2016, 9, 0), (2020, 2, 9), (2013, 0, 0))
    """
    low = text.lower()
    year = re.search(r"\b(\d{3,4})\b", low)
    if year is None:
        return None
    month = next((n for name, n in _MONTHS.items() if re.search(rf"\b{name[:3]}\w*", low)), 0)
    day_m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\b", low.replace(year.group(1), " "))
    day = int(day_m.group(1)) if day_m and month and 1 <= int(day_m.group(1)) <= 31 else 0
    return int(year.group(1)), month, day


def option_answer(options: tuple[str, str], winner: int) -> str:
    """The winning option as the answer, without the lower-case words both options open
    with ("the Firmware team" -> "Firmware team"; "a standard Driftline Buoy" against "a
    standard Kestrel Station" -> "Driftline Buoy").

    >>> option_answer(("a standard Kestrel Station", "a standard Driftline Buoy"), 1)
    'Driftline Buoy'
    >>> option_answer(("Lena Brook", "Lena Marsh"), 0)
    'Lena Brook'
    """
    words = [o.split() for o in options]
    k = 0
    while k < min(map(len, words)) - 1 and words[0][k].lower() == words[1][k].lower() and \
            words[0][k].islower():
        k += 1
    return re.sub(r"^(?:the|an?)\s+", "", " ".join(words[winner][k:]))


def decide(plan: ComparisonPlan, values: tuple[str, str]) -> int | None:
    """Index (0 or 1) of the option that wins, or ``None`` when the values do not decide."""
    parsed: list[float | tuple[int, int, int] | None]
    if plan.kind == "yes_no":  # the one option said to be it
        from llm.metrics import normalize_answer

        said = [normalize_answer(v) for v in values]
        if any(v not in ("yes", "no") for v in said) or said[0] == said[1]:
            return None
        return 0 if said[0] == "yes" else 1
    if plan.kind == "number":
        parsed = [parse_number(v) for v in values]
    else:
        parsed = [parse_date(v) for v in values]
    a, b = parsed
    if a is None or b is None or a == b:
        return None
    if plan.kind == "date":
        assert isinstance(a, tuple) and isinstance(b, tuple)
        # compare only as finely as both dates are known
        if (a[1] == 0 or b[1] == 0) and a[0] == b[0]:
            return None
    first_wins = a > b if plan.pick == "max" else a < b  # type: ignore[operator]
    return 0 if first_wins else 1


# -- yes/no comparisons ----------------------------------------------------------------
@dataclass(frozen=True)
class YesNoPlan:
    """ "Are A and B both N?" (``all``: each must be N), "... in the same N?" (``same``) or
    "... both born in Lyon?" (``value``: each one's answer must be ``value``)."""

    options: tuple[str, str]
    questions: tuple[str, str]
    test: Literal["all", "same", "value"]
    modifiers: tuple[str, ...] = ()  # "all": what qualifies the noun ("American" directors)
    value: str = ""  # "value": what each answer must say ("Lyon", "2013")


_PAIR = re.compile(
    r"^(?P<aux>[Aa]re|[Ww]ere|[Ii]s|[Ww]as)\s+(?:both\s+)?(?P<a>[A-Z0-9][^,?]*?)\s+and\s+"
    r"(?P<b>[A-Z0-9][^,?]*?)\s+(?P<rest>(?:both\s+)?[a-z][^?]*?)\s*\??\s*$")
_DID_SAME = re.compile(
    r"^(?P<aux>[Dd]id|[Dd]o|[Dd]oes)\s+(?P<a>[A-Z0-9][^,?]*?)\s+and\s+(?P<b>[A-Z0-9][^,?]*?)\s+"
    r"(?:both\s+)?(?P<verb>[a-z]+)\s+(?:(?P<prep>at|in|for|from|with|to|under)\s+)?the\s+same\s+"
    r"(?P<noun>[a-z]+)\s*\??\s*$")
_SAME = re.compile(r"^(?:both\s+)?(?P<pre>.*?)\s*\bthe same\s+(?P<noun>[a-z]+)\s*(?P<post>.*)$")


_LISTED = re.compile(
    r"^(?P<aux>[Aa]re|[Ww]ere)\s+both\s+(?P<kind>[a-z][a-z ]*?),\s+(?P<a>[^,?]+?)\s+and\s+"
    r"(?P<b>[^,?]+?),\s+(?P<rest>[A-Za-z][^?]*?)\s*\??\s*$")


def _no_the(option: str) -> str:
    return option[4:] if option.lower().startswith("the ") else option


def plan_yes_no(question: str) -> YesNoPlan | None:
    """The plan for "Are A and B both N?" / "Are A and B in the same N?", else ``None``.

    >>> plan_yes_no("Are Medici and Senet both board games?").questions
    ('Is Medici a board game?', 'Is Senet a board game?')
    >>> plan_yes_no("Are Nantong and Jingdezhen situated in the same province?").questions
    ('In which province is Nantong situated?', 'In which province is Jingdezhen situated?')
    """
    text = " ".join(question.split())
    did = _DID_SAME.match(text)  # "Did A and B study at the same university?"
    if did is not None:
        a, b = did.group("a").strip(), did.group("b").strip()
        aux, verb, prep, noun = (did.group(g) or "" for g in ("aux", "verb", "prep", "noun"))
        aux = "did" if aux.lower() == "did" else "does"  # one option: "Which supplier does A use?"
        qs = tuple(_tidy(f"Which {noun} {aux} {x} {verb} {prep}?") for x in (a, b))
        return YesNoPlan((a, b), qs, "same")  # type: ignore[arg-type]
    listed = _LISTED.match(text)  # "Are both magazines, A and B, British publications?"
    if listed is not None:
        rest = listed.group("rest")
        if len(rest.split()) == 1 and not rest.endswith("s"):  # "..., A and B, animated?"
            rest = f"{rest} {listed.group('kind')}"
        text = (f"{listed.group('aux')} {_no_the(listed.group('a'))} and "
                f"{_no_the(listed.group('b'))} both {rest}?")
    m = _PAIR.match(text)
    both = re.match(r"^(?P<aux>[Aa]re|[Ww]ere|[Ii]s|[Ww]as)\s+(?P<a>[A-Z0-9].*?)\s+and\s+"
                    r"(?P<b>[A-Z0-9].*?)\s+(?P<rest>both\s+[^?]*?)\s*\??\s*$", text)
    m = both or m  # "... B both N": B may hold lower-case words ("Escape from the Dark")
    if m is None:
        return None
    a, b, rest = m.group("a").strip(), m.group("b").strip(), m.group("rest").strip()
    if len(a.split()) > 6 or len(b.split()) > 6:
        return None
    be = "Is" if m.group("aux").lower() in ("are", "is") else "Was"
    same = _SAME.match(rest)
    if same is not None:
        noun, pre = same.group("noun"), same.group("pre").strip()
        words = pre.split()
        if words and words[-1] in ("in", "from", "at", "of", "on"):
            prep, words = words[-1], words[:-1]
        else:
            prep = "in"
        verb = " ".join(w for w in words if not w.endswith("s") or w.endswith("ss"))
        if words and words[0].endswith("s") and not verb and prep == "of":
            # "members of the same band" -> "Which band is A a member of?"
            role = _singular(words[0])
            qs = tuple(f"Which {noun} {be.lower()} {x} {_article(role)} {role} {prep}?"
                       for x in (a, b))
        else:  # "situated in the same province", "airports in the same state"
            qs = tuple(_tidy(f"In which {noun} {be.lower()} {x} {verb}?") for x in (a, b))
        return YesNoPlan((a, b), qs, "same")  # type: ignore[arg-type]
    if not rest.startswith("both "):
        return None
    predicate = rest[len("both "):].split()
    valued = _valued(a, b, be, predicate)  # "both born in Lyon", "both released in 2013"
    if valued is not None:
        return valued
    if (not predicate or len(predicate) > 5
            or any(w.lower() in _PREPOSITIONS or w.lower() in ("and", "or") for w in predicate)
            or (len(predicate) == 1 and not predicate[0].endswith("s"))):
        return None  # "both released in 2013", "both married": no "Is A a N?" question
    last = _singular(predicate[-1])
    phrase = " ".join([*predicate[:-1], last])
    qs = tuple(f"{be} {x} {_article(phrase)} {phrase}?" for x in (a, b))
    return YesNoPlan((a, b), qs, "all", modifiers(predicate[:-1]))  # type: ignore[arg-type]


_IRREGULAR_PARTICIPLES = frozenset({"born", "built", "made", "written", "known", "held", "sold",
                                    "run", "begun", "grown", "shown", "drawn", "taken", "given",
                                    "set", "led", "won", "brought", "bought", "taught", "shot"})
_WHEN_VALUE = re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}}|{'|'.join(_MONTHS)})\b", re.I)


def _valued(a: str, b: str, be: str, predicate: list[str]) -> YesNoPlan | None:
    """ "A and B both <participle> in/at/on/by <value>": one value question per option.

    >>> _valued("Ana", "Ivo", "Was", ["born", "in", "Lyon"]).questions
    ('Where was Ana born?', 'Where was Ivo born?')
    >>> _valued("Ana", "Ivo", "Was", ["released", "in", "2013"]).questions
    ('When was Ana released?', 'When was Ivo released?')
    """
    if len(predicate) < 3 or predicate[1].lower() not in ("in", "at", "on", "by"):
        return None
    verb = predicate[0].lower()
    if not (verb in _IRREGULAR_PARTICIPLES or (verb.endswith("ed") and len(verb) > 4)):
        return None
    value = " ".join(predicate[2:])
    if predicate[1].lower() == "by":
        qs = tuple(f"{x} {be.lower()} {verb} by whom?" for x in (a, b))
    elif _WHEN_VALUE.search(value):
        qs = tuple(f"When {be.lower()} {x} {verb}?" for x in (a, b))
    else:
        qs = tuple(f"Where {be.lower()} {x} {verb}?" for x in (a, b))
    return YesNoPlan((a, b), qs, "value", value=value)  # type: ignore[arg-type]


_PREPOSITIONS = frozenset({"in", "on", "at", "by", "from", "to", "for", "with", "of", "into",
                           "about", "as", "than", "since", "during", "before", "after"})
def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def decide_yes_no(plan: YesNoPlan, values: tuple[str, str]) -> str | None:
    """``yes``/``no`` from the two answers, or ``None`` when they do not decide."""
    from llm.metrics import normalize_answer

    a, b = (normalize_answer(v) for v in values)
    if plan.test == "value":
        want = set(normalize_answer(plan.value).split())
        if not a or not b or not want:
            return None  # each answer names the value ("Lyon, France" says "Lyon")
        return "yes" if want <= set(a.split()) and want <= set(b.split()) else "no"
    if plan.test == "all":
        if a not in ("yes", "no") or b not in ("yes", "no"):
            return None
        return "yes" if a == b == "yes" else "no"
    if not a or not b:
        return None
    ta, tb = set(a.split()), set(b.split())
    return "yes" if a == b or ta <= tb or tb <= ta else "no"
