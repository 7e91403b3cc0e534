"""Tests of pipelines.chunking: sentences, packing, overlap, offsets."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from kgqa.errors import ConfigError
from kgqa.types import Chunk, Document
from pipelines.chunking import (
    DEFAULT_CONFIG,
    ENDS,
    ChunkerConfig,
    RegexTokens,
    _sentence_spans,
    _sentences,
    chunk_document,
    count_tokens,
)
from pipelines.loaders import load_paths

CORPUS = Path("/work/shared/data/hotpotqa/corpus.jsonl")


def doc_of(text: str, doc_id: str = "d") -> Document:
    return Document(id=doc_id, title="", text=text)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e, _ in _sentences(text, 0, len(text))]


def check_invariants(doc: Document, chunks: list[Chunk], config: ChunkerConfig) -> None:
    """Offsets, ids, order, whitespace, size and coverage of one document's chunks."""
    text = doc.text
    assert bool(chunks) == bool(text.strip())
    for i, c in enumerate(chunks):
        assert c.id == Chunk.make_id(doc.id, i) and c.index == i and c.doc_id == doc.id
        assert text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
    assert all(a.start < b.start and a.end < b.end for a, b in itertools.pairwise(chunks))
    if len(chunks) > 1:
        assert all(count_tokens(c.text) <= config.max_tokens for c in chunks)
    # Coverage: outside the chunks there is only whitespace (chunks are in order).
    reached = 0
    for c in chunks:
        assert not text[reached : c.start].strip()
        reached = max(reached, c.end)
    assert not text[reached:].strip()


# --------------------------------------------------------------------------- tokens and config


@pytest.mark.parametrize(
    ("text", "n"),
    [("", 0), ("Alice works.", 3), ("Dr. Smith's 3.5%", 9), ("naïve café-bar", 4), ("  \n ", 0)],
)
def test_count_tokens(text: str, n: int) -> None:
    assert count_tokens(text) == n


def test_config_defaults_and_validation() -> None:
    expected = ChunkerConfig(
        max_tokens=200, overlap_sentences=1, record_max_tokens=1000, version=2
    )
    assert expected == DEFAULT_CONFIG
    with pytest.raises(ConfigError, match="max_tokens must be at least 1, got 0"):
        ChunkerConfig(max_tokens=0)
    with pytest.raises(ConfigError, match="overlap_sentences must be 0 or more, got -1"):
        ChunkerConfig(overlap_sentences=-1)
    with pytest.raises(ConfigError, match="record_max_tokens"):
        ChunkerConfig(record_max_tokens=0)


# --------------------------------------------------------------------------- sentences


def test_sentence_splitter_respects_abbreviations_and_decimals() -> None:
    text = (
        "Mr. Smith met Dr. Jones at 3.14 p.m. in the U.S. Army base. "
        "Acme Inc. and St. Louis Ltd. merged, e.g. with J. R. R. Tolkien's help! "
        'Was it worth $2.5 million? Yes."Quoted." Next one.'
    )
    assert sentences(text) == [
        "Mr. Smith met Dr. Jones at 3.14 p.m. in the U.S. Army base.",
        "Acme Inc. and St. Louis Ltd. merged, e.g. with J. R. R. Tolkien's help!",
        "Was it worth $2.5 million?",
        'Yes."Quoted."',
        "Next one.",
    ]


def test_sentence_splitter_lowercase_continuation_and_ellipsis() -> None:
    assert sentences("It cost approx. five. Then... Done?! ok fine") == [
        "It cost approx. five.",
        "Then...",
        "Done?! ok fine",
    ]


def test_paragraph_breaks_end_sentences() -> None:
    text = "Title line without stop\n\n  Body one. Body two\n \t\nLast para\nsame para."
    assert sentences(text) == [
        "Title line without stop",
        "Body one.",
        "Body two",
        "Last para\nsame para.",
    ]


