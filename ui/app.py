"""kgqa's web page: ask, see the evidence and the graph behind it, add documents.

Start it with ``kgqa ui --kb DIR`` (it runs ``streamlit run ui/app.py -- --kb DIR``);
without ``--kb`` the base is ``$KGQA_KB``, else ``./kgqa-kb``. Four tabs:

* Ask: a conversation (``ui/chat.py``): each answer as it is written, its
  citations as cards (the cited span marked in its passage, the whole document
  one click away), its chain of hops, timings; follow-ups are understood from
  the questions before them, and a "New conversation" button starts afresh;
* Explore: the entities, relations and passages behind the answer (click a
  node for its mentions) and an entity browser;
* Build: upload files, ingest them with a progress bar, list and delete documents;
* Overview: counts, models, last ingest.

Answers and ingests run in background jobs (``ui/components.py``), so a click
never cuts them short and the page stays live. The base opens and its models
load once per server, in the background from the server's start
(``ui/warm.py``); the sidebar says when they are ready. Every error is shown as a
message, never as a traceback. The page calls only kgqa's public API. Tests
(or a program embedding the page) may put an open ``KnowledgeBase`` in
``st.session_state["kgqa.kb"]``; it is used instead of opening a directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from kgqa.errors import KgqaError
from kgqa.types import RETRIEVAL_MODES, Answer, Stats
from ui import chat, graph_view, warm
from ui import components as ui

if TYPE_CHECKING:
    from pipelines.kb import KnowledgeBase

KB_KEY = "kgqa.kb"
MODES = ("hybrid", *(m for m in RETRIEVAL_MODES if m != "hybrid"))  # the default first
MODE_HELP = (
    "hybrid: all signals fused · vector: meaning (FAISS) · lexical: words (BM25) · "
    "graph: entities of the question and their neighbours"
)
Live = tuple[ui.Job, Any, Callable[[ui.Job, Any], None]]  # a running job, its area, its view


def kb_path() -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--kb")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.kb or os.environ.get("KGQA_KB") or "kgqa-kb"


def get_kb() -> KnowledgeBase | None:
    injected = st.session_state.get(KB_KEY)
    if injected is not None:
        return injected
    path = kb_path()
    warm_up = warm.warm(path)
    try:
        with st.spinner("Opening the knowledge base…"):
            kb = warm_up.base()
    except KgqaError as e:
        no_base(path, e)
        return None
    st.session_state["warm_up"] = warm_up
    return kb


def no_base(path: str, error: KgqaError) -> None:
    st.error(ui.md_escape(str(error)))
    folder = Path(path).expanduser()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        st.info("Start kgqa on a knowledge base directory: `kgqa ui --kb DIR`.")
        return
    st.info(f"There is no knowledge base in `{folder}` yet. Create an empty one and add documents?")
    if st.button("Create an empty knowledge base here", type="primary"):
        with st.spinner("Creating the knowledge base…"), ui.shown_errors("create it"):
            from kgqa import KnowledgeBase

            KnowledgeBase.open(folder, create=True).close()
            warm.forget(folder)
            st.rerun()


# -- messages that survive one rerun (set in callbacks) ------------------------
def flash(where: str, kind: str, text: str) -> None:
    st.session_state.setdefault("flash", []).append((where, kind, text))


def show_flash(where: str) -> None:
    keep = []
    for w, kind, text in st.session_state.get("flash", []):
        if w == where:
            getattr(st, kind)(text)
        else:
            keep.append((w, kind, text))
    st.session_state["flash"] = keep


# -- Explore ---------------------------------------------------------------------
def last_answer() -> Answer | None:
    job = st.session_state.get("ask_job")
    if job is None or job.running or job.error:
        return None
    return job.result


def explore_tab(kb: KnowledgeBase) -> None:
    st.markdown("##### Behind the last answer")
    ans = last_answer()
    if ans is None or not ans.hits:
        st.info("Ask a question: the entities, relations and passages behind its answer show here.")
    else:
        with ui.shown_errors("draw the graph"):
            answer_graph(kb, ans)
    st.divider()
    st.markdown("##### Entities")
    with ui.shown_errors("list the entities"):
        entity_browser(kb)


def answer_graph(kb: KnowledgeBase, ans: Answer) -> None:
    cached = st.session_state.get("subgraph")
    if cached is None or cached[0] is not ans:
        cited = {c.chunk_id for c in ans.citations}
        cached = (ans, graph_view.subgraph(kb, ans.hits, cited))
        st.session_state["subgraph"] = cached
    sub = cached[1]
    event = st.altair_chart(
        graph_view.chart(sub),
        on_select="rerun",
        selection_mode=graph_view.SELECTION,
        key=f"graph_{st.session_state.get('asked', 0)}",
        width="stretch",
    )
    clicked = graph_view.selected_node(event)
    pick_key = f"graph_node_{st.session_state.get('asked', 0)}"
    if clicked in sub.nodes and clicked != st.session_state.get("graph_clicked"):
        st.session_state[pick_key] = clicked  # a new click moves the picker below
    st.session_state["graph_clicked"] = clicked
    rank = {"cited": 0, "passage": 1, "entity": 2}
    order = sorted(sub.nodes.values(), key=lambda n: (rank[n.kind], n.label.lower()))
    chosen = st.selectbox(
        "Click a node in the picture, or pick one here",
        [n.id for n in order],
        format_func=lambda nid: (
            f"{sub.nodes[nid].label}  ({graph_view.KINDS[sub.nodes[nid].kind]})"
        ),
        key=pick_key,
    )
    node = sub.nodes.get(chosen or "")
    if node is None:
        return
    if node.kind == "entity":
        ui.entity_details(kb, node.ref)
        return
    hit = next((h for h in ans.hits if h.chunk.id == node.ref), None)
    st.markdown(f"**{ui.md_escape(node.detail or node.ref)}** · passage {ui.md_escape(node.ref)}")
    linked = sorted(
        sub.nodes[b if a == node.id else a].label
        for (a, b) in sub.edges
        if node.id in (a, b) and sub.nodes[b if a == node.id else a].kind == "entity"
    )
    if linked:
        st.caption("Mentions: " + ui.md_escape(", ".join(linked)))
    if hit is not None:
        st.markdown(ui.highlighted(hit.chunk.text, 0, 0), unsafe_allow_html=True)


def entity_browser(kb: KnowledgeBase) -> None:
    search = st.text_input("Search entities by name or alias", key="entity_search")
    ents = kb.entities(search.strip() or None, limit=100)
    if not ents:
        st.info(
            "No entities" + (f" match {ui.md_escape(repr(search))}." if search.strip() else " yet.")
        )
        return
    st.dataframe(
        [
            {
                "name": e.name,
                "type": e.label,
                "mentions": e.mention_count,
                "aliases": ", ".join(a for a in e.aliases if a != e.name),
            }
            for e in ents
        ],
        hide_index=True,
        height=min(36 * len(ents) + 38, 300),
    )
    names = {e.id: e.name for e in ents}
    picked = st.selectbox(
        "Show an entity's mentions and neighbours",
        list(names),
        format_func=lambda i: names.get(i, i),
        key="entity_pick",
    )
    if picked:
        ui.entity_details(kb, picked)


# -- Build -------------------------------------------------------------------------
def uploader_key() -> str:
    return f"uploads_{st.session_state.get('uploads_reset', 0)}"


def start_ingest(kb: KnowledgeBase) -> None:
    files = st.session_state.get(uploader_key()) or []
    job = st.session_state.get("ingest_job")
    if job is not None and job.running:
        flash("build", "warning", "An ingest is still running.")
        return
    if not files:
        flash("build", "warning", "Choose one or more files first.")
        return
    uploads = [ui.Upload(f.name, f.getvalue()) for f in files]
    st.session_state["ingest_job"] = ui.Job(
        "ingest", lambda j: ui.ingest_uploads(kb, uploads, j.progress), "ingest the files"
    ).start()
    st.session_state["uploads_reset"] = st.session_state.get("uploads_reset", 0) + 1


def settle_conflicts(kb: KnowledgeBase) -> None:
    """Ingest the uploads that waited for the user's choice, with that choice."""
    job: ui.Job | None = st.session_state.get("ingest_job")
    if job is None or job.running or job.result is None or not job.result.pending:
        return
    choice = st.session_state.get("conflict_choice") or "keep-both"
    uploads = job.result.pending
    if choice == "skip":
        job.result = dataclasses.replace(job.result, pending=())
        names = ", ".join(u.name for u in uploads)
        flash("build", "info", f"Skipped {names}: the knowledge base is unchanged.")
        return
    st.session_state["ingest_job"] = ui.Job(
        "ingest",
        lambda j: ui.ingest_uploads(kb, uploads, j.progress, on_conflict=choice),
        "ingest the files",
    ).start()


