"""Start-up, answer times and peak memory of ``kgqa ask``, ``kgqa chat`` and ``kgqa ui``.

    .venv/bin/python benchmarks/startup.py --kb DIR [--what ask,chat,ui] [--cold] [--repeat 1]

Each command runs as a user runs it, in a fresh process, on a demo base
(``DIR``, built from ``demo/corpus`` when missing):

- ``ask``: ``kgqa ask QUESTION --kb DIR --no-stream``: wall clock, CPU seconds
  (user + system, all threads), peak resident memory (``ru_maxrss`` of the
  process, as ``/usr/bin/time -v`` reports it);
- ``chat``: ``kgqa chat --kb DIR --json`` fed a conversation of four questions
  through a pipe: the time from start to each answer line, CPU, peak memory;
- ``ui``: ``kgqa ui --kb DIR --no-browser``, then at once a headless Chromium
  (Playwright; Debian's ``/usr/bin/chromium``) opens the page, types the first
  question and waits for its answer: the time from ``kgqa ui`` starting to that
  answer, then each later answer of the conversation (p50), and the server's
  peak memory (sampled).

``--cold`` points ``KGQA_CACHE`` at a new empty directory for each command,
as on the first start after installing: the default model is assembled from
its packages, converted to a Transformers copy and quantised (then cached).
Without it the cache in use (``$KGQA_CACHE`` or ``~/.cache/kgqa``) is reused.
One JSON object is printed, with the load average before and after: on a
shared machine the wall clock is an upper bound, the CPU time less so.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONVERSATION = [
    "Who designed the original Kestrel Station?",
    "Which university did she attend?",
    "How many staff does the Edinburgh office have?",
    "What about the Melbourne office?",
]
CHROMIUM = "/usr/bin/chromium"


def env(cache: Path | None) -> dict[str, str]:
    e = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
             PYTHONPATH=str(ROOT), TOKENIZERS_PARALLELISM="false")
    if cache is not None:
        e["KGQA_CACHE"] = str(cache)
    return e


def kgqa(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def finish(proc: subprocess.Popen[str]) -> dict[str, float]:
    """Wait for ``proc``; its CPU seconds and peak RSS (MB) from the kernel's accounting."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def run_ask(kb: Path, cache: Path | None) -> dict[str, object]:
    t = time.perf_counter()
    proc = subprocess.Popen(kgqa("ask", CONVERSATION[0], "--kb", str(kb), "--no-stream"),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env(cache), cwd=ROOT)
    out = proc.stdout.read() if proc.stdout else ""
    usage = finish(proc)
    return {"wall_s": round(time.perf_counter() - t, 1), **usage,
            "answer": out.splitlines()[0] if out else "", "rc": proc.returncode}


def run_chat(kb: Path, cache: Path | None) -> dict[str, object]:
    t = time.perf_counter()
    proc = subprocess.Popen(kgqa("chat", "--kb", str(kb), "--json"), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env(cache), cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("".join(q + "\n" for q in CONVERSATION))
    proc.stdin.close()
    at, answers = [], []
    for line in proc.stdout:
        at.append(round(time.perf_counter() - t, 1))
        row = json.loads(line)
        answers.append([row["answer"], row["understood_as"]])
    usage = finish(proc)
    later = [round(b - a, 1) for a, b in itertools.pairwise(at)]
    return {"first_answer_s": at[0] if at else None, "answers_at_s": at,
            "later_answer_s_p50": round(statistics.median(later), 1) if later else None,
            **usage, "answers": answers, "rc": proc.returncode}


def run_ui(kb: Path, cache: Path | None) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    proc = subprocess.Popen(kgqa("ui", "--kb", str(kb), "--port", str(port), "--no-browser"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env(cache), cwd=ROOT, start_new_session=True)
    log: list[tuple[float, str]] = []
    threading.Thread(target=lambda: [log.append((time.perf_counter() - t, x.strip()))
                                     for x in proc.stdout or []], daemon=True).start()
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        import psutil

        while not stop.is_set():
            try:
                tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    times: list[float] = []
    result: dict[str, object] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            while True:  # the page as soon as the server answers
                try:
                    page.goto(url, timeout=5_000)
                    break
                except Exception:
                    if proc.poll() is not None or time.perf_counter() - t > 300:
                        raise
                    time.sleep(0.2)
            result["page_s"] = round(time.perf_counter() - t, 1)
            box = page.get_by_label("Your question")
            for n, question in enumerate(CONVERSATION, start=1):
                box.wait_for(timeout=300_000)
                box.fill(question)
                asked = time.perf_counter()
                page.get_by_role("button", name="Ask", exact=True).click()
                # a finished turn shows its timings ("retrieval ... · total 2.31 s")
                page.wait_for_function("document.body.innerText.split(' · total ').length > "
                                       f"{n}", timeout=600_000)
                done = time.perf_counter()
                times.append(round((done - t) if n == 1 else (done - asked), 1))
            result["answers"] = [x.strip() for x in page.locator("h4").all_inner_texts()]
            result["timings_shown"] = page.get_by_text(" · total ").all_inner_texts()
            browser.close()
    finally:
        stop.set()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    ready = next((round(s, 1) for s, line in log if "models ready" in line), None)
    return {"first_answer_from_start_s": times[0] if times else None,
            "later_answer_s": times[1:],
            "later_answer_s_p50": statistics.median(times[1:]) if len(times) > 1 else None,
            "models_ready_s": ready, "server_peak_rss_mb": round(peak[0] / 2**20), **result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kb", type=Path, default=ROOT / ".kb" / "demo")
    ap.add_argument("--what", default="ask,chat,ui")
    ap.add_argument("--cold", action="store_true", help="a new empty model cache per command")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if not (args.kb / "manifest.json").exists():
        subprocess.run(kgqa("ingest", str(ROOT / "demo" / "corpus"), "--kb", str(args.kb),
                            "--no-progress"), check=True, env=env(None), cwd=ROOT)
    out: dict[str, object] = {"load_average_before": os.getloadavg(), "cold": args.cold}
    runs = {"ask": run_ask, "chat": run_chat, "ui": run_ui}
    for what in args.what.split(","):
        results = []
        for _ in range(args.repeat):
            cache = Path(tempfile.mkdtemp(prefix="kgqa-cold-")) if args.cold else None
            try:
                results.append(runs[what](args.kb, cache))
            finally:
                if cache is not None:
                    shutil.rmtree(cache, ignore_errors=True)
            print(what, json.dumps(results[-1], ensure_ascii=False), file=sys.stderr, flush=True)
        out[what] = results if len(results) > 1 else results[0]
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
