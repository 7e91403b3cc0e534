"""A seeded corpus of bad files beside good ones, for the ingest fuzz tests.

:func:`make_corpus` writes, under one folder, files that break naive readers
(random bytes behind text suffixes, truncated and corrupt PDFs, HTML nested
100,000 deep, mixed and undeclared encodings, megabyte lines, every kind of
malformed JSONL record, odd names, links that lead nowhere) and good files,
each good one holding a sentence that only it has. Everything comes from one
``random.Random(seed)``, so a failure can be replayed.
"""

from __future__ import annotations

import base64
import codecs
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from tests.unit.test_loaders import make_pdf


@dataclass
class FuzzCorpus:
    """What was written: good files (path -> a sentence only it holds) and bad ones."""

    root: Path
    good: dict[Path, str] = field(default_factory=dict)
    good_records: dict[str, str] = field(default_factory=dict)  # record id -> sentence
    bad: list[Path] = field(default_factory=list)


def _sentence(rng: random.Random, i: int) -> str:
    first = rng.choice(["Zorvath", "Ilka", "Temperance", "Odalys", "Brannoch", "Quillon"])
    org = rng.choice(["Umbrel Foundry", "Cask Signal Works", "Veldt Marine", "Orrin Glassworks"])
    return f"{first} Kellgren{i} founded the {org} in Tessaly{i}."


