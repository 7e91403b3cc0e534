"""Bad input on the real models (MiniLM + spaCy), through the CLI as a user runs it.

The cases of ``tests/data/cases/`` and the fuzz corpus of ``tests/fuzz.py``:
no traceback, every bad file named (or ingested), every good one ingested,
nothing in the base lost, the exit codes the README promises.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_kgqa
from tests.fuzz import make_corpus

pytestmark = pytest.mark.models

CASES = Path(__file__).resolve().parents[1] / "data" / "cases"


def kgqa(*args: str, ok: tuple[int, ...] = (0,)):  # type: ignore[no-untyped-def]
    proc = run_kgqa(*args, ok=ok)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def documents(kb: Path) -> dict[str, dict]:
    return {d["id"]: d for d in json.loads(kgqa("documents", "--kb", str(kb), "--json").stdout)}


def test_giant_token_beside_a_normal_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    monkeypatch.setattr(sys, "argv", ["make_input.py", str(folder / "lab.txt")])
    runpy.run_path(str(CASES / "giant-token-line" / "make_input.py"), run_name="__main__")
    (folder / "normal.txt").write_text("Tobias Lindqvist runs the Dunmore field station.\n")
    kb = tmp_path / "kb"
    proc = kgqa("ingest", str(folder), "--kb", str(kb), "--no-progress", ok=(3,))
    assert f"partly skipped {folder / 'lab.txt'}: line 2: 1,200,000 characters" in proc.stderr
    assert sorted(documents(kb)) == ["lab.txt", "normal.txt"]
    hits = json.loads(
        kgqa("search", "Who sequenced sample K-17?", "--kb", str(kb), "--json").stdout
    )
    assert hits[0]["doc_id"] == "lab.txt" and "Priya Raghunathan" in hits[0]["text"]
    assert all(len(h["text"]) < 1000 for h in hits)


def test_same_name_in_two_folders(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(CASES / "same-name-two-folders", work)
    kb = tmp_path / "kb"
    alder, birch = work / "project-alder" / "notes.md", work / "project-birch" / "notes.md"
    kgqa("ingest", str(alder), "--kb", str(kb), "--no-progress")
    proc = kgqa("ingest", str(birch), "--kb", str(kb), "--no-progress")
    assert "kept both" in proc.stderr and "1 added" in proc.stdout
    docs = documents(kb)
    assert sorted(docs) == ["notes.md", "project-birch/notes.md"]
    assert docs["notes.md"]["title"] == "Alder notes"
    assert docs["project-birch/notes.md"]["title"] == "Birch notes"
    birch.write_text("# Birch notes\n\nProject Birch now ships in May.\n")
    skipped = kgqa("ingest", str(birch), "--kb", str(kb), "--no-progress", "--on-conflict", "skip")
    assert "1 updated" in skipped.stdout  # its own document, kept in the last run
    other = work / "project-cedar" / "notes.md"
    other.parent.mkdir()
    other.write_text("# Cedar notes\n\nProject Cedar is new.\n")
    proc = kgqa(
        "ingest", str(other), "--kb", str(kb), "--no-progress", "--on-conflict", "skip", ok=(3,)
    )
    assert f"skipped {other}" in proc.stderr and "another source" in proc.stderr
    assert documents(kb)["notes.md"]["title"] == "Alder notes"


def test_encodings_and_web_pages(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    proc = kgqa(
        "ingest", str(CASES / "encodings"), str(CASES / "html-boilerplate"),
        "--kb", str(kb), "--no-progress", ok=(3,),
    )  # fmt: skip
    assert "menu-latin1.txt: not valid UTF-8" in proc.stderr and "--encoding cp1252" in proc.stderr
    assert {"office-note.txt", "plain.txt", "storms.html", "tides.html"} <= set(documents(kb))
    kgqa("ingest", str(CASES / "encodings"), "--kb", str(kb), "--encoding", "cp1252")
    assert "menu-latin1.txt" in documents(kb)
    names = json.loads(kgqa("entities", "--kb", str(kb), "--limit", "200", "--json").stdout)
    names = {e["name"] for e in names}
    assert "Tamsin Varga" in names
    assert not [n for n in names if "Brennock" in n]  # only in nav, sidebar and hidden parts


def test_a_question_about_nothing_in_the_base_has_no_hit(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kgqa("ingest", str(CASES / "html-boilerplate"), "--kb", str(kb), "--no-progress")
    for mode in ("vector", "lexical", "graph", "hybrid"):
        for question in ("???", "Who is Blorptang Vexmire?"):
            out = kgqa("search", question, "--kb", str(kb), "--mode", mode, "--json").stdout
            assert json.loads(out) == [], (mode, question)
    out = kgqa("search", "???", "--kb", str(kb)).stdout
    assert "no passages found" in out and "score" not in out
    hits = json.loads(kgqa("search", "When is high tide?", "--kb", str(kb), "--json").stdout)
    assert hits[0]["doc_id"] == "tides.html"


def test_fuzz_corpus_through_the_cli(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "notes.md").write_text("# Notes\n\nAdaeze Nwosu designed the Kestrel Station.\n")
    kgqa("ingest", str(earlier), "--kb", str(kb), "--no-progress")
    before = documents(kb)
    # 200 extra records make the CLI extract in its child process.
    corpus = make_corpus(tmp_path / "fuzz", seed=1212, records=200)
    t0 = time.perf_counter()
    proc = kgqa(
        "ingest", str(corpus.root), str(corpus.root / "bad" / "notes.md"),
        "--kb", str(kb), "--no-progress", "--batch-docs", "32", "--json", ok=(3,),
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    report = json.loads(proc.stdout)
    after = documents(kb)
    sources = {d["source"] for d in after.values()}
    for path in corpus.bad:
        clean = os.path.abspath(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        named = any(
            p["source"] in (str(path), clean) or p["source"].startswith((f"{path}:", f"{clean}:"))
            for p in report["problems"]
        )
        stored = any(s == clean or s.startswith(f"{clean}:") for s in sources)
        assert named or stored, path
    for path in corpus.good:
        assert os.path.abspath(path) in sources, path
    assert all(f"rec-{i}" in after for i in range(200))
    assert after["notes.md"] == before["notes.md"]
    print(f"fuzz corpus through the CLI on the real models: {seconds:.1f} s")
