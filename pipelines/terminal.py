"""Output of the command line that document text cannot turn against the terminal.

Documents may hold terminal control sequences: colours, a new window title
(``ESC ] 0 ;``), screen clearing, hidden hyperlinks (OSC 8), bidirectional
overrides that reorder what a reader sees. Everything the ``kgqa`` commands
print goes through :func:`guarded_output`, so none of it reaches a terminal
as a control character:

* human-readable output shows each one as a visible escape (``\\x1b``,
  ``\\u202e``; :func:`kgqa.text.printable`);
* ``--json`` output stays exact: JSON strings already escape control codes,
  and the few characters ``json.dumps(..., ensure_ascii=False)`` leaves raw
  (C1 controls, bidirectional controls) are written as ``\\uXXXX`` escapes,
  which decode to the very same text.

Line feeds, tabs and (on standard error, for progress bars) carriage returns
pass through.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from kgqa.text import UNSAFE_CODEPOINTS, printable

_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in UNSAFE_CODEPOINTS if chr(c) not in "\n"}


def json_safe(text: str) -> str:
    """JSON text with every terminal control character written as a ``\\uXXXX`` escape.

    Only valid on ``json.dumps`` output, where such characters can only occur
    inside strings.

    >>> json_safe('{"t": "a\\u202eb"}')
    '{"t": "a\\\\u202eb"}'
    """
    return text.translate(_JSON_ESCAPES)


class SafeStream:
    """A text stream that passes everything written through ``clean`` first."""

    def __init__(self, stream: TextIO, clean: Callable[[str], str]) -> None:
        self._stream = stream
        self._clean = clean

    def write(self, text: str) -> int:
        self._stream.write(self._clean(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, buffer...
        return getattr(self._stream, name)


@contextmanager
def guarded_output(json_stdout: bool = False) -> Iterator[None]:
    """Within the block, ``sys.stdout`` and ``sys.stderr`` neutralise control characters.

    ``json_stdout``: standard output carries JSON (``--json``), kept exact.
    """
    out, err = sys.stdout, sys.stderr
    sys.stdout = SafeStream(out, json_safe if json_stdout else printable)
    sys.stderr = SafeStream(err, lambda t: printable(t, keep="\n\t\r"))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
