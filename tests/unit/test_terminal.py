"""pipelines.terminal: what the CLI prints cannot act on the terminal; --json stays exact."""

from __future__ import annotations

import io
import json
import sys

from pipelines.terminal import SafeStream, guarded_output, json_safe

HOSTILE = (
    "\x1b[32mOK\x1b[0m \x1b]0;pwned\x07\x1b[2J "
    "\x1b]8;;https://attacker.example/\x1b\\notes\x1b]8;;\x1b\\ \u202etxt.exe \x9b31m"
)


def controls(text: str) -> list[str]:
    bidi = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    return [
        c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
        or ord(c) in bidi
    ]  # fmt: skip


def test_human_output_shows_escapes_and_json_output_stays_exact(capsys) -> None:
    with guarded_output(json_stdout=False):
        print("passage:", HOSTILE)
        print("skipped", HOSTILE, file=sys.stderr)
    out, err = capsys.readouterr()
    assert controls(out) == [] and controls(err) == []
    assert "\\x1b]0;pwned\\x07" in out and "\\u202e" in out and "\\x9b" in out
    with guarded_output(json_stdout=True):
        print(json.dumps({"text": HOSTILE}, ensure_ascii=False))
    out, _ = capsys.readouterr()
    assert controls(out) == []
    assert json.loads(out)["text"] == HOSTILE  # the same text, escaped only as JSON escapes
    assert sys.stdout is not None and not isinstance(sys.stdout, SafeStream)  # restored


def test_progress_bars_keep_their_carriage_return() -> None:
    raw = io.StringIO()
    err = SafeStream(raw, lambda t: t.replace("\x1b", "\\x1b"))
    err.write("\r 50%|#####")
    assert raw.getvalue() == "\r 50%|#####"
    with guarded_output():
        sys.stderr.write("")  # the wrapper answers like a stream
        assert isinstance(sys.stderr.isatty(), bool)


def test_json_safe_escapes_only_what_a_terminal_would_act_on() -> None:
    text = json.dumps({"t": "caf\u00e9 \u6d77 \u202e \x85"}, ensure_ascii=False)
    safe = json_safe(text)
    assert "caf\u00e9 \u6d77" in safe and "\\u202e" in safe and "\\u0085" in safe
    assert json.loads(safe) == json.loads(text)
