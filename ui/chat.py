"""The Ask tab as a conversation: questions and answers in turn, follow-ups understood.

Each browser session has its own conversation (``kb.conversation()``, kept in
``st.session_state``); every answer on the page keeps its evidence cards and
its chain of hops, and a follow-up that was rewritten says how it was
understood ("Understood as: Which university did Adaeze Nwosu attend?").
"New conversation" forgets the turns. Answers run in a background
:class:`~ui.components.Job`, which also records the finished turn in the
session's chat log (a plain list, not a Streamlit call).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from kgqa.types import Answer, Stats
from llm.grounding import ABSTAIN_TEXT
from pipelines.answer_form import ambiguity_note, refused_note
from ui import components as ui

if TYPE_CHECKING:
    from pipelines.conversation import Conversation, Rewrite
    from pipelines.kb import KnowledgeBase

EMPTY_BASE = (
    "This knowledge base has no documents yet. Add some in the **Build** tab "
    "(txt, md, html, pdf or jsonl), then ask."
)
Live = tuple[ui.Job, Any, Callable[[ui.Job, Any], None]]


@dataclass(frozen=True)
class Entry:
    """One answered question on the page, with how long its parts took."""

    answer: Answer
    first_piece_s: float | None = None  # seconds until the first words
    waited_s: float = 0.0  # seconds spent waiting for the models to load


class ChatJob(ui.Job):
    """An answer being written; ``understood_as`` is set as soon as a rewrite is known."""

    understood_as = ""
    question = ""

    def rewritten(self, rw: Rewrite) -> None:
        self.understood_as = rw.question


def conversation(kb: KnowledgeBase) -> Conversation:
    """This browser session's conversation on ``kb``."""
    conv = st.session_state.get("conversation")
    if conv is None or st.session_state.get("conversation_kb") is not kb:
        conv = kb.conversation()
        st.session_state["conversation"] = conv
        st.session_state["conversation_kb"] = kb
        st.session_state["chat_log"] = []
    return conv


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault("flash", []).append(("ask", kind, text))


def start_ask(kb: KnowledgeBase) -> None:
    question = (st.session_state.get("question") or "").strip()
    job = st.session_state.get("ask_job")
    if not question:
        flash("warning", "Type a question first.")
    elif job is not None and job.running:
        flash("warning", "Still answering the previous question; one moment.")
    elif kb.stats().chunks == 0:
        flash("warning", EMPTY_BASE)
    else:
        conv = conversation(kb)
        log: list[Entry] = st.session_state["chat_log"]
        mode, top_k = st.session_state.get("mode", "hybrid"), st.session_state.get("top_k", 5)
        warm = st.session_state.get("warm_up")

        def work(job: ChatJob) -> Answer:
            if warm is not None and warm.running:
                t = time.monotonic()
                warm.wait()  # the models load once, not twice at the same time
                job.waited = time.monotonic() - t
            ans = conv.ask(question, on_rewrite=job.rewritten, mode=mode, top_k=top_k,
                           stream_to=job.stream)
            first = job.first_piece_at - job.started - job.waited if job.first_piece_at else None
            log.append(Entry(ans, first, job.waited))
            return ans

        job = ChatJob("ask", work, "answer the question")  # type: ignore[arg-type]
        job.question = question
        st.session_state["ask_job"] = job.start()
        st.session_state["asked"] = st.session_state.get("asked", 0) + 1
        st.session_state["question"] = ""  # the box is ready for the next question


def new_conversation(kb: KnowledgeBase) -> None:
    job = st.session_state.get("ask_job")
    if job is not None and job.running:
        flash("warning", "Still answering; start a new conversation when the answer is in.")
        return
    conversation(kb).reset()
    st.session_state["chat_log"] = []
    st.session_state["ask_job"] = None
    st.session_state["question"] = ""


def ask_tab(kb: KnowledgeBase, stats: Stats) -> Live | None:
    """The conversation so far, the question box, and the answer being written."""
    if stats.chunks == 0:
        st.info(EMPTY_BASE)
    conversation(kb)
    log: list[Entry] = st.session_state["chat_log"]
    for n, entry in enumerate(log):
        show_turn(kb, entry, latest=n == len(log) - 1)
    job: ChatJob | None = st.session_state.get("ask_job")
    area = st.empty()
    if job is not None and not job.running and job.error:
        with area.container():
            with st.chat_message("user"):
                st.markdown(ui.md_escape(job.question))
            with st.chat_message("assistant"):
                st.error(ui.md_escape(job.error))
    with st.form("ask_form", border=False):
        st.text_input(
            "Your question",
            key="question",
            placeholder="Ask anything your documents can answer; follow-ups are understood "
            "from the conversation" if log else "Ask anything your documents can answer",
        )
        st.form_submit_button(
            "Ask", type="primary", key="ask_button", on_click=start_ask, args=(kb,)
        )
    if log or (job is not None and not job.running and job.error):
        st.button("New conversation", key="new_conversation", on_click=new_conversation,
                  args=(kb,), disabled=job is not None and job.running,
                  help="Forget the questions so far: the next one starts afresh")
    show_flash()
    if job is not None and job.running:
        return job, area, live_answer
    return None


def show_flash() -> None:
    keep = []
    for where, kind, text in st.session_state.get("flash", []):
        if where == "ask":
            getattr(st, kind)(text)
        else:
            keep.append((where, kind, text))
    st.session_state["flash"] = keep


def live_answer(job: ui.Job, area: Any) -> None:
    assert isinstance(job, ChatJob)
    with area.container():
        with st.chat_message("user"):
            st.markdown(ui.md_escape(job.question))
        with st.chat_message("assistant"):
            if job.understood_as:
                st.caption(f"Understood as: {ui.md_escape(job.understood_as)}")
            if job.pieces:
                st.markdown("#### " + ui.md_escape(job.text) + " ▌")
                st.caption("Writing the answer…")
            else:
                wait = "Searching the documents and preparing the answer…"
                if job.seconds > 3:
                    wait += " The first question also waits for the answer model to load."
                st.info(f"{wait} ({job.seconds:.0f} s)")


def show_turn(kb: KnowledgeBase, entry: Entry, latest: bool) -> None:
    """One question and its answer: the text, how it was understood, evidence, chain."""
    ans = entry.answer
    with st.chat_message("user"):
        st.markdown(ui.md_escape(ans.question))
    with st.chat_message("assistant"):
        if ans.understood_as:
            st.caption(f"Understood as: {ui.md_escape(ans.understood_as)}")
        if ans.abstained and ans.text == ABSTAIN_TEXT:
            st.warning(f"{ui.md_escape(ans.text)} No retrieved passage supports an answer.")
        elif ans.abstained:  # a question not put to the documents ('Who is "she"?')
            st.warning(ui.md_escape(ans.text))
        else:
            st.markdown("#### " + ui.md_escape(ans.text))
        if ans.refused:
            st.caption(ui.md_escape(refused_note(ans.refused, ans.abstained)))
        if ans.ambiguous:
            st.caption(ui.md_escape(ambiguity_note(ans.ambiguous)))
        st.caption(ui.timings_line(ans, entry.first_piece_s, entry.waited_s))
        if ans.citations:
            st.markdown("**Evidence**")
            for cite in ans.citations:
                ui.citation_card(kb, cite, ans.hits)
        if ans.steps:
            ui.steps_view(kb, ans)
        if ans.hits and latest:
            with st.expander(f"All retrieved passages ({len(ans.hits)})"):
                for hit in ans.hits:
                    st.markdown(ui.hit_row(hit), unsafe_allow_html=True)
