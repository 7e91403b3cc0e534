"""Tests of pipelines.loaders: every format, every problem, id derivation."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from kgqa.types import IngestProblem
from pipelines.loaders import SUPPORTED_SUFFIXES, Loaded, iter_documents, load_paths

CORPUS = Path("/work/shared/data/hotpotqa/corpus.jsonl")


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal valid PDF with one Helvetica text line per page and a correct xref."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() if text else b""
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info = ""
    if title is not None:
        objs.append(f"<< /Title ({title}) >>".encode())
        info = f" /Info {len(objs)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R{info} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def encrypt_pdf(data: bytes, user_password: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def load_one(path: Path) -> Loaded:
    items = list(iter_documents([path]))
    assert len(items) == 1 and isinstance(items[0], Loaded), items
    return items[0]


def problem_of(path: Path) -> IngestProblem:
    items = list(iter_documents([path]))
    assert len(items) == 1 and isinstance(items[0], IngestProblem), items
    return items[0]


# --------------------------------------------------------------------------- formats


def test_supported_suffixes() -> None:
    expected = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl"}
    assert expected == SUPPORTED_SUFFIXES


def test_txt_keeps_text_and_uses_stem_as_title(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.txt", "  Alice works at Acme.\n\nShe likes it.\n")
    loaded = load_one(path)
    doc = loaded.document
    assert (doc.id, doc.title, doc.source) == ("notes.txt", "notes", str(path))
    assert doc.text == "  Alice works at Acme.\n\nShe likes it.\n"
    assert loaded.is_record is False


def test_bom_is_dropped_and_crlf_normalised(tmp_path: Path) -> None:
    path = write(tmp_path, "win.txt", b"\xef\xbb\xbfLine one.\r\nLine two.\r\n")
    assert load_one(path).document.text == "Line one.\nLine two.\n"


def test_uppercase_suffix_is_supported(tmp_path: Path) -> None:
    assert load_one(write(tmp_path, "LOUD.TXT", "Hello.")).document.title == "LOUD"


@pytest.mark.parametrize(
    ("name", "content", "title"),
    [
        ("people-maria.md", "# Maria Lopez\n\nMaria runs Acme.\n", "Maria Lopez"),
        ("b.markdown", "Intro line\n\n## Sub\n\n# Real Title #\n\ntext", "Real Title"),
        ("no-heading.md", "Just text, no heading.\n", "no-heading"),
        ("fenced.md", "```\n# not a title\n```\n\n# Title\n", "Title"),
        ("hashtag.md", "#nospace is not a heading\n", "hashtag"),
    ],
)
def test_markdown_title(tmp_path: Path, name: str, content: str, title: str) -> None:
    doc = load_one(write(tmp_path, name, content)).document
    assert doc.title == title
    assert doc.text == content


def test_html_visible_text_only(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><title> Acme  News </title>
    <style>p { color: red }</style><script>var hidden = 1;</script></head>
    <body><h1>Headline</h1><p>Alice joined <b>Acme</b> &amp; Co.</p>
    <script>alert("no")</script><div>Second<br>line</div>
    <ul><li>one</li><li>two</li></ul></body></html>"""
    doc = load_one(write(tmp_path, "news.html", html)).document
    assert doc.title == "Acme News"
    assert doc.text == "Headline\n\nAlice joined Acme & Co.\n\nSecond\nline\n\none\n\ntwo"
    assert "hidden" not in doc.text and "color" not in doc.text and "alert" not in doc.text


def test_html_title_from_first_h1_then_stem(tmp_path: Path) -> None:
    h1 = load_one(write(tmp_path, "a.htm", "<h1>First <i>One</i></h1><h1>Second</h1><p>x</p>"))
    assert h1.document.title == "First One"
    bare = load_one(write(tmp_path, "plain.html", "<p>Only a paragraph.</p>"))
    assert bare.document.title == "plain"


