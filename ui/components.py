"""Building blocks of the web UI: background jobs, uploads, error display, cards.

Streamlit reruns the whole script on every click, and a rerun stops the
script where it is. Work done in the script thread (an ingest, an answer being
generated) would be cut short by any click, so long work runs in a
:class:`Job`: a background thread that lives in ``st.session_state`` across
reruns and that the page polls::

    job = Job("ask", lambda job: kb.ask(q, stream_to=job.stream)).start()
    ...                                   # later runs of the script
    job.text, job.running, job.result, job.error

The thread never calls Streamlit; it only fills the job's fields.

Uploads are checked here (type and size) and read as the files they are
(:func:`ingest_uploads`): a document's id is the name of the file the user
uploaded. A browser sends no path, so an upload whose name is the id of a
document already in the base (with other content) may be another file or a
new version of the same one: it is not ingested until the user chooses to
replace the document, keep both or skip it (``UploadResult.conflicts``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from kgqa.errors import KgqaError
from kgqa.text import printable
from kgqa.types import (
    CO_OCCURS,
    Answer,
    ChunkStep,
    Citation,
    Conflict,
    EntityStep,
    Hit,
    IngestProblem,
    IngestReport,
    PathStep,
)
from pipelines.answer_form import refused_note

if TYPE_CHECKING:
    from pipelines.doc_ids import OnConflict
    from pipelines.kb import KnowledgeBase

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl")
MAX_FILE_MB = 20
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
MAX_SHOWN_CHARS = 200_000  # a longer document is shown around its cited span


# -- errors ------------------------------------------------------------------
def error_message(e: BaseException, doing: str = "do that") -> str:
    """The message a person sees: kgqa's own message, else a short generic one."""
    if isinstance(e, KgqaError):
        return str(e)
    return f"Could not {doing}: {type(e).__name__}: {e}"


@contextmanager
def shown_errors(doing: str) -> Iterator[None]:
    """Run a block; show any error as a message on the page, never as a traceback.

    Streamlit's own control flow (rerun, stop) derives from BaseException and
    passes through.
    """
    try:
        yield
    except KgqaError as e:
        st.error(md_escape(str(e)))
    except Exception as e:
        log.exception("the web UI could not %s", doing)
        st.error(md_escape(error_message(e, doing)))


# -- background work -----------------------------------------------------------
class Job:
    """Work in a background thread that the page follows across reruns.

    ``fn`` receives the job and may call :meth:`progress` and :meth:`stream`;
    its return value becomes :attr:`result`, an exception becomes
    :attr:`error` (a message).
    """

    def __init__(self, kind: str, fn: Callable[[Job], Any], doing: str = "finish") -> None:
        self.kind = kind
        self.done = 0
        self.total = 0
        self.pieces: list[str] = []
        self.result: Any = None
        self.error: str | None = None
        self.started = time.monotonic()
        self.first_piece_at: float | None = None
        self.waited = 0.0  # seconds spent waiting for other work (models loading)
        self.finished_at: float | None = None
        self.followed = False  # the page has seen it finish (and rerun once)
        self._fn = fn
        self._doing = doing
        self._thread = threading.Thread(target=self._run, name=f"kgqa-ui-{kind}", daemon=True)

    def start(self) -> Job:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = self._fn(self)
        except KgqaError as e:
            self.error = str(e)
        except Exception as e:
            log.exception("background %s failed", self.kind)
            self.error = error_message(e, self._doing)
        finally:
            self.finished_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self.finished_at is None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def stream(self, piece: str) -> None:
        if self.first_piece_at is None:
            self.first_piece_at = time.monotonic()
        self.pieces.append(piece)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.monotonic()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work ends (tests); True when it has."""
        self._thread.join(timeout)
        return not self.running


# -- uploads -------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    """One uploaded file: its original name and bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class UploadResult:
    """What :func:`ingest_uploads` did; problem sources are the uploaded file names.

    ``conflicts``: documents whose id another source holds, with what was done
    (``action`` ``"skip"`` when the user has not chosen yet); ``pending``: the
    uploads those skipped documents came from, to ingest again once the user
    has chosen.
    """

    accepted: tuple[str, ...]
    problems: tuple[IngestProblem, ...]
    report: IngestReport | None  # None when no file could be ingested
    conflicts: tuple[Conflict, ...] = ()
    pending: tuple[Upload, ...] = ()


