"""kgqa.text: normalisation with an offset map, folding, scripts, printable text."""

from __future__ import annotations

import random
import re

import pytest

from kgqa.text import fold, has_spaceless, is_spaceless, normalize_text, printable

INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\x1b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ya\u00adsmin Odu\u00adya", "Yasmin Oduya"),
        ("Harrow\u200bgate Salvage", "Harrowgate Salvage"),
        ("The \ufb01nance of\ufb01ce", "The finance office"),
        ("Glenrock\u00a0Council", "Glenrock Council"),
        ("O\u2019Connor & Sons", "O'Connor & Sons"),
        ("\u201cBlue Heron\u201d", '"Blue Heron"'),
        ("Marguerite  Okonkwo", "Marguerite Okonkwo"),
        ("Lumen\u2011Labs", "Lumen-Labs"),
        ("\uff2e\uff21\uff33\uff21", "NASA"),
        ("one\n\n\n  two", "one\n\ntwo"),
        ("plain ASCII text.", "plain ASCII text."),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text).text == expected


def test_a_wrapped_line_is_joined_but_a_list_or_short_line_is_not() -> None:
    wrapped = "Present: the treasurer, the secretary and Marguerite\nOkonkwo, who reported."
    assert "Marguerite Okonkwo" in normalize_text(wrapped).text
    listed = "Suppliers of the depot this year:\n- Acme\n- Beta Works"
    assert normalize_text(listed).text == listed
    address = "Acme Ltd\nHarbour Road"
    assert normalize_text(address).text == address


def test_offsets_map_back_to_the_original_characters() -> None:
    text = "The \ufb01nance of\ufb01ce is led by Ya\u00adsmin Odu\u00adya.\u00a0Done."
    n = normalize_text(text)
    for word in ("finance", "office", "Yasmin Oduya", "Done"):
        i = n.text.index(word)
        s, e = n.span(i, i + len(word))
        assert fold(text[s:e]) == fold(word)
    i = n.text.index("Yasmin Oduya")
    assert n.span(i, i + len("Yasmin Oduya")) == (text.index("Ya"), text.index(".\u00a0"))
    assert n.span(3, 3) == (3, 3)  # an empty span stays empty


def test_offset_map_on_random_text() -> None:
    """Every word of the normalised text maps to the original characters it came from."""
    rng = random.Random(7)
    words = ["Acme", "Lumen", "Labs", "\ufb01ne", "caf\u00e9", "\u6d77\u6d0b", "O\u2019Neil", "x"]
    for _ in range(200):
        parts = []
        for _ in range(rng.randint(1, 12)):
            w = rng.choice(words)
            if rng.random() < 0.4:
                k = rng.randint(0, len(w))
                w = w[:k] + rng.choice(INVISIBLE) + w[k:]
            parts.append(w)
            parts.append(rng.choice([" ", "  ", "\u00a0", "\n", "\n\n", " \u200b "]))
        text = "".join(parts)
        n = normalize_text(text)
        for m in re.finditer(r"\S+", n.text):
            s, e = n.span(*m.span())
            assert 0 <= s <= e <= len(text)
            assert fold(text[s:e]).replace(" ", "") == fold(m.group()).replace(" ", "")


def test_fold() -> None:
    assert fold("O\u2019Connor &\u00a0Sons") == "o'connor & sons"
    assert fold("  Ya\u00adsmin\n ODUYA ") == "yasmin oduya"
    assert fold("STRASSE") == fold("Stra\u00dfe") == "strasse"
    assert fold("a\x1bb") == "ab"


def test_scripts_without_spaces() -> None:
    assert all(is_spaceless(c) for c in "\u6d77\u3042\u30a2\ud55c\u0e44\u0ea5\u1780")
    assert not any(is_spaceless(c) for c in "aé\u0416\u05d0\u0627\u0915")  # Latin, Cyrillic...
    assert has_spaceless("Tokyo \u6771\u4eac") and not has_spaceless("Tokyo")


def test_printable_shows_control_characters_as_escapes() -> None:
    log = "\x1b]0;title\x07\x1b[2J ok \u202eevil\r\nnext\tcol"
    shown = printable(log)
    assert shown == "\\x1b]0;title\\x07\\x1b[2J ok \\u202eevil\nnext\tcol"
    assert not any(ord(c) < 32 and c not in "\n\t" for c in shown)
    assert printable("a\nb", keep="") == "a\\x0ab"
    assert printable("caf\u00e9 \u6d77 \u00ad") == "caf\u00e9 \u6d77 \u00ad"  # letters stay