def make_corpus(root: Path, seed: int = 1212, records: int = 3) -> FuzzCorpus:
    """Write the corpus under ``root`` (created); ``records``: good JSONL records."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    c = FuzzCorpus(root)

    def bad(name: str, data: bytes | str) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        c.bad.append(path)

    def good(name: str, make: object, i: int) -> None:
        sentence = _sentence(rng, i)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = make(sentence)  # type: ignore[operator]
        path.write_bytes(data)
        c.good[path] = sentence

    # -- good files, one per format and encoding
    good("good/plain.txt", lambda s: f"{s}\nIt has a second line.\n".encode(), 0)
    good("good/notes.md", lambda s: f"# Notes\n\n{s}\n\n```\ncode()\n```\n".encode(), 1)
    good(
        "good/page.html",
        lambda s: (
            f"<html><head><title>Page</title></head><body><nav>Home</nav>"
            f"<main><h1>Page</h1><p>{s}</p></main><div hidden>secret</div></body></html>".encode()
        ),
        2,
    )
    good("good/report.pdf", lambda s: make_pdf([s]), 3)
    good("good/utf16.txt", lambda s: s.encode("utf-16"), 4)
    good("good/latin1.txt", lambda s: f"# -*- coding: latin-1 -*-\nCafé. {s}".encode("latin-1"), 5)
    good("good/deep/er/nested.md", lambda s: s.encode(), 6)
    good("good/crlf.txt", lambda s: f"{s}\r\nSecond line.\r\n".encode(), 7)
    good("good/spaced name é.txt", lambda s: s.encode(), 8)
    rec_lines = []
    for r in range(records):
        sentence = _sentence(rng, 100 + r)
        c.good_records[f"rec-{r}"] = sentence
        rec_lines.append(json.dumps({"id": f"rec-{r}", "title": f"Record {r}", "text": sentence}))
    path = root / "good" / "records.jsonl"
    path.write_text("\n".join(rec_lines) + "\n")

    # -- random bytes behind every text suffix
    for suffix in (".txt", ".md", ".html", ".htm", ".jsonl", ".markdown", ".pdf"):
        bad(f"bad/random{suffix}", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))))
    bad("bad/random-no-nul.txt", bytes(rng.randrange(1, 256) for _ in range(3000)))

    # -- PDFs: truncated, corrupted, a header only, a garbage stream, no text
    pdf = make_pdf(["Truncated PDF page one", "Page two"])
    bad("bad/truncated.pdf", pdf[: len(pdf) // 2])
    flipped = bytearray(pdf)
    for _ in range(40):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    bad("bad/corrupt.pdf", bytes(flipped))
    bad("bad/header-only.pdf", b"%PDF-1.7\n")
    bad("bad/garbage-stream.pdf", pdf.replace(b"BT /F1 12 Tf", b"BT /F9 \xff\xfe Tf"))
    bad("bad/no-text.pdf", make_pdf([""]))

    # -- HTML: nested far deeper than parsers like, unclosed, hidden only, huge
    deep = "<div>" * 100_000 + "<p>Deep HTML text.</p>" + "</div>" * 100_000
    bad("bad/deep.html", f"<html><body>{deep}</body></html>")
    bad("bad/unclosed.html", "<html><body><p>Unclosed <b>bold <i>italic <div><table><tr><td>")
    bad("bad/hidden-only.html", "<html><body><div hidden>only hidden</div><nav>menu</nav></body>")
    bad("bad/script-only.htm", "<script>" + "var x = 1;" * 10_000 + "</script>")
    bad("bad/lying-charset.html", '<meta charset="utf-8"><p>caf\xe9 cr\xe8me</p>'.encode("latin-1"))
    bad("bad/unknown-charset.html", b'<meta charset="x-klingon"><p>Qapla</p>')

    # -- encodings
    bad("bad/mixed-encoding.txt", "Café ".encode() + "crème brûlée".encode("latin-1"))
    bad("bad/utf16-no-bom.txt", ("Quarterly note without a mark. " * 10).encode("utf-16-le"))
    bad("bad/bom-only.txt", codecs.BOM_UTF8)
    bad("bad/utf32.md", "# UTF-32\n\nA file with a UTF-32 mark.".encode("utf-32"))
    bad("bad/broken-utf16.txt", codecs.BOM_UTF16_LE + b"a\x00b\x00\x00\xd8")  # lone surrogate
    bad("bad/empty.txt", b"")
    bad("bad/whitespace.md", b" \n\t\n   \n")
    bad("bad/controls.txt", b"\x1b[2J\x1b]0;title\x07\x08\x0c text")

    # -- huge lines
    bad(
        "bad/giant-token.txt", "Lab note.\n" + "".join(rng.choice("ACGT") for _ in range(1_500_000))
    )
    bad(
        "bad/base64-blob.md",
        "![img](data:image/png;base64," + base64.b64encode(rng.randbytes(600_000)).decode() + ")",
    )
    bad(
        "bad/long-prose-line.txt",
        " ".join(
            rng.choice(["otter", "river", "Dunmore", "harbour", "sample"]) for _ in range(12_000)
        ),
    )
    bad("bad/cjk-line.txt", "深海声学实验室" * 20_000)
    bad("bad/minified.html", "<script>" + "function(a){return a*2};" * 5000 + "</script><p>x</p>")

    # -- JSONL: every malformed record
    lines = [
        "{}",
        "[]",
        "null",
        "42",
        '"a string"',
        '{"id": "no-text"}',
        '{"id": "t1", "text": null}',
        '{"id": "t2", "text": 5}',
        '{"id": "t3", "text": ""}',
        '{"id": "t4", "text": "   "}',
        '{"id": true, "text": "bool id"}',
        '{"id": 1.5, "text": "float id"}',
        '{"id": {"x": 1}, "text": "dict id"}',
        '{"id": "", "text": "empty id"}',
        '{"id": "dup", "text": "first"}',
        '{"id": "dup", "text": "second"}',
        '{"id": "t5", "title": 7, "text": "title not text"}',
        '{"id": "t6", "text": "unpaired \\ud800 surrogate"}',
        '{"id": "t7", "text": "trailing"',
        "[" * 100_000 + "]" * 100_000,
        '{"id": 1' + "0" * 5000 + ', "text": "huge number"}',
        json.dumps({"id": "i" * 5000, "text": "long id"}),
        json.dumps({"id": "t8", "text": "".join(rng.choice("ACGT") for _ in range(2_000_000))}),
        "not json at all",
        "\x00\x01\x02",
    ]
    bad("bad/records.jsonl", "\n".join(lines) + "\n")
    bad("bad/empty-objects.jsonl", "{}\n{}\n{}\n")
    bad("bad/utf16-records.jsonl", '{"id": "u16", "text": "UTF-16 record."}\n'.encode("utf-16"))
    bad("bad/truncated.jsonl", '{"id": "tr", "text": "cut off in the mid')

    # -- names and links
    bad("bad/" + "long" * 60 + ".txt", "A file with a long name.")
    bad("bad/ünïcödé 名前.md", "A file with a Unicode name.")
    bad("bad/notes.md", "# Notes\n\nThe same name as an earlier document, other content.")
    weird = os.fsencode(root / "bad") + b"/latin1-name-\xff.txt"
    with open(weird, "wb") as f:
        f.write(b"A file whose name is not UTF-8.")
    c.bad.append(Path(os.fsdecode(weird)))
    (root / "bad" / "dangling.txt").symlink_to(root / "bad" / "nowhere.txt")
    c.bad.append(root / "bad" / "dangling.txt")
    (root / "bad" / "loop").symlink_to(root / "bad")  # a folder link: not followed
    os.mkfifo(root / "bad" / "pipe.txt")
    c.bad.append(root / "bad" / "pipe.txt")
    return c
