"""Bad usage exits 2 before any base is opened or model loaded, on every command."""

from __future__ import annotations

import pytest

from pipelines.cli import main

BAD = [
    ["search", "q", "--top-k", "0"],
    ["search", "q", "--top-k", "-1"],
    ["search", "q", "--top-k", "two"],
    ["search", "q", "--mode", "fuzzy"],
    ["search", "   "],
    ["search"],
    ["ask", "q", "--top-k", "0"],
    ["ask", ""],
    ["ask", "q", "--timeout", "0"],
    ["ask", "q", "--timeout", "nan"],
    ["ask", "q", "--model", "m", "--llm-url", "http://127.0.0.1:1/v1"],
    ["ask", "q", "--precision", "fp8"],
    ["ask", "q", "--llm-url", "notaurl"],
    ["ask", "q", "--llm-url", "localhost:8000"],
    ["ask", "q", "--model", "/no/such/model.gguf"],
    ["chat", "--llm-url", "ftp://127.0.0.1/v1"],
    ["eval", "--corpus", "c", "--questions", "q", "--answer", "--model", "/no/such/dir"],
    ["ui", "--model", "/no/such/dir"],
    ["entities", "--limit", "0"],
    ["ingest"],
    ["ingest", "x", "--batch-docs", "0"],
    ["ingest", "x", "--on-conflict", "overwrite"],
    ["ingest", "x", "--encoding", "klingon"],
    ["ingest", "x", "--embedder", "hash:abc"],
    ["ingest", "x", "--embedder", "hash:4"],
    ["eval", "--corpus", "c.jsonl"],
    ["eval", "--corpus", "c", "--questions", "q", "--limit", "-1"],
    ["eval", "--corpus", "c", "--questions", "q", "--mode", "fuzzy"],
    ["eval", "--corpus", "c", "--questions", "q", "--details", "rows.jsonl"],  # no --answer
    ["delete"],
    ["ui", "--port", "0"],
    ["ui", "--port", "65536"],
    ["serve-llm", "--port", "-1"],
    ["export", "--to", "sqlite"],
    ["export", "--to", "neo4j", "--batch-docs", "0"],
    ["frobnicate"],
    [],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) or "(nothing)" for a in BAD])
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    with pytest.raises(SystemExit) as e:
        code = main([*argv, "--kb", str(tmp_path / "none")] if argv[:1] == ["search"] else argv)
        raise SystemExit(code)
    assert e.value.code == 2
    assert not (tmp_path / "none").exists()  # nothing was created or opened
    err = capsys.readouterr().err
    assert argv == [] or "error" in err or "usage" in err


def test_ingest_of_nothing_that_exists_is_an_error_and_creates_no_base(capsys, tmp_path):
    kb = tmp_path / "kb"
    assert main(["ingest", str(tmp_path / "missing.md"), "--kb", str(kb)]) == 1
    assert "missing.md: no such file or folder" in capsys.readouterr().err
    assert not kb.exists()
    assert main(["ingest", "a.md", "b.md", "--kb", str(kb)]) == 1
    assert "a.md, b.md: none of the 2 paths exists" in capsys.readouterr().err
    assert not kb.exists()


def test_the_web_ui_of_a_missing_base_is_an_error_that_says_what_to_do(capsys, tmp_path):
    assert main(["ui", "--kb", str(tmp_path / "nothing"), "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "no knowledge base here" in err and "kgqa ingest FILES --kb" in err