def test_headings_are_glued_to_the_next_sentence() -> None:
    text = "# Acme\n\n## History\n\nAcme was founded. It grew.\n\n## People\n\nMaria runs it."
    assert sentences(text) == [
        "# Acme\n\n## History\n\nAcme was founded.",
        "It grew.",
        "## People\n\nMaria runs it.",
    ]
    assert sentences("Intro text.\n\n## Trailing heading") == ["Intro text.\n\n## Trailing heading"]
    assert sentences("# Only a heading") == ["# Only a heading"]


def test_no_chunk_is_only_a_heading() -> None:
    body = " ".join(f"Sentence number {i} is here." for i in range(8))
    text = "\n\n".join(f"## Section {k}\n\n{body}" for k in range(6))
    config = ChunkerConfig(max_tokens=30, overlap_sentences=0)
    chunks = chunk_document(doc_of(text), config)
    assert len(chunks) > 6
    for c in chunks:
        assert not c.text.splitlines()[-1].startswith("#"), c.text
    assert sum(c.text.startswith("## Section") for c in chunks) == 6
    only = chunk_document(doc_of("# Just a heading\n"), config)
    assert [c.text for c in only] == ["# Just a heading"]


# --------------------------------------------------------------------------- chunks


def test_short_document_is_one_stripped_chunk() -> None:
    doc = doc_of("\n\n  Alice works at Acme.  \n")
    (chunk,) = chunk_document(doc)
    assert (chunk.id, chunk.text, chunk.start, chunk.end) == ("d#0", "Alice works at Acme.", 4, 24)


def test_whitespace_only_document_has_no_chunks() -> None:
    assert chunk_document(doc_of(" \n\t ")) == []


def test_packing_and_overlap() -> None:
    sents = [f"Alpha beta gamma delta {i}." for i in range(10)]  # 6 tokens each
    text = " ".join(sents)
    plain = chunk_document(doc_of(text), ChunkerConfig(max_tokens=18, overlap_sentences=0))
    assert [c.text for c in plain] == [
        " ".join(sents[0:3]),
        " ".join(sents[3:6]),
        " ".join(sents[6:9]),
        sents[9],
    ]
    over = chunk_document(doc_of(text), ChunkerConfig(max_tokens=18, overlap_sentences=1))
    assert [c.text for c in over] == [
        " ".join(sents[0:3]),
        " ".join(sents[2:5]),
        " ".join(sents[4:7]),
        " ".join(sents[6:9]),
        " ".join(sents[8:10]),
    ]
    two = chunk_document(doc_of(text), ChunkerConfig(max_tokens=18, overlap_sentences=2))
    assert [c.text for c in two][:2] == [" ".join(sents[0:3]), " ".join(sents[1:4])]
    assert two[-1].text.endswith(sents[9])


def test_overlap_shrinks_when_it_would_not_fit() -> None:
    text = "Short one. " + "Word " * 15 + "end. Tail here."
    chunks = chunk_document(doc_of(text), ChunkerConfig(max_tokens=18, overlap_sentences=1))
    check_invariants(doc_of(text), chunks, ChunkerConfig(max_tokens=18))
    assert chunks[0].text == "Short one."  # the long sentence does not fit after it
    assert chunks[1].text.startswith("Word") and chunks[1].text.endswith("end.")


def test_long_sentence_is_split_at_token_boundaries() -> None:
    words = [f"w{i}" for i in range(450)]
    text = "Intro. " + " ".join(words) + ", the end. Outro."
    config = ChunkerConfig(max_tokens=100, overlap_sentences=1)
    doc = doc_of(text)
    chunks = chunk_document(doc, config)
    check_invariants(doc, chunks, config)
    assert len(chunks) >= 5
    seen = [t for c in chunks for t in c.text.replace(",", " ").split() if t.startswith("w")]
    assert sorted(set(seen), key=lambda t: int(t[1:])) == words  # nothing lost, in order
    assert all(not c.text[0].isspace() for c in chunks)


def test_unbroken_text_without_spaces() -> None:
    text = "x" * 50 + "." * 500
    config = ChunkerConfig(max_tokens=64, overlap_sentences=3)
    chunks = chunk_document(doc_of(text), config)
    check_invariants(doc_of(text), chunks, config)


