"""The main content of an HTML page as text: no navigation, banners or hidden elements.

:func:`html_to_text` works in three steps:

1. **Never hidden text.** The page is parsed with lxml and every element a
   reader cannot see is removed: the ``hidden`` attribute, ``aria-hidden="true"``,
   an inline ``display: none`` or ``visibility: hidden``, a class, id or tag
   that the page's own ``<style>`` hides that way (simple selectors such as
   ``.promo``, ``#note``, ``div.ad``), ``<template>``, a closed ``<dialog>``.
   So are the page's landmarks that are never its content: ``<nav>``, and the
   ``<header>``, ``<footer>`` and ``<aside>`` outside ``<main>``/``<article>``
   (or the same ARIA roles).
2. **Main content.** trafilatura (a maintained boilerplate remover) picks
   what of the rest is the page's content, dropping cookie banners, share
   bars, "related" lists and the like.
3. **Text.** The text is read from the cleaned page block by block
   (paragraphs, headings, list items, table rows: one blank line between
   blocks, ``<br>`` a line break) and a block is kept when trafilatura kept
   its words. Where trafilatura keeps nothing (very short pages), every
   visible block is kept.

The title is the page's ``<title>``, else its first visible ``<h1>``, else
the caller's fallback (the file name).

>>> html_to_text("<title>T</title><nav>Home</nav><p>One <b>two</b></p>"
...              "<p hidden>secret</p><script>x()</script>", "f")
('T', 'One two')
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from html.parser import HTMLParser

#: Pages larger than this (characters of HTML) are exports rather than web
#: pages: every visible block is kept, without trafilatura's pass (which takes
#: seconds per megabyte).
MAX_BOILERPLATE_PASS_CHARS = 2_000_000

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})
# Tags that may appear in <head>; any other start tag implicitly ends it.
_HEAD_TAGS = frozenset({"head", "meta", "link", "title", "base"}) | _SKIP_TAGS
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "summary", "table", "tr", "ul", "caption",
        "body", "html",
    }
)  # fmt: skip
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
) | frozenset({"source", "track", "wbr"})
_LANDMARK_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search")
_HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"([a-zA-Z][\w-]*)?((?:[.#][\w-]+)*)")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOT_WORD = re.compile(r"\W+")

_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_HIDDEN_XPATH = (
    "//*[@hidden] | //*[" + _LOWER.format("@aria-hidden") + "='true'] | //template"
    " | //dialog[not(@open)] | //nav"
    " | //*[self::header or self::footer or self::aside][not(ancestor::main or ancestor::article)]"
    " | //*[" + " or ".join(f"{_LOWER.format('@role')}='{r}'" for r in _LANDMARK_ROLES) + "]"
)


def html_to_text(html: str, fallback_title: str) -> tuple[str, str]:
    """``(title, text)`` of the main content of ``html`` (see the module docstring).

    ``text`` may be empty (a page with no visible content). Never raises for
    malformed HTML: what a browser would show is read as well as it can be.
    """
    cleaned = _visible_tree_html(html)
    parser = _HtmlText(skip_hidden=cleaned is None)
    parser.feed(html if cleaned is None else cleaned)
    parser.close()
    title = " ".join(parser.title.split()) or parser.h1 or fallback_title
    blocks = parser.blocks
    if cleaned is not None and len(html) <= MAX_BOILERPLATE_PASS_CHARS:
        blocks = _main_blocks(cleaned, blocks)
    return title, "\n\n".join(blocks)


def _visible_tree_html(html: str) -> str | None:
    """The page without hidden elements and landmarks, serialised; None if lxml cannot parse it.

    lxml stops at a nesting depth of 256 (2048 with ``huge_tree``); a deeper
    page is left to the streaming parser, which has no depth limit.
    """
    import lxml.html
    from lxml import etree

    text = _CONTROL.sub(" ", _XML_DECLARATION.sub("", html, count=1))
    if not text.strip():
        return None
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
    try:
        tree = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return None
    for el in _hidden_elements(tree):
        if el.getparent() is not None:
            el.drop_tree()
    return str(lxml.html.tostring(tree, encoding="unicode"))


def _hidden_elements(tree: object) -> list:
    found = list(tree.xpath(_HIDDEN_XPATH))  # type: ignore[attr-defined]
    for el in tree.iter():  # type: ignore[attr-defined]
        style = el.get("style") if isinstance(el.tag, str) else None
        if style and _HIDING_STYLE.search(style):
            found.append(el)
    for xpath in _css_hidden_xpaths(tree):
        found += tree.xpath(xpath)  # type: ignore[attr-defined]
    return found


def _css_hidden_xpaths(tree: object) -> list[str]:
    """XPaths of the simple selectors that the page's ``<style>`` hides.

    >>> import lxml.html
    >>> _css_hidden_xpaths(lxml.html.fromstring("<style>.ad, p#x { display:none }</style>"))
    ["//*[contains(concat(' ', normalize-space(@class), ' '), ' ad ')]", "//p[@id='x']"]
    """
    out: list[str] = []
    for style in tree.xpath("//style"):  # type: ignore[attr-defined]
        for selectors, body in _CSS_RULE.findall(style.text or ""):
            if not _HIDING_STYLE.search(body):
                continue
            for sel in selectors.split(","):
                m = _SIMPLE_SELECTOR.fullmatch(sel.strip())
                if m is None or not (m.group(1) or m.group(2)):
                    continue  # descendant, attribute or pseudo selectors are not read
                tests = []
                for part in re.findall(r"[.#][\w-]+", m.group(2)):
                    if part[0] == ".":
                        tests.append(
                            f"contains(concat(' ', normalize-space(@class), ' '), ' {part[1:]} ')"
                        )
                    else:
                        tests.append(f"@id='{part[1:]}'")
                tag = (m.group(1) or "*").lower()
                out.append(f"//{tag}" + "".join(f"[{t}]" for t in tests))
    return out


def _main_blocks(cleaned_html: str, blocks: list[str]) -> list[str]:
    """The blocks whose words trafilatura kept as the page's main content."""
    try:
        import trafilatura

        logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
        main = trafilatura.extract(
            cleaned_html, include_comments=False, include_tables=True, deduplicate=False
        )
    except Exception:  # RecursionError on pathological pages, parser errors...
        return blocks
    if not main:
        return blocks
    kept_words = _NOT_WORD.sub("", main).lower()
    kept = [b for b in blocks if (w := _NOT_WORD.sub("", b).lower()) and w in kept_words]
    return kept or blocks