def test_pdf_text_of_all_pages_and_metadata_title(tmp_path: Path) -> None:
    path = write(tmp_path, "report.pdf", make_pdf(["Hello Acme", "Page two"], title="Acme Report"))
    doc = load_one(path).document
    assert doc.text == "Hello Acme\n\nPage two"
    assert (doc.id, doc.title) == ("report.pdf", "Acme Report")


def test_pdf_title_falls_back_to_stem(tmp_path: Path) -> None:
    assert load_one(write(tmp_path, "memo.pdf", make_pdf(["Hi"]))).document.title == "memo"


def test_pdf_encrypted_with_empty_user_password_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "open.pdf", encrypt_pdf(make_pdf(["Hello Acme"]), ""))
    assert load_one(path).document.text == "Hello Acme"


def test_jsonl_records(tmp_path: Path) -> None:
    lines = [
        {"id": "p1", "title": "Alice", "text": "Alice works at Acme."},
        {"id": 7, "text": "No title here."},
        {"id": "p3", "title": None, "text": "Null title."},
    ]
    path = write(tmp_path, "corpus.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    items = list(iter_documents([path]))
    assert all(isinstance(i, Loaded) and i.is_record for i in items)
    docs = [i.document for i in items if isinstance(i, Loaded)]
    assert [(d.id, d.title, d.source) for d in docs] == [
        ("p1", "Alice", f"{path}:1"),
        ("7", "", f"{path}:2"),
        ("p3", "", f"{path}:3"),
    ]
    assert docs[0].text == "Alice works at Acme."


def test_jsonl_bom_and_crlf(tmp_path: Path) -> None:
    raw = b'\xef\xbb\xbf{"id": "a", "text": "one"}\r\n{"id": "b", "text": "x\\r\\ny"}\r\n'
    items = list(iter_documents([write(tmp_path, "c.jsonl", raw)]))
    assert [i.document.text for i in items if isinstance(i, Loaded)] == ["one", "x\ny"]


# --------------------------------------------------------------------------- walking and ids


def test_folder_walk_ids_order_hidden_and_unsupported(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root, "people-maria.md", "# Maria\n\nMaria runs Acme.")
    write(root, "sub/x.txt", "Nested.")
    write(root, "sub/deeper/y.html", "<p>Deep.</p>")
    write(root, "a.txt", "First.")
    write(root, ".hidden.txt", "Hidden.")
    write(root, ".git/config.txt", "Hidden folder.")
    write(root, "image.png", b"\x89PNG\x00\x00")
    write(root, "README", "no suffix")
    items = list(iter_documents([root]))
    assert all(isinstance(i, Loaded) for i in items), items
    ids = [i.document.id for i in items if isinstance(i, Loaded)]
    assert ids == ["a.txt", "people-maria.md", "sub/deeper/y.html", "sub/x.txt"]
    sources = [i.document.source for i in items if isinstance(i, Loaded)]
    assert sources[-1] == str(root / "sub" / "x.txt")


def test_file_given_directly_gets_its_name(tmp_path: Path) -> None:
    path = write(tmp_path, "sub/x.txt", "Nested.")
    assert load_one(path).document.id == "x.txt"
    assert load_one(Path(str(path))).document.id == "x.txt"
    assert [i.document.id for i in iter_documents([str(tmp_path)]) if isinstance(i, Loaded)] == [
        "sub/x.txt"
    ]


def test_empty_folder_yields_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path, "only/unsupported.csv", "a,b")
    assert list(iter_documents([tmp_path / "empty", tmp_path / "only"])) == []


