"""The web UI's knowledge base and models, loaded once per server, from its start.

``kgqa ui`` starts the server through ``ui/serve.py``, which calls
:func:`warm` before Streamlit serves a page: a background thread opens the
base and loads the embedder, the search indexes, spaCy and the answer model
(``KnowledgeBase.warm_up``), so the first question typed does not pay for them
(or pays only what is left).
The page (``ui/app.py``) gets the same :class:`Warmup` from :func:`warm`
(one per base directory and process, shared by every browser session) and
shows its :attr:`~Warmup.stage` until it is ready::

    >>> w = warm("/path/to/kb")        # doctest: +SKIP
    >>> w.base()                       # the open KnowledgeBase (waits for the open only)
    >>> w.running, w.stage, w.seconds  # ("loading the answer model", 4.2) ... then "ready"

No Streamlit here: the thread only fills the warm-up's fields.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kgqa.errors import KgqaError

if TYPE_CHECKING:
    from pipelines.kb import KnowledgeBase

log = logging.getLogger(__name__)


class Warmup:
    """Opens a base and loads its models in a background thread (see the module docstring).

    ``open_error`` is set when the base cannot be opened (the page then offers
    to create one); ``error`` when a model could not be loaded (each question
    then says why). ``announce`` prints when the models are ready on standard
    error (the terminal of ``kgqa ui``).
    """

    def __init__(self, path: str, announce: bool = False) -> None:
        self.path = path
        self.announce = announce
        self.kb: KnowledgeBase | None = None
        self.open_error: KgqaError | None = None
        self.error: str | None = None
        self.stage = "starting"
        self.started = time.monotonic()
        self.finished_at: float | None = None
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kgqa-warm-up", daemon=True)

    def start(self) -> Warmup:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.stage = "opening the knowledge base"
            from pipelines.kb import KnowledgeBase

            try:
                self.kb = KnowledgeBase.open(self.path, create=False)
            except KgqaError as e:
                self.open_error = e
                return
            finally:
                self._opened.set()
            self._load(self.kb)
            self.stage = "ready"
        except KgqaError as e:
            self.error = str(e)
        except Exception as e:
            log.exception("loading the models failed")
            self.error = f"Could not load the models: {type(e).__name__}: {e}"
        finally:
            self.finished_at = time.monotonic()
            if self.announce and self.open_error is None:
                state = f"not ready: {self.error}" if self.error else "ready"
                print(f"kgqa: models {state} ({self.seconds:.1f} s after start)",
                      file=sys.stderr, flush=True)

    def _load(self, kb: KnowledgeBase) -> None:
        def stage(text: str) -> None:
            self.stage = text

        kb.warm_up(on_stage=stage)

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def ready(self) -> bool:
        return not self.running and self.error is None and self.open_error is None

    @property
    def seconds(self) -> float:
        return (self.finished_at or time.monotonic()) - self.started

    def base(self, timeout: float | None = None) -> KnowledgeBase:
        """The open base, once opened; raises the error that kept it from opening."""
        self._opened.wait(timeout)
        if self.open_error is not None:
            raise self.open_error
        if self.kb is None:
            raise KgqaError(f"the knowledge base {self.path} is still opening; reload the page")
        return self.kb

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the models are loaded (or failed); True when finished."""
        self._thread.join(timeout)
        return not self.running


_WARM: dict[str, Warmup] = {}
_LOCK = threading.Lock()


def key(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def warm(path: str | Path, announce: bool = False) -> Warmup:
    """The warm-up of the base at ``path`` in this process, started on the first call."""
    k = key(path)
    with _LOCK:
        w = _WARM.get(k)
        if w is None:
            w = _WARM[k] = Warmup(k, announce).start()
        return w


def forget(path: str | Path) -> None:
    """Drop the warm-up of ``path`` (after a base was created there, say)."""
    with _LOCK:
        _WARM.pop(key(path), None)
