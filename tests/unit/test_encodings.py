"""What a file declares about its own encoding is honoured; undecodable bytes get a
message naming the likely encoding and what to do (case ``encodings/``)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kgqa.types import IngestProblem
from pipelines.encodings import UndecodableError, decode_text
from pipelines.loaders import Loaded, iter_documents

CASE = Path(__file__).resolve().parents[1] / "data" / "cases" / "encodings"
TEXT = "Café Müller in Zürich: crème brûlée, 10 €.\nSecond line."


def only(items: list[Loaded | IngestProblem]) -> Loaded | IngestProblem:
    assert len(items) == 1, items
    return items[0]


# -- the case ------------------------------------------------------------------------
def test_utf16_with_a_byte_order_mark_is_read_as_text() -> None:
    item = only(list(iter_documents([CASE / "office-note.txt"])))
    assert isinstance(item, Loaded), item
    text = item.document.text
    assert text.startswith("Quarterly note\n\nTamsin Varga leads the Ostrava office")
    assert "\r" not in text and "\x00" not in text and "\ufeff" not in text


def test_latin1_without_a_declaration_names_the_likely_encoding_and_the_fix() -> None:
    item = only(list(iter_documents([CASE / "menu-latin1.txt"])))
    assert isinstance(item, IngestProblem)
    assert item.source.endswith("menu-latin1.txt")
    reason = item.reason
    assert "not valid UTF-8 (byte 0xfc at offset 23)" in reason
    assert "cp1252" in reason  # Windows' Western European code page, a superset of Latin-1
    assert "save it as UTF-8" in reason and "--encoding cp1252" in reason


def test_the_suggested_encoding_reads_it() -> None:
    item = only(list(iter_documents([CASE / "menu-latin1.txt"], encoding="cp1252")))
    assert isinstance(item, Loaded), item
    assert "Brasserie Müller in Zürich: crème brûlée, Rösti and café au lait" in item.document.text


def test_plain_ascii_is_unchanged() -> None:
    item = only(list(iter_documents([CASE / "plain.txt"])))
    assert isinstance(item, Loaded)
    assert item.document.text == (CASE / "plain.txt").read_text()


# -- the kind: every byte-order mark and declaration -------------------------------------
@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_every_byte_order_mark(codec: str) -> None:
    data = TEXT.encode(codec)
    if codec in ("utf-16-le", "utf-16-be"):  # these codecs write no mark: add it
        data = (codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE) + data
    decoded = decode_text(data, "text")
    assert decoded.text == TEXT and decoded.declared_by == "byte-order mark"


def test_utf32_big_endian_mark() -> None:
    assert decode_text(codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"), "text").text == TEXT


@pytest.mark.parametrize(
    "head",
    [
        '<meta charset="iso-8859-15">',
        "<meta charset=iso-8859-15>",
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-15">',
    ],
)
def test_html_meta_charset(head: str) -> None:
    page = f"<html><head>{head}<title>Menu</title></head><body><p>{TEXT}</p></body></html>"
    decoded = decode_text(page.encode("iso-8859-15"), "html")
    assert decoded.declared_by == "meta charset" and TEXT in decoded.text


def test_html_latin1_label_means_windows_1252_as_in_browsers() -> None:
    page = '<meta charset="iso-8859-1"><p>“quoted” – 10 €</p>'.encode("cp1252")
    assert "“quoted” – 10 €" in decode_text(page, "html").text


def test_xml_declaration() -> None:
    page = '<?xml version="1.0" encoding="windows-1250"?><html><p>Łódź, Brno</p></html>'
    decoded = decode_text(page.encode("cp1250"), "html")
    assert decoded.declared_by == "XML declaration" and "Łódź" in decoded.text


@pytest.mark.parametrize(
    "first",
    [
        "# -*- coding: latin-1 -*-",
        "-*- mode: text; coding: latin-1 -*-",
        "vim: set fileencoding=latin-1 :",
    ],
)
def test_coding_lines_of_text_files(first: str) -> None:
    data = f"{first}\nCafé Müller".encode("latin-1")
    decoded = decode_text(data, "text")
    assert decoded.declared_by == "coding line" and decoded.text.endswith("Café Müller")


def test_a_vim_modeline_at_the_end() -> None:
    data = "Café Müller\n\n# vim: fenc=latin-1\n".encode("latin-1")
    assert decode_text(data, "text").text.startswith("Café Müller")


def test_a_charset_meta_in_a_text_file_is_not_a_declaration() -> None:
    # Only HTML reads <meta>: a .txt that quotes one is still UTF-8.
    data = '<meta charset="latin-1"> Müller'.encode()
    assert decode_text(data, "text").text.endswith("Müller")


def test_unknown_declared_encoding_is_named() -> None:
    with pytest.raises(UndecodableError, match="unknown encoding 'klingon'"):
        decode_text(b'<meta charset="klingon"><p>x</p>', "html")


def test_bytes_that_contradict_the_declaration_name_the_likely_encoding() -> None:
    data = "<meta charset='utf-8'><p>Crème brûlée à la française, Müller</p>".encode("cp1252")
    with pytest.raises(UndecodableError) as e:
        decode_text(data, "html")
    assert "not valid UTF-8" in str(e.value) and "meta charset" in str(e.value)
    assert "cp1252" in str(e.value)


def test_utf16_without_a_mark_is_named_as_such() -> None:
    data = ("Quarterly note. " * 20).encode("utf-16-le")
    with pytest.raises(UndecodableError, match="UTF-16-LE text without a byte-order mark"):
        decode_text(data, "text")
    assert decode_text(data, "text", fallback="utf-16-le").text.startswith("Quarterly note.")


def test_binary_bytes_stay_binary_even_with_a_fallback() -> None:
    data = bytes(range(256)) * 4
    with pytest.raises(UndecodableError, match="binary file"):
        decode_text(data, "text", fallback="latin-1")


def test_line_ends_are_normalised() -> None:
    assert decode_text(b"a\r\nb\rc\n", "text").text == "a\nb\nc\n"


def test_jsonl_with_a_utf16_mark(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes('{"id": "1", "title": "Zürich", "text": "Crème."}\n'.encode("utf-16"))
    item = only(list(iter_documents([path])))
    assert isinstance(item, Loaded) and item.document.title == "Zürich"


def test_lone_surrogates_from_json_escapes_become_replacement_characters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": "1", "title": "T", "text": "broken \\ud800 pair"}\n')
    item = only(list(iter_documents([path])))
    assert isinstance(item, Loaded) and item.document.text == "broken \ufffd pair"


def test_a_jsonl_line_that_is_not_utf8_names_the_likely_encoding(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    record = '{"id": "1", "text": "Crème brûlée à la française chez Müller"}\n'
    path.write_bytes(b'{"id": "0", "text": "Fine."}\n' + record.encode("latin-1"))
    items = list(iter_documents([path]))
    assert isinstance(items[0], Loaded)
    problem = items[1]
    assert isinstance(problem, IngestProblem) and problem.source == f"{path}:2"
    assert "invalid UTF-8 at byte offset" in problem.reason and "cp1252" in problem.reason