def conflict_form(kb: KnowledgeBase, job: ui.Job) -> None:
    """Ask what to do with uploads whose ids are taken by other documents."""
    result = job.result
    if job.running or job.error or result is None or not result.pending:
        return
    st.warning(ui.conflict_question(result))
    st.radio(
        "What should happen",
        list(ui.CONFLICT_CHOICES),
        format_func=ui.CONFLICT_CHOICES.get,
        key="conflict_choice",
        label_visibility="collapsed",
    )
    st.button("Apply", key="conflict_button", on_click=settle_conflicts, args=(kb,))


def delete_selected(kb: KnowledgeBase) -> None:
    for doc_id in st.session_state.get("delete_ids") or []:
        try:
            kb.delete(doc_id)
            flash("build", "success", f"Deleted {ui.md_escape(doc_id)}.")
        except Exception as e:
            flash("build", "error", ui.md_escape(ui.error_message(e, f"delete {doc_id}")))
    st.session_state["delete_ids"] = []


def build_tab(kb: KnowledgeBase) -> Live | None:
    job: ui.Job | None = st.session_state.get("ingest_job")
    busy = job is not None and job.running
    st.file_uploader(
        f"Add documents: {' '.join(ui.ALLOWED_SUFFIXES)}, up to {ui.MAX_FILE_MB} MB each",
        accept_multiple_files=True,
        key=uploader_key(),
        max_upload_size=ui.MAX_FILE_MB,
    )
    st.button(
        "Add to the knowledge base",
        type="primary",
        key="ingest_button",
        on_click=start_ingest,
        args=(kb,),
        disabled=busy,
    )
    show_flash("build")
    area = st.empty()
    live: Live | None = None
    if job is not None and job.running:
        live = (job, area, ui.live_ingest)
    elif job is not None:
        with area.container():
            ui.show_ingest(job)
            conflict_form(kb, job)
    st.markdown("##### Documents")
    with ui.shown_errors("list the documents"):
        docs = kb.documents()
        if not docs:
            st.info("No documents yet.")
            return live
        st.dataframe(
            [
                {"title": d.title, "id": d.id, "passages": d.chunks, "added": d.ingested_at}
                for d in docs
            ],
            hide_index=True,
        )
        titles = {d.id: d.title for d in docs}
        chosen = st.multiselect(
            "Delete documents",
            list(titles),
            key="delete_ids",
            format_func=lambda i: f"{titles.get(i, i)}  ({i})",
        )
        st.button(
            f"Delete {len(chosen)} document{'s' if len(chosen) != 1 else ''}",
            key="delete_button",
            on_click=delete_selected,
            args=(kb,),
            disabled=busy or not chosen,
        )
    return live