def test_good_files_next_to_bad_ones_still_load(tmp_path: Path) -> None:
    write(tmp_path, "a-good.txt", "Good one.")
    write(tmp_path, "b-empty.txt", "")
    write(tmp_path, "c-binary.txt", b"ab\x00cd")
    write(tmp_path, "d-bad.pdf", b"%PDF-1.4\nnot really a pdf\n")
    write(
        tmp_path,
        "e-mixed.jsonl",
        '{"id": "r1", "text": "ok"}\nnot json\n{"id": "r2", "text": "ok2"}\n',
    )
    write(tmp_path, "f-good.md", "# Good\n\nText.")
    loaded, problems = load_paths([tmp_path, tmp_path / "missing.txt"])
    assert [x.document.id for x in loaded] == ["a-good.txt", "r1", "r2", "f-good.md"]
    assert [Path(p.source).name for p in problems] == [
        "b-empty.txt",
        "c-binary.txt",
        "d-bad.pdf",
        "e-mixed.jsonl:2",
        "missing.txt",
    ]


# --------------------------------------------------------------------------- problems


def test_missing_path(tmp_path: Path) -> None:
    problem = problem_of(tmp_path / "nope.txt")
    assert problem.source == str(tmp_path / "nope.txt")
    assert "not found" in problem.reason