def upload_problem(name: str, size: int) -> str | None:
    """Why an upload is refused before ingesting (type, size, name), or None.

    >>> upload_problem("notes.md", 10) is None
    True
    >>> upload_problem("setup.exe", 10)
    "unsupported file type '.exe'; allowed: .txt .md .markdown .html .htm .pdf .jsonl"
    """
    suffix = Path(name).suffix.lower()
    if not name:
        return "the file has no name"
    if name.startswith("."):
        return "hidden file names (starting with '.') are not read; rename the file"
    if suffix not in ALLOWED_SUFFIXES:
        return (
            f"unsupported file type {suffix or '(no suffix)'!r}; "
            f"allowed: {' '.join(ALLOWED_SUFFIXES)}"
        )
    if size > MAX_FILE_BYTES:
        return f"too large ({size / 1024 / 1024:.1f} MB); the limit is {MAX_FILE_MB} MB per file"
    return None


def ingest_uploads(
    kb: KnowledgeBase,
    uploads: Sequence[Upload],
    on_progress: Callable[[int, int], None] | None = None,
    on_conflict: OnConflict = "skip",
) -> UploadResult:
    """Check uploads, read the good ones and ingest them.

    Every refused or unreadable file becomes a problem naming the file; the
    others are ingested. Each document's id is its file name. ``on_conflict``
    settles an upload whose name is already a document's id in the base (see
    ``IngestOptions.on_conflict``); by default such uploads wait in
    ``pending`` for the user's choice.
    """
    from pipelines.ingest import IngestOptions
    from pipelines.loaders import Loaded, load_bytes

    problems: list[IngestProblem] = []
    accepted: list[str] = []
    loaded: list[Loaded] = []
    by_name: dict[str, Upload] = {}
    # Each upload is its own source: a browser sends no path that could tell
    # a new version of a file from another file of the same name.
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds") + f" #{uuid.uuid4().hex[:8]}"
    for up in uploads:
        name = Path(up.name.replace("\\", "/")).name.strip()
        reason = upload_problem(name, len(up.data))
        if reason is None and name in accepted:
            reason = "another uploaded file has the same name"
        if reason is not None:
            problems.append(IngestProblem(up.name or "(no name)", reason))
            continue
        accepted.append(name)
        by_name[name] = up
        label = f"{name} (uploaded {stamp})"
        for item in load_bytes(name, up.data, name, stored_source=label):
            if isinstance(item, Loaded):
                loaded.append(item)
            else:
                problems.append(item)
    if not loaded:
        return UploadResult(tuple(accepted), tuple(problems), None)
    report = kb.ingest(
        loaded,
        options=IngestOptions(batch_docs=16, progress=False, on_conflict=on_conflict),
        on_progress=on_progress,
    )
    suffix = f" (uploaded {stamp})"
    conflicts = tuple(
        Conflict(c.doc_id, c.source.replace(suffix, ""), c.existing_source, c.action, c.new_id)
        for c in report.conflicts
    )
    waiting = {c.source for c in conflicts if c.action == "skip"}
    problems += [
        IngestProblem(p.source.replace(suffix, ""), p.reason, p.partial)
        for p in report.problems
        if p.source.replace(suffix, "") not in waiting
    ]
    pending = {re.sub(r":\d+$", "", s) for s in waiting}
    return UploadResult(
        tuple(accepted),
        tuple(problems),
        report,
        conflicts,
        tuple(by_name[n] for n in accepted if n in pending),
    )