# -- Overview ------------------------------------------------------------------------
def overview_tab(kb: KnowledgeBase, stats: Stats) -> None:
    cols = st.columns(6)
    for col, (name, value) in zip(
        cols,
        [
            ("Documents", stats.documents),
            ("Passages", stats.chunks),
            ("Entities", stats.entities),
            ("Relations", stats.relations),
            ("Mentions", stats.mentions),
            ("Aliases", stats.aliases),
        ],
        strict=True,
    ):
        col.metric(name, f"{value:,}")
    st.markdown("##### Models")
    generator = getattr(kb.generator, "name", type(kb.generator).__name__)
    warm_up: warm.Warmup | None = st.session_state.get("warm_up")
    status = ""
    if warm_up is not None:
        status = " (loading)" if warm_up.running else (
            f" ({warm_up.error})" if warm_up.error else "")
    st.markdown(
        f"- Embeddings: `{stats.embedder}`\n- Entities and relations: `{stats.extractor}`\n"
        f"- Answers: `{generator}`{status}"
    )
    st.markdown("##### Last ingest")
    st.write(stats.last_ingest or "never")
    job = st.session_state.get("ingest_job")
    if job is not None and not job.running and not job.error and job.result.report:
        st.caption("In this session: " + ui.report_summary(job.result, job.seconds))
    st.caption(f"Stored in `{kb.path}`")