def test_unsupported_suffix_given_directly(tmp_path: Path) -> None:
    problem = problem_of(write(tmp_path, "sheet.csv", "a,b"))
    assert problem.source.endswith("sheet.csv")
    assert "unsupported file type '.csv'" in problem.reason
    assert ".md" in problem.reason  # tells the user what would work


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\n", "only whitespace"),
        ("bom-only.txt", b"\xef\xbb\xbf\r\n", "only whitespace"),
        (
            "nothing.html",
            b"<html><head><title>T</title></head><script>x</script></html>",
            "no visible text",
        ),
        ("bin.txt", b"text\x00more", "binary file (NUL byte at byte offset 4)"),
        ("latin1.txt", "caf\u00e9 ok".encode("latin-1"), "not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("bom-latin1.md", b"\xef\xbb\xbfab\xff", "not valid UTF-8 (byte 0xff at offset 5)"),
        ("empty.pdf", b"", "empty file"),
        ("garbage.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "corrupt or unreadable PDF"),
        ("notpdf.pdf", b"hello, I am text", "corrupt or unreadable PDF"),
        ("empty.jsonl", b"", "empty file"),
        ("blank.jsonl", b"\n  \n", "only whitespace"),
        ("bin.jsonl", b'{"id": 1}\x00', "binary file (NUL byte at byte offset 9)"),
    ],
)
def test_bad_file_is_reported(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = write(tmp_path, name, content)
    problem = problem_of(path)
    assert problem.source == str(path)
    assert expected in problem.reason


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf(["Hello Acme"])
    problem = problem_of(write(tmp_path, "cut.pdf", data[: len(data) // 2]))
    assert "corrupt or unreadable PDF" in problem.reason


def test_encrypted_pdf(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.pdf", encrypt_pdf(make_pdf(["Secret"]), "secret"))
    problem = problem_of(path)
    assert problem.source == str(path)
    assert "encrypted PDF" in problem.reason and "password" in problem.reason


def test_pdf_without_text(tmp_path: Path) -> None:
    problem = problem_of(write(tmp_path, "scan.pdf", make_pdf([""])))
    assert "no extractable text" in problem.reason


def test_permission_denied_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.txt", "x")

    def deny(_: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_bytes", deny)
    problem = problem_of(path)
    assert problem.source == str(path)
    assert problem.reason == "cannot read file: permission denied"


def test_unlistable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.txt", "Readable.")
    locked = tmp_path / "locked"
    write(locked, "inside.txt", "x")
    real_scandir = os.scandir

    def scandir(path: str | Path) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    loaded, problems = load_paths([tmp_path])
    assert [x.document.id for x in loaded] == ["a.txt"]
    assert problems == [IngestProblem(str(locked), "cannot list folder: permission denied")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_and_folder_on_disk(tmp_path: Path) -> None:
    locked_file = write(tmp_path, "f/locked.txt", "x")
    locked_dir = tmp_path / "d"
    write(locked_dir, "inside.txt", "x")
    locked_file.chmod(0)
    locked_dir.chmod(0)
    try:
        problems = [p for p in iter_documents([tmp_path]) if isinstance(p, IngestProblem)]
    finally:
        locked_file.chmod(0o644)
        locked_dir.chmod(0o755)
    assert {(Path(p.source).name, "permission denied" in p.reason) for p in problems} == {
        ("d", True),
        ("locked.txt", True),
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": "a", "text": "x"', "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"just a string"', "expected a JSON object, got str"),
        ('{"id": "a"}', 'missing "text"'),
        ('{"id": "a", "text": null}', 'missing "text"'),
        ('{"id": "a", "text": "   "}', '"text" is empty'),
        ('{"id": "a", "text": 5}', '"text" must be a string, got int'),
        ('{"id": "a", "title": ["t"], "text": "x"}', '"title" must be a string, got list'),
        ('{"id": ["a"], "text": "x"}', '"id" must be a string or an integer, got list'),
        ('{"id": true, "text": "x"}', '"id" must be a string or an integer, got bool'),
        ('{"text": "x"}', 'missing "id"'),
        ('{"id": " ", "text": "x"}', '"id" is empty'),
    ],
)
def test_malformed_jsonl_line(tmp_path: Path, line: str, expected: str) -> None:
    body = '{"id": "ok1", "text": "first"}\n' + line + '\n{"id": "ok2", "text": "third"}\n'
    path = write(tmp_path, "c.jsonl", body)
    items = list(iter_documents([path]))
    assert [i.document.id for i in items if isinstance(i, Loaded)] == ["ok1", "ok2"]
    problems = [i for i in items if isinstance(i, IngestProblem)]
    assert len(problems) == 1
    assert problems[0].source == f"{path}:2"
    assert expected in problems[0].reason


def test_jsonl_invalid_utf8_names_line_and_file_offset(tmp_path: Path) -> None:
    first = b'{"id": "a", "text": "x"}\n'
    path = write(tmp_path, "c.jsonl", first + b'{"id": "b", "text": "\xff"}\n')
    problems = [i for i in iter_documents([path]) if isinstance(i, IngestProblem)]
    offset = len(first) + len(b'{"id": "b", "text": "')
    assert problems == [IngestProblem(f"{path}:2", problems[0].reason)]
    assert f"invalid UTF-8 at byte offset {offset}" in problems[0].reason


def test_jsonl_duplicate_id_reports_second(tmp_path: Path) -> None:
    body = (
        '{"id": "a", "text": "one"}\n{"id": "b", "text": "two"}\n'
        '{"id": "a", "text": "again"}\n{"id": 1, "text": "int"}\n{"id": "1", "text": "str"}\n'
    )
    path = write(tmp_path, "c.jsonl", body)
    loaded, problems = load_paths([path])
    assert [x.document.text for x in loaded] == ["one", "two", "int"]
    assert [p.source for p in problems] == [f"{path}:3", f"{path}:5"]
    assert "duplicate id 'a' (first used on line 1)" in problems[0].reason


def test_iter_documents_is_lazy_and_never_raises(tmp_path: Path) -> None:
    write(tmp_path, "x.txt", b"\xff\xfe\x00")
    items = list(iter_documents([tmp_path, "", tmp_path / "x.txt"]))
    assert len(items) == 3 and all(isinstance(i, IngestProblem) for i in items)
    assert items[1] == IngestProblem("", "empty path")


@pytest.mark.skipif(not CORPUS.exists(), reason="shared hotpotqa corpus not present")
def test_hotpotqa_corpus_loads() -> None:
    loaded, problems = load_paths([CORPUS])
    assert problems == []
    assert len(loaded) == 994
    assert all(x.is_record for x in loaded)
    assert loaded[0].document.id == "hotpotqa-0"