def report_summary(result: UploadResult, seconds: float) -> str:
    """One sentence about an ingest of uploads."""
    r = result.report
    if r is None:
        return "Nothing was added."
    return (
        f"Documents: {r.documents_added} added, {r.documents_updated} updated, "
        f"{r.documents_unchanged} unchanged. New: {counted(r.chunks_added, 'passage')}, "
        f"{counted(r.entities_added, 'entity', 'entities')}, "
        f"{counted(r.relations_added, 'relation')}; {seconds:.1f} s."
    )


def counted(n: int, one: str, many: str | None = None) -> str:
    """``1 passage``, ``2 passages``."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


# -- text ------------------------------------------------------------------------
# Document text, titles, entity names and file names are untrusted: shown through
# Streamlit's markdown, "![x](https://...)" would load an image, "<img ...>" would be
# HTML, ":red[...]" a directive, "www.example.com" a link. Every character that can
# start such a construct is written as a numeric character reference, which markdown
# and HTML both show as the character itself and never parse; control characters
# (bidirectional overrides among them) are shown as visible escapes.
_INERT = {ord(c): f"&#{ord(c)};" for c in "\\`*_{}[]<>()#+-.!|~$:@&\"'=^%;/?"}


def inert(text: str) -> str:
    """``text`` as characters markdown and HTML show literally, never as markup.

    >>> inert("![x](http://a.example/p.png)")
    '&#33;&#91;x&#93;&#40;http&#58;&#47;&#47;a&#46;example&#47;p&#46;png&#41;'
    """
    return printable(text, keep="\n").translate(_INERT)


def md_escape(text: str) -> str:
    """Text shown literally inside Streamlit markdown, on one line."""
    return inert(" ".join(text.split()))


def _html_text(text: str) -> str:
    # One HTML block for markdown: no blank lines, so line breaks become <br>.
    return inert(text).replace("\n", "<br>")


def highlighted(text: str, start: int, end: int) -> str:
    """HTML of ``text`` with ``text[start:end]`` marked (offsets are clamped).

    >>> highlighted("Ana works in Porto.", 13, 18)
    '<div class="kgqa-passage">Ana works in <mark>Porto</mark>.</div>'
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    body = (
        _html_text(text[:start])
        + (f"<mark>{_html_text(text[start:end])}</mark>" if end > start else "")
        + _html_text(text[end:])
    )
    return f'<div class="kgqa-passage">{body}</div>'