def test_records_are_kept_whole_up_to_record_max_tokens() -> None:
    text = " ".join(f"Sentence {i} of a long record." for i in range(60))  # 420 tokens
    doc = doc_of(text, "rec")
    assert len(chunk_document(doc, is_record=True)) == 1
    assert len(chunk_document(doc)) > 1
    assert len(chunk_document(doc, ChunkerConfig(record_max_tokens=400), is_record=True)) > 1


def test_offsets_property_on_many_generated_texts() -> None:
    rng = random.Random(0)
    vocab = [
        "Acme", "Maria", "works", "at", "the", "U.S.", "Dr.", "Mr.", "e.g.", "3.14", "Inc.",
        "café", "naïve", "—", "(note)", '"quoted"', "x" * 30, "St.", "a", "of", "1,000",
    ]  # fmt: skip
    ends = [".", ".", "!", "?", "...", '."', ""]
    seps = [" ", " ", " ", "\n", "\n\n", "\n \n  ", "\t"]
    configs = [
        ChunkerConfig(),
        ChunkerConfig(max_tokens=1, overlap_sentences=0),
        ChunkerConfig(max_tokens=7, overlap_sentences=2),
        ChunkerConfig(max_tokens=25, overlap_sentences=1),
        ChunkerConfig(max_tokens=60, overlap_sentences=3),
    ]
    for n in range(100):
        parts: list[str] = [rng.choice(["", " ", "\n\n", "  \n"])]
        for _ in range(rng.randint(0, 40)):
            if rng.random() < 0.08:
                parts.append(f"{'#' * rng.randint(1, 3)} Heading {n}\n\n")
            words = [rng.choice(vocab) for _ in range(rng.randint(1, 25))]
            parts.append(" ".join(words) + rng.choice(ends) + rng.choice(seps))
        doc = doc_of("".join(parts), f"g{n}")
        for config in configs:
            if config.max_tokens == 1 and n >= 15:  # a chunk per token: slow, few suffice
                continue
            for is_record in (False, True):
                check_invariants(doc, chunk_document(doc, config, is_record), config)


def test_many_passages_chunk_as_expected() -> None:
    rng = random.Random(0)
    vocab = ["alpha", "beta", "gamma", "Acme", "Maria", "works", "at", "the", "Dr.", "U.S.", "3.5"]
    docs = []
    for i in range(2000):
        sents = [
            " ".join(rng.choice(vocab) for _ in range(10)).capitalize() + "." for _ in range(10)
        ]
        docs.append(doc_of(" ".join(sents), f"p{i}"))
    n_default = sum(len(chunk_document(d)) for d in docs)
    assert n_default >= 2000
    assert sum(len(chunk_document(d, is_record=True)) for d in docs) == 2000


@pytest.mark.skipif(not CORPUS.exists(), reason="shared hotpotqa corpus not present")
def test_hotpotqa_records_are_one_chunk_each() -> None:
    loaded, problems = load_paths([CORPUS])
    assert problems == [] and len(loaded) == 994
    # The longest passage (hotpotqa-787) has 654 tokens, within the record limit.
    for x in loaded:
        chunks = chunk_document(x.document, is_record=x.is_record)
        assert [c.text for c in chunks] == [x.document.text.strip()]
    tight = ChunkerConfig(record_max_tokens=600)
    long = [x for x in loaded if count_tokens(x.document.text) > 600]
    assert long and all(len(chunk_document(x.document, tight, True)) > 1 for x in long)


# --------------------------------------------------------------------------- every script

ZH = (
    "星河海洋研究院位于浙江省舟山市，是一所专门从事海洋科学研究的机构。"
    "研究院的首任院长是林晓岚，她在二零零八年创办了深海声学实验室！"
    "实验室现在有十四名成员吗？有的。"
)


def v2_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in _sentence_spans(text, 0, len(text), ENDS)]


