"""Conversations: follow-up questions rewritten into self-contained ones, then answered.

People ask the next question in the context of the last: "Who designed the
Kestrel Station?" then "Which university did she attend?". A
:class:`Conversation` keeps the turns so far; before each question is answered,
:class:`FollowUpResolver` (``pipelines/follow_up.py``) rewrites a follow-up
into a question that stands on its own, and the answer carries it
(``Answer.understood_as``) so a person can see and correct it::

    >>> conv = kb.conversation()                                       # doctest: +SKIP
    >>> conv.ask("Who designed the original Kestrel Station?").text    # doctest: +SKIP
    'Adaeze Nwosu'
    >>> conv.ask("Which university did she attend?").understood_as     # doctest: +SKIP
    'Which university did Adaeze Nwosu attend?'

What is rewritten, on the spaCy parse of the follow-up (names the graph knows
are kept whole, as in ``pipelines.question_shape``):

* **pronouns**: he, she, him, her, his, it, its, they, them, their. "he"/"she"
  stand for the latest person of the conversation, "it"/"its" for the latest
  thing that is not a person, "they"/"their" for the latest organisation or,
  failing one, person. A pronoun whose antecedent is in the question itself
  ("Did Stratwell sign its first contract in 2012?") is left alone.
* **definite references**: "that company", "this institute", "that customer's",
  and a bare "the team"/"the city" in a question that names nothing. The noun
  must fit what it replaces: the noun of an earlier "Which company ...?", a
  word of the name ("Northmere Institute"), or its type ("city": a place).
* **ellipsis**: "And the Driftline Buoy?", "What about the Melbourne office?",
  "What about 2021?": the previous question with its matching part replaced
  (the entity with the same head noun or type; a date for a date, added when
  there was none).

The candidates are the entities of the last few turns, newest first: the
answer (its type from what the question asked, "Who ...?" -> a person, else the
graph's label), the answers of a multi-hop chain, then the names of the
question, typed by the graph (``entity_label``). A question with nothing to
resolve is left exactly as it is.

The 0.5B default reader was tried as the rewriter and not kept (see
``benchmarks/followups.py`` and the README): rules on the parse rewrote the
12 demo follow-ups right and left all 72 self-contained demo questions as
they were.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kgqa.errors import ConfigError
from kgqa.types import Answer
from pipelines.follow_up import FollowUpResolver, Rewrite, Turn

__all__ = ["Conversation", "FollowUpResolver", "Rewrite", "Rewriter", "Turn"]

# -- the conversation ---------------------------------------------------------------------
Rewriter = Callable[[str, Sequence[Turn]], Rewrite]


@dataclass
class Conversation:
    """Questions asked one after another, each understood in the light of the ones before.

    ``answer(question, **options) -> Answer`` answers one self-contained
    question (``KnowledgeBase.ask``); ``rewrite(question, history) -> Rewrite``
    makes a follow-up self-contained (:meth:`FollowUpResolver.rewrite`; ``None``
    answers every question as it stands). Thread-safe: one question at a time.
    """

    answer: Callable[..., Answer]
    rewrite: Rewriter | None = None
    max_turns: int = 50  # turns kept in :attr:`history` (the oldest are dropped)
    _turns: list[Turn] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def history(self) -> tuple[Turn, ...]:
        """The turns so far, oldest first."""
        return tuple(self._turns)

    def understand(self, question: str) -> Rewrite:
        """How ``question`` would be understood now (nothing is answered)."""
        if not isinstance(question, str) or not question.strip():
            raise ConfigError(f"the question must be a non-empty string, got {question!r}")
        if self.rewrite is None:
            return Rewrite(question)
        return self.rewrite(question, self.history)

    def ask(self, question: str, *, on_rewrite: Callable[[Rewrite], object] | None = None,
            **options: Any) -> Answer:
        """Answer ``question`` as a follow-up of the turns so far; record the turn.

        ``on_rewrite`` receives the rewrite before the answer is sought (only
        when the question was rewritten), so a terminal or a page can show it
        while the answer streams; ``options`` go to ``answer`` (``stream_to``,
        ``on_step``, ``mode``, ``top_k``, ``config``, ``generator``). The
        returned answer's ``question`` is ``question`` as asked and
        ``understood_as`` the rewritten question ("" when it was not
        rewritten). A question whose "she" or "his" stands for no one (nobody
        named before it, here or earlier) is not answered: the answer abstains
        and asks for the name, and the turn is not recorded. Raises what
        ``answer`` raises; a failed question is not recorded.
        """
        with self._lock:
            rw = self.understand(question)
            if rw.unresolved and not rw.changed:  # "she" with no one to stand for
                return Answer(question=question, abstained=True, text=(
                    f'Who is "{rw.unresolved[0]}"? No one named earlier in this conversation; '
                    "ask again with the name."))
            if rw.changed and on_rewrite is not None:
                on_rewrite(rw)
            ans = self.answer(rw.question, **options)
            ans = replace(ans, question=question,
                          understood_as=rw.question if rw.changed else "")
            self._turns.append(Turn(question, ans, ans.understood_as))
            del self._turns[: -self.max_turns]
        return ans

    def reset(self) -> None:
        """Forget the turns: the next question starts a new conversation."""
        with self._lock:
            self._turns.clear()