def window(text: str, start: int, end: int, size: int) -> tuple[str, int, int, bool]:
    """At most ``size`` characters of ``text`` around ``[start, end)``, and the shifted span."""
    if len(text) <= size:
        return text, start, end, False
    lo = max(0, min(start - size // 2, len(text) - size))
    return text[lo : lo + size], start - lo, end - lo, True


def snippet(text: str, start: int, end: int, context: int = 90) -> str:
    """HTML of a mention in its surrounding text, the mention marked.

    >>> snippet("Ana works in Porto.", 13, 18, context=4)
    '<div class="kgqa-passage">… in <mark>Porto</mark>.</div>'
    """
    lo, hi = max(0, start - context), min(len(text), end + context)
    lead = "…" if lo > 0 else ""
    piece = lead + text[lo:hi].replace("\n", " ") + ("…" if hi < len(text) else "")
    return highlighted(piece, start - lo + len(lead), end - lo + len(lead))


# -- answers ---------------------------------------------------------------------
def timings_line(answer: Answer, first_piece_s: float | None = None, waited_s: float = 0.0) -> str:
    """Where the time went, e.g. ``retrieval 0.05 s · generation 2.10 s · total 2.20 s``."""
    t = answer.timings
    parts = [f"loading the models {waited_s:.1f} s"] if waited_s >= 0.5 else []
    parts += [
        f"retrieval {t.get('retrieve_s', 0.0):.2f} s",
        f"generation {t.get('generate_s', 0.0):.2f} s",
    ]
    if first_piece_s is not None:
        parts.append(f"first words after {first_piece_s:.1f} s")
    parts.append(f"total {t.get('total_s', 0.0):.2f} s")
    return " · ".join(parts)


def citation_card(kb: KnowledgeBase, cite: Citation, hits: Sequence[Hit]) -> None:
    """A card: the document title, the cited span marked in its passage, the whole document."""
    hit = next((h for h in hits if h.chunk.id == cite.chunk_id), None)
    with st.container(border=True):
        badge = "" if cite.supported else "  ·  :orange[not verified]"
        st.markdown(f"**[{cite.number}] {md_escape(cite.title or cite.doc_id)}**{badge}")
        st.caption(
            f"{md_escape(cite.doc_id)} · passage {md_escape(cite.chunk_id.rsplit('#', 1)[-1])}"
        )
        if hit is not None:
            c = hit.chunk
            st.markdown(
                highlighted(c.text, cite.start - c.start, cite.end - c.start),
                unsafe_allow_html=True,
            )
        else:
            st.markdown(highlighted(cite.quote, 0, len(cite.quote)), unsafe_allow_html=True)
        with st.expander("Whole document"), shown_errors("read the document"):
            doc = kb.document(cite.doc_id)
            text, start, end, cut = window(doc.text, cite.start, cite.end, MAX_SHOWN_CHARS)
            if cut:
                st.caption(f"A long document: {len(text):,} characters around the citation.")
            st.markdown(highlighted(text, start, end), unsafe_allow_html=True)


def steps_view(kb: KnowledgeBase, ans: Answer) -> None:
    """ "How this was answered": each hop's question and answer, its evidence span marked."""
    st.markdown("**How this was answered**")
    for n, step in enumerate(ans.steps, start=1):
        with st.container(border=True):
            shown = "no passage says" if step.abstained else md_escape(step.answer)
            st.markdown(f"**{n}.** {md_escape(step.question)} → **{shown}**")
            if step.replaces:
                st.caption(f"stands for “{md_escape(step.replaces)}” in the question")
            if step.refused and not step.abstained and not (
                    n == len(ans.steps) and step.refused == ans.refused):  # shown with the answer
                st.caption(md_escape(refused_note(step.refused, False)))
            for cite in step.citations[:1]:
                hit = next((h for h in step.hits if h.chunk.id == cite.chunk_id), None)
                st.caption(f"{md_escape(cite.title or cite.doc_id)} · {cite.doc_id}")
                if hit is not None:
                    c = hit.chunk
                    text, start, end, _ = window(c.text, cite.start - c.start,
                                                 cite.end - c.start, MAX_SHOWN_CHARS)
                    st.markdown(highlighted(text, start, end), unsafe_allow_html=True)
                else:
                    st.markdown(highlighted(cite.quote, 0, len(cite.quote)),
                                unsafe_allow_html=True)


def hit_row(hit: Hit) -> str:
    """Markdown for one retrieved passage: rank, title, scores, graph paths."""
    signals = ", ".join(f"{k} {v:.3g}" for k, v in hit.scores.items())
    lines = [f"**{hit.rank}. {md_escape(hit.title or hit.chunk.doc_id)}** · score {hit.score:.3g}"]
    if signals:
        lines.append(f"<small>{md_escape(signals)}</small>")
    for path in hit.paths:
        lines.append("<small>via " + md_escape(" → ".join(map(step_text, path))) + "</small>")
    text = " ".join(hit.chunk.text.split())
    lines.append(md_escape(text[:400] + ("…" if len(text) > 400 else "")))
    return "  \n".join(lines)


def step_text(step: PathStep) -> str:
    """One step of a retrieval path as a person reads it."""
    if isinstance(step, EntityStep):
        return step.name
    if isinstance(step, ChunkStep):
        return f"{step.title} [{step.chunk_id}]"
    return step.label


# -- entities and ingests ------------------------------------------------------------
def relation(label: str) -> str:
    """A relation label as a person reads it."""
    return "appear together" if label == CO_OCCURS else label.replace("_", " ")


def entity_details(kb: KnowledgeBase, entity_id: str) -> None:
    """An entity: its names, neighbours, and its mentions marked in their text."""
    with shown_errors("show the entity"):
        ent = kb.entity(entity_id)
        st.markdown(
            f"**{md_escape(ent.name)}** · {md_escape(ent.label)} · {ent.mention_count} mentions"
        )
        others = [a for a in ent.aliases if a != ent.name]
        if others:
            st.caption("Also written: " + md_escape(", ".join(others)))
        neighbours = kb.neighbours(ent.id, limit=30)
        if neighbours:
            related = [
                f"{n.entity.name} ({', '.join(sorted({relation(r.label) for r in n.relations}))})"
                for n in neighbours
            ]
            st.caption("Related: " + md_escape("; ".join(related)))
        mentions = kb.mentions(ent.id, limit=200)
        about = sorted({m.doc_id for m in mentions if m.start == m.end})
        if about:
            st.caption("Documents about it: " + md_escape(", ".join(about)))
        texts: dict[str, str] = {}
        shown = [m for m in mentions if m.end > m.start][:20]
        for m in shown:
            if m.doc_id not in texts:
                texts[m.doc_id] = kb.document(m.doc_id).text
            st.markdown(
                f"<small><b>{_html_text(m.doc_id)}</b></small>"
                + snippet(texts[m.doc_id], m.start, m.end),
                unsafe_allow_html=True,
            )
        if len(mentions) > len(shown) + len(about):
            st.caption(f"{len(shown)} of its mentions shown.")


def live_ingest(job: Job, area: Any) -> None:
    """The progress bar of a running ingest."""
    with area.container():
        if job.total and job.done >= job.total:
            st.progress(1.0, text="Updating the search indexes…")
        elif job.total:
            st.progress(
                job.done / job.total, text=f"Ingesting: {job.done} of {job.total} documents"
            )
        else:
            st.progress(0.0, text=f"Reading the files… ({job.seconds:.0f} s)")


def show_ingest(job: Job) -> None:
    """What a finished ingest did, and each file it could not add (or add whole)."""
    if job.error:
        st.error(md_escape(job.error))
        return
    result: UploadResult = job.result
    if result.report is not None:
        st.success(report_summary(result, job.seconds))
        for notice in result.report.notices:
            st.info(md_escape(notice))
    for problem in result.problems:
        what = "was added without a part" if problem.partial else "was not added"
        st.error(f"**{md_escape(problem.source)}** {what}: {md_escape(problem.reason)}")
    for c in result.conflicts:
        if c.action == "keep-both":
            st.info(f"**{md_escape(c.source)}** was added as **{md_escape(c.new_id)}**.")
        elif c.action == "replace":
            st.info(f"**{md_escape(c.source)}** replaced the document **{md_escape(c.doc_id)}**.")


CONFLICT_CHOICES = {
    "keep-both": "Keep both (the new file gets another id)",
    "replace": "Replace the documents in the base",
    "skip": "Skip these files",
}


def conflict_question(result: UploadResult) -> str:
    """The question put to the user about uploads whose ids are taken."""
    names = sorted({c.doc_id for c in result.conflicts if c.action == "skip"})
    listed = ", ".join(f"**{md_escape(n)}**" for n in names)
    one = len(names) == 1
    return (
        f"{listed} {'is' if one else 'are'} already in the knowledge base, from another "
        f"upload or file, with other content. Nothing was changed: what should happen to "
        f"{'this upload' if one else 'these uploads'}?"
    )


CSS = """
<style>
.kgqa-passage { white-space: normal; line-height: 1.5; }
.kgqa-passage mark { background: #ffe08a; padding: 0 2px; border-radius: 3px; }
</style>
"""
