"""The web UI in a real browser: ``kgqa ui`` on the demo base, driven in headless Chromium.

Chromium is Debian's package (``make browser-deps`` installs it; Playwright
never downloads a browser here), driven through Playwright's Python API. The
models are the real ones: a conversation of two turns (a question, then a
follow-up that says "she"), answered by the default generator. The
screenshot is saved in the test's tmp_path and in ``test-output/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEMO_CORPUS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.models, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
# KGQA_BROWSER_KB / KGQA_BROWSER_QUESTION / _FOLLOW_UP / _UNDERSTOOD point the test at
# another base (e.g. one built from ../shared/data/hotpotqa) and conversation.
QUESTION = os.environ.get("KGQA_BROWSER_QUESTION", "Who designed the original Kestrel Station?")
FOLLOW_UP = os.environ.get("KGQA_BROWSER_FOLLOW_UP", "Which university did she attend?")
UNDERSTOOD = os.environ.get("KGQA_BROWSER_UNDERSTOOD",
                            "Understood as: Which university did Adaeze Nwosu attend?")
ANSWER_TIMEOUT_MS = 420_000  # the first answer loads three models on a small CPU


def env() -> dict[str, str]:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory) -> Path:
    if os.environ.get("KGQA_BROWSER_KB"):
        return Path(os.environ["KGQA_BROWSER_KB"])
    kb = tmp_path_factory.mktemp("ui-browser") / "demo-kb"
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "ingest", str(DEMO_CORPUS), "--kb", str(kb)],
        capture_output=True, text=True, env=env(), cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return kb


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(demo_base, tmp_path):
    port = free_port()
    log = (tmp_path / "kgqa-ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ui", "--kb", str(demo_base),
         "--port", str(port), "--no-browser"],
        stdout=log, stderr=subprocess.STDOUT, env=env(), cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 120
    while True:
        try:
            with direct.open(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail("kgqa ui did not start:\n" + (tmp_path / "kgqa-ui.log").read_text())
        time.sleep(0.5)
    yield url
    proc.terminate()  # kgqa stops its Streamlit child
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its process group
    log.close()


def test_a_two_turn_conversation_in_chromium(server, tmp_path):
    """A question, then a follow-up that names no one: both answered, the second as understood."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    shot = tmp_path / "ui-conversation.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(server, timeout=120_000)
            box = page.get_by_label("Your question")
            box.wait_for(timeout=120_000)
            box.fill(QUESTION)
            page.get_by_role("button", name="Ask", exact=True).click()
            answers = page.locator("h4")
            finished = "document.body.innerText.split(' · total ').length > {}"  # timings shown
            page.wait_for_function(finished.format(1), timeout=ANSWER_TIMEOUT_MS)
            page.get_by_role("button", name="New conversation").wait_for(timeout=60_000)
            assert answers.first.inner_text().strip(), "the answer is empty"
            card = page.get_by_text(re.compile(r"^\[\d+\] ")).first  # a citation card
            card.wait_for(timeout=10_000)
            assert page.get_by_text("Evidence", exact=True).first.is_visible()
            mark = page.locator(".kgqa-passage mark").first
            assert mark.is_visible() and mark.inner_text().strip(), "no cited span marked"
            assert page.get_by_text("Whole document").first.is_visible()
            assert page.get_by_text("retrieval ", exact=False).last.is_visible()

            box.fill(FOLLOW_UP)
            page.get_by_role("button", name="Ask", exact=True).click()
            page.get_by_text(UNDERSTOOD).wait_for(timeout=ANSWER_TIMEOUT_MS)
            page.wait_for_function(finished.format(2), timeout=ANSWER_TIMEOUT_MS)
            page.get_by_role("button", name="New conversation").wait_for(timeout=60_000)
            assert answers.nth(1).inner_text().strip(), "the follow-up's answer is empty"
            assert page.get_by_text(QUESTION, exact=True).first.is_visible()  # still on the page
            assert page.get_by_text(FOLLOW_UP, exact=True).first.is_visible()
            assert page.get_by_text("Models ready", exact=False).is_visible()
            assert not page.get_by_text("Traceback").count()
            page.screenshot(path=str(shot), full_page=True)
        except Exception:
            page.screenshot(path=str(tmp_path / "ui-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    shutil.copy(shot, out / "ui-conversation.png")
    assert shot.stat().st_size > 10_000
