"""Question answering: analyse the question, answer hop by hop, check every answer.

``answer`` is composed of what it is given and never calls back into a
knowledge base: a ``retrieve`` function (question, k -> hits), a
:class:`~llm.generator.Generator`, the documents' text for quotes, and
optionally a question analyser and an entity-label lookup::

    >>> ans = answer("Which university did the designer of the Kestrel Station attend?",
    ...              retrieve=lambda q, k: kb.search(q, top_k=k), generator=gen,
    ...              document_text=lambda d: kb.document(d).text,
    ...              analyse=kb.question_shape, entity_label=kb.entity_label)  # doctest: +SKIP
    >>> [(s.question, s.answer) for s in ans.steps]                            # doctest: +SKIP
    [('Who is the designer of the Kestrel Station?', 'Adaeze Nwosu'),
     ('Which university did Adaeze Nwosu attend?', 'University of Lagos')]

``KnowledgeBase.ask`` wires a base's search, documents, spaCy pipeline and graph
into it. One hop (:func:`read`) retrieves passages, keeps one per document
(neighbouring chunks of a document merged), prompts the generator, checks the
reply against the passages (``llm.grounding``) and against the kind of answer
the question wants (``pipelines.answer_type``); a reply that fails is asked
once more with the passages in the other order, then abstained from.

A bridge question (``pipelines.question_shape``) is answered from the inside
out: "Who is the designer of the Kestrel Station?" first, then "Which
university did Adaeze Nwosu attend?", each hop with its own retrieval. When a
hop cannot be answered, the question is answered as it stands. ``stream_to``
receives the last hop's tokens as they come (for a terminal); ``on_step`` each
finished hop.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from kgqa.errors import ConfigError
from kgqa.types import Answer, Hit, Refusal, Step
from llm.generator import ChatMessage, Generator
from llm.grounding import (
    ABSTAIN_TEXT,
    PromptConfig,
    alignment,
    answer_fits_question,
    build_messages,
    ground_answer,
    is_refusal,
    parse_citations,
    refusal_reason,
)
from pipelines.answer_form import (
    in_asked_form,
    joined,
    read_event_date,
    shared_names,
    unsaid,
)
from pipelines.answer_type import AnswerType, Fit, answer_kind, expected_type, fit
from pipelines.comparison import (
    ComparisonPlan,
    YesNoPlan,
    decide,
    decide_yes_no,
    option_answer,
)
from pipelines.count_reader import read_count
from pipelines.coverage import answer_described
from pipelines.described import described_by
from pipelines.modifier_check import lacks_modifiers
from pipelines.passages import cached, distinct_passages
from pipelines.question_shape import QuestionShape

#: ``retrieve(question, top_k)`` -> hits, best first.
Retrieve = Callable[[str, int], Sequence[Hit]]


@dataclass(frozen=True)
class QAConfig:
    """Answering settings; the defaults are tuned for the default model on a CPU.

    Measured with ``benchmarks/answer.py`` (see the README's ablation table).
    """

    mode: str = "hybrid"
    top_k: int = 5  # passages the reader sees (distinct documents)
    max_new_tokens: int = 32  # answers are short; this bounds a rambling reply
    stop: tuple[str, ...] = ("\n\n",)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    # When the checked answer is an abstention, ask once more with the passages
    # listed the other way round (the best next to the question): a small model
    # reads the passage nearest the question most. On 60 questions each this
    # added 2.1 F1 on hotpotqa and 2.1 on musique; it costs a second generation
    # only for the questions that would otherwise go unanswered.
    second_look: bool = True
    # Answer bridge questions hop by hop (question analysis, one retrieval per hop).
    hops: bool = True
    max_hops: int = 3  # sub-questions before the last one
    hop_top_k: int = 5  # passages per intermediate hop
    # Neighbouring chunks of one document become one passage, and a document
    # counts once among the passages shown.
    distinct_documents: bool = True
    retrieve_factor: int = 1  # hits retrieved per passage shown (more fill with other documents)
    # An answer of the wrong kind ("Stratwell Instruments" to "in which city")
    # is not returned.
    check_type: bool = True
    # "..., A or B?" comparisons: one value question per option, compared in code.
    compare: bool = True
    # An answer whose evidence sentence restates less than this share of the
    # question's words (llm.grounding.alignment) gets the second look too, and the
    # better-aligned of the two answers is kept. 0 turns this off.
    min_alignment: float = 0.3
    # A question that expects a number and got no supported answer takes the count
    # its best-matching evidence sentence states (pipelines.count_reader); one asking when
    # X opened, was founded or died, the date X's own passage gives with that event
    # (pipelines.answer_form.read_event_date).
    read_counts: bool = True
    # "Are A and B both American directors?": an option's "yes" turns to "no" when
    # evidence about it is found and does not say "American" (pipelines.modifier_check).
    check_modifiers: bool = True
    # An answer that is an entity the question only describes ("Jeffrey Smart" to "...
    # include a painter known for his depictions of what?") is taken as a hop: the
    # question is asked again with it named (pipelines.described).
    reread_described: bool = True
    # A reply that cannot answer the question (its own subject, "Yes" to "which city?") is
    # asked again with that opening suppressed, when the generator can steer its first
    # token (llm.transformers_backend: generate_avoiding).
    avoid_unfit: bool = True
    # A question that describes its answer ("Which comedy produced by X had music by
    # Y?") is answered by the shown passages' subject that states most of it, when that
    # is not the reader's pick (pipelines.coverage).
    prefer_described: bool = True


def answer(
    question: str,
    *,
    retrieve: Retrieve,
    generator: Generator,
    document_text: Callable[[str], str] | None = None,
    analyse: Callable[[str], QuestionShape] | None = None,
    entity_label: Callable[[str], str | None] | None = None,
    config: QAConfig | None = None,
    stream_to: Callable[[str], object] | None = None,
    on_step: Callable[[Step], object] | None = None,
) -> Answer:
    """Answer ``question`` with checked citations, its chain of hops and timings.

    ``document_text(doc_id)`` gives a document's text for the quotes (default:
    the chunks' own text); ``analyse`` gives the question's shape (without it,
    every question is answered in one hop); ``entity_label(name)`` the graph's
    label of an entity name, for the answer-type check. Raises
    :class:`~kgqa.errors.ConfigError` for an empty question or bad settings.
    """
    cfg = check_config(config or QAConfig())
    check_question(question)
    t0, c0 = time.perf_counter(), time.process_time()
    reader = _Reader(retrieve, generator, document_text, entity_label, cfg)
    shapes: dict[str, QuestionShape] = {}  # a chain may analyse a question twice

    def shape_of(text: str) -> QuestionShape | None:
        if analyse is not None and text not in shapes:
            shapes[text] = analyse(text)
        return shapes.get(text)

    shape = shape_of(question)
    steps: list[Step] = []
    asked = question
    if shape is not None and shape.comparison is not None and cfg.compare:
        compared = _compare(reader, shape.comparison, question, on_step)
        if compared is not None:
            return _finish(compared[0], compared[1], question, shape, reader, t0, c0)
    if shape is not None and shape.pair is not None and cfg.compare:
        checked = _check_pair(reader, shape.pair, question, on_step)
        if checked is not None:
            return _finish(checked[0], checked[1], question, shape, reader, t0, c0)
    if shape is not None and shape.kind == "bridge" and cfg.hops:
        current: QuestionShape | None = shape
        while current is not None and current.bridge is not None and len(steps) < cfg.max_hops:
            bridge = current.bridge
            hop = reader.read(bridge.question, bridge.expects, cfg.hop_top_k)
            if cfg.prefer_described:
                hop = _as_described(reader, shape_of(bridge.question), hop, bridge.question,
                                    bridge.expects, cfg.hop_top_k)
            step = _step(bridge.question, hop, replaces=bridge.phrase)
            steps.append(step)
            if on_step is not None:
                on_step(step)
            if hop.abstained:
                break
            asked = bridge.substitute(hop.text)
            current = shape_of(asked)
            if current is not None and (current.kind != "bridge" or current.bridge is None or
                                        current.bridge.source != asked):
                current = None  # no further bridge (or the analysis repeats itself)
    if steps and steps[-1].abstained:
        # A hop could not be answered: answer the question with the hops that
        # were (all of it as it stands when none was).
        steps = steps[:-1]
    expects = shape.expects if shape is not None else expected_type(question)
    # a chain's last question names its hops' answers: one of them as the reply means the
    # chain went a hop too far ("What is the name of Euphoria?"), not a reply to steer away
    final = reader.read(asked, expects, cfg.top_k, stream_to=stream_to, steer=not steps)
    if steps and not final.abstained and not answer_fits_question(final.text, question):
        # "Amy Johnson" to "What was the profession of Amy Johnson, whom ...?": the chain
        # ended on what the question itself names
        final = replace(final, text=ABSTAIN_TEXT, citations=(), abstained=True)
    if final.abstained and steps:
        # The chain's last question found nothing: the question as asked may.
        if stream_to is not None:
            stream_to("\n")
        direct = reader.read(question, expects, cfg.top_k, stream_to=stream_to)
        if not direct.abstained:
            final, steps = direct, []
    if not steps and shape is not None and shape.described and cfg.reread_described:
        first = final if not final.abstained else _refused_entity(reader, final, question)
        if first is not None:
            again, reread, reasked = _reread_described(reader, shape, first, expects, stream_to,
                                                       on_step)
            if reread or not final.abstained:
                final, steps, asked = again, reread, reasked
    if cfg.prefer_described:  # a chain's last question too
        final = _as_described(reader, shape_of(asked) if steps else shape, final, asked,
                              expects, cfg.top_k)
    if steps:
        last = _step(asked, final)
        steps.append(last)
        if on_step is not None:
            on_step(last)
    return _finish(final, steps, question, shape, reader, t0, c0)


def _finish(final: Answer, steps: Sequence[Step], question: str, shape: QuestionShape | None,
            reader: _Reader, t0: float, c0: float) -> Answer:
    timings = {
        "retrieve_s": reader.retrieve_s,
        "generate_s": reader.generate_s,
        "total_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "hops": float(max(1, len(steps))),
        "generations": float(reader.generations),
    }
    seen = [*final.hits, *(h for s in steps for h in s.hits)]
    return replace(final, question=question, steps=tuple(steps),
                   shape=shape.kind if shape is not None else "single", timings=timings,
                   ambiguous=shared_names(question, seen))


def _compare(reader: _Reader, plan: ComparisonPlan, question: str,
             on_step: Callable[[Step], object] | None) -> tuple[Answer, list[Step]] | None:
    """Answer "..., A or B?" by one value question per option and a comparison in code.

    ``None`` when a value is missing or does not decide (equal, unparsable).
    """
    hops: list[Answer] = []
    steps: list[Step] = []
    for option, value_question in zip(plan.options, plan.questions, strict=True):
        hop = reader.read(value_question, plan.kind, reader.cfg.hop_top_k)
        if hop.abstained or not _names_option(hop, option):
            # "When did Porto open?" found the Edinburgh office's year: asked again with only
            # the passages that name the option, and "When did the Porto office open?" when
            # the question names what the options are
            if plan.noun and plan.kind != "yes_no" and plan.noun not in option.lower().split():
                bare = re.sub(r"^the\s+", "", option, flags=re.I)
                value_question = value_question.replace(option, f"the {bare} {plan.noun}", 1)
            hop = reader.read(value_question, plan.kind, reader.cfg.hop_top_k,
                              keep=_naming(option))
        if (plan.kind == "yes_no" and reader.cfg.check_modifiers
                and hop.text.lower().startswith("yes") and lacks_modifiers(
                    plan.modifiers, option, [(h.title, h.chunk.text) for h in hop.hits])):
            hop = replace(hop, text="no")  # "Which singer is American": not said of this one
        step = _step(value_question, hop, replaces=option)
        steps.append(step)
        if on_step is not None:
            on_step(step)
        if hop.abstained or not _names_option(hop, option):
            return None  # not a value of this option: "7 July 1950" from another's page
        hops.append(hop)
    winner = decide(plan, (hops[0].text, hops[1].text))
    if winner is None:
        return None
    text = option_answer(plan.options, winner)
    if plan.yes_no:
        text = "yes" if winner == 0 else "no"  # "Is A older than B?"
    final = joined(question, text, (hops[winner], hops[1 - winner]))
    steps.append(_step(question, final))
    if on_step is not None:
        on_step(steps[-1])
    return final, steps


def _check_pair(reader: _Reader, plan: YesNoPlan, question: str,
                on_step: Callable[[Step], object] | None) -> tuple[Answer, list[Step]] | None:
    """Answer "Are A and B both N?" / "... the same N?" one option at a time.

    ``None`` when an option's question is not answered (the question is then
    answered as it stands).
    """
    hops: list[Answer] = []
    steps: list[Step] = []
    for option, option_question in zip(plan.options, plan.questions, strict=True):
        expects = {"all": "yes_no", "same": "any"}.get(plan.test) or expected_type(option_question)
        hop = reader.read(option_question, expects, reader.cfg.hop_top_k)
        if (reader.cfg.check_modifiers and hop.text.lower().startswith("yes")
                and lacks_modifiers(plan.modifiers, option,
                                    [(h.title, h.chunk.text) for h in hop.hits])):
            hop = replace(hop, text="no")  # a "yes" its evidence does not bear out
        steps.append(_step(option_question, hop, replaces=option))
        if on_step is not None:
            on_step(steps[-1])
        if hop.abstained:
            return None
        hops.append(hop)
    values = [hop.text for hop in hops]
    verdict = decide_yes_no(plan, (values[0], values[1]))
    if verdict is None:
        return None
    final = joined(question, verdict, hops)
    steps.append(_step(question, final))
    if on_step is not None:
        on_step(steps[-1])
    return final, steps


def _reread_described(reader: _Reader, shape: QuestionShape, first: Answer,
                      expects: AnswerType | str, stream_to: Callable[[str], object] | None,
                      on_step: Callable[[Step], object] | None,
                      ) -> tuple[Answer, list[Step], str]:
    """Ask again when ``first`` is an entity the question describes (see
    ``pipelines.described``): (answer, steps, question the answer is to).

    The reread's answer replaces ``first`` when it is supported, is another
    entity and fits the question; otherwise the question is abstained from:
    ``first`` is what the question describes, not what it asks. Both reads are
    steps. The reread is not steered away from a reply naming ``first`` again: the
    evidence read is about ``first``, so another name would be a guess.
    """
    question = shape.question
    d = described_by(first.text, shape.described, [(h.title, h.chunk.text) for h in first.hits])
    if d is None or answer_kind(first.text) == (expects, True):
        # "Aldebaran Satellite Services" to "Which company provides the satellite service
        # ...?" is by its own words the company asked for, not the service described
        return first, [], question
    asked = d.name_in(question, first.text)
    if _content(first.text) <= _content(question[: d.start]) or asked == question:
        return first, [], question  # already named there: "Anders Holm, a Danish engineer"
    if stream_to is not None:
        stream_to("\n")
    again = reader.read(asked, expects, reader.cfg.top_k, stream_to=stream_to, steer=False)
    same = _content(again.text) <= _content(first.text) or _content(first.text) <= _content(
        again.text)
    step = _step(question, first, replaces=d.phrase)
    if on_step is not None:
        on_step(step)
    if again.abstained or same or not answer_fits_question(again.text, question) or \
            _content(again.text) <= _content(question):  # the question's own words, "and" or not
        # the question asks about what ``first`` is; it is not the answer
        again = replace(again, text=ABSTAIN_TEXT, citations=(), abstained=True)
    return again, [step], asked


def _as_described(reader: _Reader, shape: QuestionShape | None, ans: Answer, question: str,
                  expects: AnswerType | str, top_k: int) -> Answer:
    """``ans``, or the candidate among the passages it was read from that states more of
    what ``question`` says of its answer (:func:`pipelines.coverage.answer_described`)."""
    if shape is None or shape.describes_answer is None or ans.abstained:
        return ans
    shown = ans.hits[: min(reader.cfg.prompt.max_passages, top_k)]
    return answer_described(shape.describes_answer, ans, question, expects, shown,
                            reader.document_text)


def _refused_entity(reader: _Reader, final: Answer, question: str) -> Answer | None:
    """The reader's last refused reply, when only its kind was refused: "Halden University"
    to "... at a university which has a campus in which city?" may be the university
    the question describes (``_reread_described``); ``None`` otherwise."""
    if not final.refused or not reader.cfg.check_type:
        return None
    ans = ground_answer(question, final.refused[-1].reply, final.hits,
                        document_text=reader.document_text,
                        max_passages=reader.cfg.prompt.max_passages)
    return None if ans.abstained else ans


def _option_words(option: str) -> set[str]:
    return _content(re.sub(r"\([^()]*\)", " ", option))  # "Night Harbour (film)"


def _naming(option: str) -> Callable[[Hit], bool]:
    """Whether a passage (its title or text) names ``option``."""
    want = _option_words(option)
    return lambda hit: want <= _content(f"{hit.title} {hit.chunk.text}")


def _names_option(ans: Answer, option: str) -> bool:
    """Whether a passage ``ans`` cites (its title or text) names ``option``."""
    want = _option_words(option)
    for c in ans.citations:
        hit = next((h for h in ans.hits if h.chunk.id == c.chunk_id), None)
        if c.supported and want <= _content(f"{c.title} {hit.chunk.text if hit else c.quote}"):
            return True
    return False


_KIND_WORDS = {"person": "a person", "place": "a place", "location": "a place",
               "university": "a university", "organisation": "an organisation",
               "date": "a date", "number": "a number"}


def _content(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower())) - {"the", "a", "an", "of", "and"}


def _step(question: str, ans: Answer, replaces: str = "") -> Step:
    return Step(question=question, answer=ans.text, citations=ans.citations, hits=ans.hits,
                abstained=ans.abstained, replaces=replaces, refused=ans.refused)


class _Reader:
    """One hop: retrieve, prompt, check; with the time it took, across hops."""

    def __init__(self, retrieve: Retrieve, generator: Generator,
                 document_text: Callable[[str], str] | None,
                 entity_label: Callable[[str], str | None] | None, cfg: QAConfig) -> None:
        self.retrieve = retrieve
        self.generator = generator
        self.document_text = cached(document_text) if document_text else None
        self.entity_label = entity_label
        self.cfg = cfg
        self.retrieve_s = 0.0
        self.generate_s = 0.0
        self.generations = 0

    def read(self, question: str, expects: AnswerType | str, top_k: int,
             stream_to: Callable[[str], object] | None = None,
             avoid: tuple[str, ...] = (), steer: bool = True,
             keep: Callable[[Hit], bool] | None = None) -> Answer:
        """The checked answer to one self-contained question; the first reply may not
        open as any of ``avoid`` does (when the generator can steer that). With
        ``steer``, a reply that cannot answer the question is asked again without
        that opening (``QAConfig.avoid_unfit``). ``keep`` chooses the passages the
        reader may see among twice as many retrieved."""
        cfg = self.cfg
        t = time.perf_counter()
        depth = cfg.retrieve_factor * top_k if cfg.distinct_documents else top_k
        hits = list(self.retrieve(question, depth if keep is None else 2 * depth))
        if keep is not None:
            hits = [h for h in hits if keep(h)]
        if cfg.distinct_documents:
            hits = distinct_passages(hits, top_k, self.document_text)
        hits = hits[:top_k]
        self.retrieve_s += time.perf_counter() - t
        if not hits:
            return Answer(question=question, text=ABSTAIN_TEXT, abstained=True)
        prompt = replace(cfg.prompt, max_passages=min(cfg.prompt.max_passages, top_k))
        ans, verdict, reply, why = self._ask(question, hits, prompt, expects, stream_to, avoid)
        asked = [(reply, why)]  # each reply, and why the checks refused it ("" if they did not)
        used = 0  # which of them ``ans`` is
        weak = not ans.abstained and alignment(ans) < cfg.min_alignment
        if (ans.abstained or verdict == "unlikely" or weak) and cfg.second_look and len(hits) > 1:
            if stream_to is not None:
                stream_to("\n")
            flipped = replace(prompt, best_last=not prompt.best_last)
            again, verdict2, reply, why = self._ask(question, hits, flipped, expects, stream_to)
            asked.append((reply, why))
            if ans.abstained or (not again.abstained and verdict2 == "yes" and (
                    verdict == "unlikely" or alignment(again) > alignment(ans))):
                ans, used = again, 1
        unfit = [r for r, _ in asked if r and not is_refusal(r) and
                 not answer_fits_question(r, question)]
        if ans.abstained and unfit and steer and cfg.avoid_unfit and self._can_avoid():
            # "Scott Andrew Buchholz" to "Scott Andrew Buchholz ... was chief of staff to
            # which senator?": the same prompt, the reply may not open that way again
            ans, verdict, reply, why = self._ask(question, hits, prompt, expects, stream_to,
                                                 (*avoid, *dict.fromkeys(unfit)))
            asked.append((reply, why))
            used = len(asked) - 1
        read_off = False  # a value read off the evidence, not a reply _ask checked
        if ans.abstained and expects in ("number", "date") and cfg.read_counts:
            counted = (read_count if expects == "number" else read_event_date)(
                question, hits[: prompt.max_passages])
            if counted is not None:
                value, n = counted
                ans = ground_answer(question, f"{value} [{n}]", hits,
                                    document_text=self.document_text,
                                    max_passages=prompt.max_passages)  # fmt: skip
                used, read_off = len(asked), True
        shaped = in_asked_form(ans, question, expects)
        lacks = unsaid(shaped, question) if read_off else None  # a count is no price either
        if lacks:
            asked.append((shaped.text, lacks))
            shaped = Answer(question=question, text=ABSTAIN_TEXT, hits=ans.hits, abstained=True)
        refused = [Refusal(r, why) for k, (r, why) in enumerate(asked)
                   if why and (k < used or shaped.abstained)]
        return replace(shaped, refused=tuple(dict.fromkeys(refused)))

    def _can_avoid(self) -> bool:
        return callable(getattr(self.generator, "generate_avoiding", None))

    def _ask(self, question: str, hits: Sequence[Hit], prompt: PromptConfig,
             expects: AnswerType | str, stream_to: Callable[[str], object] | None,
             avoid: tuple[str, ...] = ()) -> tuple[Answer, Fit, str, str]:
        """The checked reply to one prompt, how well it fits the expected type, the
        reply's text as the model gave it (before any check), and why the checks refused
        it ("" when they did not, or when the reply itself declines to answer)."""
        t = time.perf_counter()
        messages = build_messages(question, hits, prompt)
        if avoid and self._can_avoid():
            raw = self.generator.generate_avoiding(  # type: ignore[attr-defined]
                messages, avoid, max_new_tokens=self.cfg.max_new_tokens, stop=self.cfg.stop)
            if stream_to is not None:
                stream_to("\n" + raw)
        else:
            raw = generate(self.generator, messages, self.cfg, stream_to)
        reply = parse_citations(raw)[0]
        self.generate_s += time.perf_counter() - t
        self.generations += 1
        ans = ground_answer(question, raw, hits, document_text=self.document_text,
                            max_passages=prompt.max_passages)
        if ans.abstained:
            declined = is_refusal(reply) or not reply.strip()
            why = "" if declined else refusal_reason(question, raw, hits[: prompt.max_passages])
            return ans, "yes", reply, why
        abstain = Answer(question=question, text=ABSTAIN_TEXT, hits=tuple(hits), abstained=True)
        lacks = unsaid(in_asked_form(ans, question, expects), question)  # "53" bells: a price?
        if lacks:
            return abstain, "no", reply, lacks
        if not self.cfg.check_type:
            return ans, "yes", reply, ""
        label = self.entity_label(ans.text) if self.entity_label is not None else None
        verdict = fit(expects, ans.text, label=label)
        if verdict != "no":
            return ans, verdict, reply, ""
        return abstain, "no", reply, f"not {_KIND_WORDS.get(str(expects), 'of the kind asked')}"


def generate(generator: Generator, messages: list[ChatMessage], cfg: QAConfig,
             stream_to: Callable[[str], object] | None = None) -> str:
    """The generator's reply, streamed piece by piece to ``stream_to`` when given."""
    if stream_to is None:
        return generator.generate(messages, max_new_tokens=cfg.max_new_tokens, stop=cfg.stop)
    pieces = []
    for piece in generator.stream(messages, max_new_tokens=cfg.max_new_tokens, stop=cfg.stop):
        pieces.append(piece)
        stream_to(piece)
    return "".join(pieces)


def check_config(cfg: QAConfig) -> QAConfig:
    """``cfg`` if its settings are usable, else :class:`ConfigError` naming the bad one."""
    for name in ("top_k", "hop_top_k", "max_new_tokens"):
        value = getattr(cfg, name)
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"QAConfig.{name} must be at least 1, got {value!r}")
    if not isinstance(cfg.max_hops, int) or cfg.max_hops < 0:
        raise ConfigError(f"QAConfig.max_hops must be 0 or more, got {cfg.max_hops!r}")
    return cfg


def check_question(question: str) -> None:
    if not isinstance(question, str) or not question.strip():
        raise ConfigError(f"the question must be a non-empty string, got {question!r}")