def test_sentences_end_at_every_scripts_terminators() -> None:
    assert v2_sentences(ZH) == [
        "星河海洋研究院位于浙江省舟山市，是一所专门从事海洋科学研究的机构。",
        "研究院的首任院长是林晓岚，她在二零零八年创办了深海声学实验室！",
        "实验室现在有十四名成员吗？",
        "有的。",
    ]
    assert v2_sentences("東京に行きました。「楽しかった！」と彼は言った。") == [
        "東京に行きました。",
        "「楽しかった！」",
        "と彼は言った。",
    ]
    assert v2_sentences("यह पहला वाक्य है। यह दूसरा है।") == ["यह पहला वाक्य है।", "यह दूसरा है।"]
    assert v2_sentences("هل هذا سؤال؟ نعم") == ["هل هذا سؤال؟", "نعم"]
    assert v2_sentences("円周率は３．１４です。次。") == ["円周率は３．１４です。", "次。"]
    assert v2_sentences("真的吗?是的. Mr. Smith left.") == ["真的吗?", "是的.", "Mr. Smith left."]
    # version 1 is unchanged: no split without a space after the stop
    assert [t for t in sentences(ZH)] == [ZH]


def test_text_without_spaces_is_chunked_in_its_own_tokens() -> None:
    text = ZH * 12  # ~700 characters, each a token, no spaces at all
    doc = doc_of(text)
    config = ChunkerConfig(max_tokens=100, overlap_sentences=1)
    chunks = chunk_document(doc, config)
    assert len(chunks) >= 7
    counter = RegexTokens()
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert len(counter.spans(c.text)) <= 100
        assert c.text.endswith(("。", "！", "？"))  # cut at sentence ends
    assert chunks[-1].end == len(text)
    # version 1 counted a run of Chinese as one word and cut it at no sentence end
    old = chunk_document(doc, ChunkerConfig(max_tokens=100, version=1))
    assert len(old) < len(chunks)


class Window(RegexTokens):
    """The regex counter with an embedder-like window (tokens of text per input)."""

    def __init__(self, window: int) -> None:
        object.__setattr__(self, "window", window)


def test_no_chunk_exceeds_the_embedders_window_with_its_title() -> None:
    text = " ".join(f"Sentence {i} of a long record." for i in range(60))  # 420 tokens
    doc = Document(id="rec", title="A long title of six", text=text)  # 5 tokens + 1
    counter = Window(64)
    chunks = chunk_document(doc, DEFAULT_CONFIG, is_record=True, counter=counter)
    assert len(chunks) > 6  # the record limit (1000) gives way to the window
    for c in chunks:
        assert len(counter.spans(c.text)) <= 64 - 6
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    short = Document(id="s", title="T", text="Acme builds robots.")
    assert [c.text for c in chunk_document(short, counter=counter)] == ["Acme builds robots."]


def test_a_long_clause_list_is_cut_after_a_comma() -> None:
    text = "，".join(f"第{i}号采样点位于东海" for i in range(40)) + "。"
    chunks = chunk_document(doc_of(text), ChunkerConfig(max_tokens=60, overlap_sentences=0))
    assert len(chunks) > 1
    assert all(c.text.endswith(("，", "。")) for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_offsets_property_on_mixed_scripts() -> None:
    rng = random.Random(1)
    vocab = ["海洋", "研究院", "Acme", "東京", "ไทย", "मुंबई", "，", "、", "Dr.", "3.14"]
    ends = ["。", "！", "？", ". ", "। ", "\n\n", ""]
    for n in range(60):
        text = "".join(
            "".join(rng.choice(vocab) for _ in range(rng.randint(1, 30))) + rng.choice(ends)
            for _ in range(rng.randint(1, 20))
        )
        doc = doc_of(text, f"m{n}")
        for config in (ChunkerConfig(max_tokens=7, overlap_sentences=2), ChunkerConfig()):
            for counter in (None, Window(20)):
                chunks = chunk_document(doc, config, counter=counter)
                assert bool(chunks) == bool(text.strip())
                for c in chunks:
                    assert text[c.start : c.end] == c.text == c.text.strip()
                    assert len((counter or RegexTokens()).spans(c.text)) <= (
                        min(config.max_tokens, 20) if counter else config.max_tokens
                    )


def test_chunker_version_is_validated() -> None:
    with pytest.raises(ConfigError, match="version must be 1 or 2"):
        ChunkerConfig(version=3)
