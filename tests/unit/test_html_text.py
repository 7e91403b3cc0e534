"""A web page is stored as its main content: never navigation, banners, sidebars,
footers or hidden elements (case ``html-boilerplate/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.html_text import html_to_text
from pipelines.loaders import Loaded, iter_documents

CASE = Path(__file__).resolve().parents[1] / "data" / "cases" / "html-boilerplate"
BOILERPLATE = (
    "Home",
    "Gift shop",
    "Contact us",
    "cookies",
    "Related",
    "seafood",
    "Win a free boat trip",
    "Brennock",  # the sponsor named only in the navigation, sidebar and a hidden element
    "internal note",
    "leaving in June",  # in a `hidden` element
    "Sponsored",  # in a `display:none` element
    "editor comment",
    "All rights reserved",
    "Privacy policy",
    "color: red",
    "@type",
)


# -- the case ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "title", "main"),
    [
        (
            "storms.html",
            "Storm warnings | Corrin Harbour",
            "Storm warnings\n\nThe Corrin Point coastguard issues storm warnings by radio on "
            "channel 16. Warnings last six hours.",
        ),
        (
            "tides.html",
            "Tide tables | Corrin Harbour",
            "Tide tables\n\nHigh tide at Corrin Point is at 06:40 on Saturday. The harbourmaster, "
            "Fenella Roche, publishes the tables every Monday.",
        ),
    ],
)
def test_only_the_main_content_is_stored(name: str, title: str, main: str) -> None:
    (item,) = list(iter_documents([CASE / name]))
    assert isinstance(item, Loaded), item
    assert item.document.title == title
    assert item.document.text == main
    for junk in BOILERPLATE:
        assert junk not in item.document.text, junk


def test_the_sponsor_is_no_entity_and_offsets_match_the_stored_text(fake_kb) -> None:
    from pipelines.ingest import IngestOptions

    report = fake_kb.ingest([CASE], options=IngestOptions(progress=False))
    assert report.documents_added == 2 and not report.problems
    names = {e.name for e in fake_kb.entities(limit=200)}
    assert "Fenella Roche" in names and "Corrin Point" in names
    assert not {n for n in names if "Brennock" in n or "Gift" in n or "Trust" in n}
    keys = [key for key, _, _ in fake_kb.store.iter_chunk_texts()]
    for sc in fake_kb.chunks(keys):
        text = fake_kb.document(sc.chunk.doc_id).text
        assert text[sc.chunk.start : sc.chunk.end] == sc.chunk.text


# -- the kind: every way of hiding, every landmark ------------------------------------------
ARTICLE = "<p>Ines Carvalho leads the Porto office of Stratwell Instruments.</p>"


@pytest.mark.parametrize(
    "hidden",
    [
        "<div hidden>SECRET</div>",
        '<div hidden="hidden"><p>SECRET</p></div>',
        '<p aria-hidden="true">SECRET</p>',
        '<p aria-hidden="TRUE">SECRET</p>',
        '<span style="display: none">SECRET</span>',
        '<span style="DISPLAY:NONE;color:red">SECRET</span>',
        '<p style="visibility:hidden">SECRET</p>',
        '<style>.promo { display: none }</style><p class="x promo">SECRET</p>',
        "<style>#n, b.x {visibility: hidden}</style><p id=n>SECRET</p>",
        "<style>i, div.ad{display:none}</style><div class='wide ad'>SECRET</div>",
        "<template><p>SECRET</p></template>",
        "<dialog><p>SECRET</p></dialog>",
        "<noscript>SECRET</noscript>",
        "<script>document.write('SECRET')</script>",
        "<nav><a href='/'>SECRET</a></nav>",
        "<aside>SECRET</aside>",
        "<footer>SECRET</footer>",
        "<header>SECRET</header>",
        '<div role="navigation">SECRET</div>',
        '<div role="contentinfo">SECRET</div>',
        "<!-- SECRET -->",
    ],
)
def test_hidden_and_boilerplate_elements_are_never_stored(hidden: str) -> None:
    _, text = html_to_text(f"<html><body><main>{ARTICLE}</main>{hidden}</body></html>", "f")
    assert "Ines Carvalho leads the Porto office" in text
    assert "SECRET" not in text


def test_hidden_elements_inside_the_main_content_are_dropped_too() -> None:
    page = f"<article><h1>Porto</h1>{ARTICLE}<p hidden>SECRET</p><p>Open since 2012.</p></article>"
    _, text = html_to_text(page, "f")
    assert text == (
        "Porto\n\nInes Carvalho leads the Porto office of Stratwell Instruments.\n\n"
        "Open since 2012."
    )


def test_an_open_dialog_and_a_header_inside_the_article_are_content() -> None:
    page = "<article><header><h1>Porto office</h1></header>" + ARTICLE + "</article>"
    _, text = html_to_text(page + "<dialog open><p>Visible dialog.</p></dialog>", "f")
    assert "Porto office" in text and "Visible dialog." in text


def test_inline_markup_keeps_its_spacing_and_blocks_their_breaks() -> None:
    page = (
        "<title> Acme  News </title><h1>Headline</h1><p>Alice joined <b>Acme</b> &amp; "
        "<a href='x'>Co</a>.</p><div>Second<br>line</div><ul><li>one</li><li>two</li></ul>"
    )
    assert html_to_text(page, "f") == (
        "Acme News",
        "Headline\n\nAlice joined Acme & Co.\n\nSecond\nline\n\none\n\ntwo",
    )


def test_a_long_article_keeps_its_body_and_drops_a_cookie_banner() -> None:
    body = "".join(
        f"<p>Paragraph {i}: the <b>Driftline Buoy</b> was tested off Porto by Henrik Dahl.</p>"
        for i in range(12)
    )
    page = (
        "<html><body><div id='cookie-consent'>We use cookies. Accept all cookies.</div>"
        f"<div class='content'><h1>Buoy trials</h1>{body}</div>"
        "<div class='share-buttons'>Share on social media</div></body></html>"
    )
    title, text = html_to_text(page, "trials")
    assert title == "Buoy trials"
    assert text.count("Driftline Buoy was tested off Porto") == 12
    assert "cookies" not in text and "Share on" not in text


def test_a_title_hidden_from_readers_is_not_the_title() -> None:
    assert html_to_text("<h1 hidden>Hidden</h1><h1>Shown</h1><p>x</p>", "stem")[0] == "Shown"


@pytest.mark.parametrize("depth", [300, 5000])
def test_deeply_nested_pages_are_read_without_losing_text(depth: int) -> None:
    page = "<div>" * depth + "<p hidden>SECRET</p><p>Deep text about Acme.</p>" + "</div>" * depth
    _, text = html_to_text(f"<html><body><nav>menu</nav>{page}</body></html>", "f")
    assert text == "Deep text about Acme."


def test_pages_with_no_text_or_odd_bytes_do_not_raise() -> None:
    assert html_to_text("", "f") == ("f", "")
    assert html_to_text("<html><script>x()</script></html>", "f") == ("f", "")
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><p>a\x00b</p>', "f")[1] == "a b"