def models_status(warm_up: warm.Warmup, area: Any) -> None:
    """The sidebar's line on the models: loading (what, for how long), ready, or why not."""
    if warm_up.running:
        area.caption(f"⏳ Models: {warm_up.stage}… ({warm_up.seconds:.0f} s)")
    elif warm_up.error:
        area.caption(f"Models not loaded: {ui.md_escape(warm_up.error)}")
    else:
        area.caption(f"✅ Models ready (loaded in {warm_up.seconds:.1f} s after start)")


# -- the page --------------------------------------------------------------------------
def follow(watched: list[Any], lives: list[Live]) -> None:
    """Redraw running jobs; once a job that ran when this run began ends, rerun the page.

    Jobs start only in callbacks, before a run, so ``watched`` holds every job whose
    end the page has not shown yet (one may even end before its tab is drawn).
    """
    while watched:
        if any(not job.running for job in watched):
            st.rerun()
        for job, area, view in lives:
            view(job, area)
        time.sleep(0.2)


def main() -> None:
    st.set_page_config(page_title="kgqa", page_icon="🔎", layout="wide")
    st.markdown(ui.CSS, unsafe_allow_html=True)
    kb = get_kb()
    if kb is None:
        return
    warm_up: warm.Warmup | None = st.session_state.get("warm_up")
    jobs = (st.session_state.get("ask_job"), st.session_state.get("ingest_job"), warm_up)
    watched = [job for job in jobs if job is not None and job.running]
    stats = kb.stats()
    lives: list[Live] = []
    with st.sidebar:
        st.title("kgqa")
        st.caption(f"Knowledge base `{kb.path}`")
        status = st.empty()
        if warm_up is not None:
            models_status(warm_up, status)
            if warm_up.running:
                lives.append((warm_up, status, models_status))  # type: ignore[arg-type]
        st.selectbox("Retrieval mode", MODES, key="mode", help=MODE_HELP)
        st.slider("Passages to retrieve (top-k)", 1, 20, 5, key="top_k")
        st.caption(
            f"{stats.documents:,} documents · {stats.chunks:,} passages · "
            f"{stats.entities:,} entities"
        )
    ask, explore, build, overview = st.tabs(["Ask", "Explore", "Build", "Overview"])
    with ask:
        live = chat.ask_tab(kb, stats)
        lives += [live] if live else []
    with explore:
        explore_tab(kb)
    with build:
        live = build_tab(kb)
        lives += [live] if live else []
    with overview:
        overview_tab(kb, stats)
    follow(watched, lives)


try:
    main()
except KgqaError as e:
    st.error(ui.md_escape(str(e)))
except Exception as e:
    ui.log.exception("the web UI failed")
    st.error(ui.md_escape(ui.error_message(e, "show this page")))
