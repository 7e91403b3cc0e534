"""Names spaCy's small English models see badly: shouted text and untagged proper nouns.

* :func:`unshout`: a run of two or more all-capital words ("LUMEN LABS",
  a headline) is given to the model in title case, which it tags far better.
* :func:`unlabelled_names`: capitalised proper-noun runs that the NER left out
  entirely become entities labelled :data:`NAME_LABEL`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc, Span, Token

__all__ = ["NAME_LABEL", "unlabelled_names", "unshout"]

#: Label of a proper-noun name the NER did not tag (see :func:`unlabelled_names`).
NAME_LABEL = "NAME"
_PROPER_TAGS = frozenset({"NNP", "NNPS"})
_ROLE_WORDS = frozenset(
    {
        "prime", "minister", "deputy", "vice", "president", "general", "secretary",
        "director", "chief", "executive", "officer", "chairman", "chairwoman", "chair",
        "senior", "junior", "head", "governor", "senator", "mayor", "king", "queen",
        "prince", "princess", "lord", "lady", "saint", "sir", "attorney", "justice",
    }
)  # fmt: skip


_SHOUTED = regex.compile(r"\b[A-Z][A-Z'&-]*[A-Z](?:[ \t]+[A-Z][A-Z'&-]*[A-Z])+\b")


def unshout(text: str) -> str:
    """``text`` with every run of two or more all-capital words in title case.

    The length never changes, so offsets stay valid. A lone capitalised word
    (an acronym such as "NASA") is left as it is.

    >>> unshout("The founder of LUMEN LABS met NASA staff.")
    'The founder of Lumen Labs met NASA staff.'
    """
    return _SHOUTED.sub(lambda m: m.group().title(), text)


def unlabelled_names(doc: Doc) -> list[Span]:
    """Runs of 2 to 6 capitalised proper nouns that the NER left out entirely.

    spaCy's small models miss many names of small companies, products and
    places ("Harrowgate Salvage bought two tugboats"); the tagger still calls
    each word a proper noun (NNP; a capitalised plural such as "Stations" may
    end one). A run of all-capital words only (acronyms) does not count, nor a
    run that touches any entity the NER found, of any label, nor a run of role
    words only ("Prime Minister", "Vice President").
    """
    taken = {t for ent in doc.ents for t in range(ent.start, ent.end)}
    spans: list[Span] = []
    run: list[Token] = []

    def flush() -> None:
        if (
            2 <= len(run) <= 6
            and run[0].i - 1 not in taken
            and run[-1].i + 1 not in taken
            and not all(t.text.isupper() for t in run)
            and not all(t.lower_ in _ROLE_WORDS for t in run)
        ):
            spans.append(doc[run[0].i : run[-1].i + 1])
        run.clear()

    for tok in doc:
        if tok.is_sent_start:
            flush()
        if (
            tok.i not in taken
            and tok.text[:1].isupper()
            and (tok.tag_ in _PROPER_TAGS or (run and tok.tag_ == "NNS"))
        ):
            run.append(tok)
        else:
            flush()
    flush()
    return spans
