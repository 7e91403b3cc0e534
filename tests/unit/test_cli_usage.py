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