class _HtmlText(HTMLParser):
    """Collect visible text as blocks (one per paragraph-like element).

    With ``skip_hidden`` it also leaves out what step 1 of the module docstring
    removes from lxml's tree (except what a ``<style>`` hides), for pages that
    lxml cannot read.
    """

    def __init__(self, skip_hidden: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title = ""
        self.h1 = ""
        self._skip_hidden = skip_hidden
        self._open: list[tuple[str, bool]] = []  # (tag, hides its content)
        self._open_count: Counter[str] = Counter()  # open elements per tag
        self._hidden = 0  # open elements that hide their content
        self._in_content = 0  # open <main> and <article> elements
        self._lines: list[list[str]] = [[]]  # current block, split at <br>
        self._skip = 0
        self._in_head = False
        self._in_title = False
        self._h1_depth = 0
        self._h1_text = ""
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_hidden and tag not in _VOID_TAGS:
            if tag in ("p", "li") and self._open and self._open[-1][0] == tag:
                self.handle_endtag(tag)  # an unclosed <p> or <li> ends at the next one
            hides = self._hides(tag, dict(attrs))
            self._open.append((tag, hides))
            self._open_count[tag] += 1
            self._hidden += hides
            self._in_content += tag in ("main", "article")
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag == "head":
            self._in_head = True
        elif tag == "title" and not self._skip:  # not an <svg><title>
            self._in_title = True
        elif tag == "br":
            self._lines.append([])
        elif tag in ("td", "th"):
            self._lines[-1].append(" ")
        if tag not in _HEAD_TAGS:
            self._in_head = False
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "pre":
            self._pre += 1
        if tag == "h1" and not self.h1 and not self._hidden:
            self._h1_depth += 1

    def _hides(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
            return True
        if _HIDING_STYLE.search(attrs.get("style") or ""):
            return True
        if tag == "nav" or (tag == "dialog" and "open" not in attrs):
            return True
        if (attrs.get("role") or "").lower() in _LANDMARK_ROLES:
            return True
        return tag in ("header", "footer", "aside") and not self._in_content

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._lines.append([])
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if self._skip_hidden and self._open_count[tag]:
            while self._open:  # close what was left open inside it, as a browser does
                open_tag, hides = self._open.pop()
                self._open_count[open_tag] -= 1
                self._hidden -= hides
                self._in_content -= open_tag in ("main", "article")
                if open_tag == tag:
                    break
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False
        if tag in _BLOCK_TAGS:
            self._flush()
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag == "h1" and self._h1_depth:
            self._h1_depth -= 1
            if not self._h1_depth:
                self.h1 = " ".join(self._h1_text.split())

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._skip or self._in_head or self._hidden:
            return
        if self._h1_depth:
            self._h1_text += data
        if self._pre:
            lines = data.split("\n")
            self._lines[-1].append(lines[0])
            self._lines.extend([line] for line in lines[1:])
        else:
            self._lines[-1].append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        if self._pre:
            lines = ["".join(parts).rstrip() for parts in self._lines]
        else:
            lines = [" ".join("".join(parts).split()) for parts in self._lines]
        block = "\n".join(lines).strip("\n")
        if block.strip():
            self.blocks.append(block)
        self._lines = [[]]
