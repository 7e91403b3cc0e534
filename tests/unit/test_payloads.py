"""Non-prose payloads stay out of chunks; every chunk stays within the models' limits."""

from __future__ import annotations

import base64
import random

import pytest

from kgqa.types import Document
from pipelines.chunking import ChunkerConfig, chunk_document
from pipelines.payloads import (
    MAX_CHUNK_CHARS,
    chunk_without_payloads,
    describe,
    find_payloads,
)

RNG = random.Random(12)
PROSE = (
    "Sample K-17 was sequenced by Priya Raghunathan at the Elsworth Genome Centre. "
    "The sample came from a river otter found near Dunmore."
)


def dna(n: int) -> str:
    return "".join(RNG.choice("ACGT") for _ in range(n))


def b64(n: int, wrap: bool) -> str:
    raw = bytes(RNG.randrange(256) for _ in range(n))
    return base64.encodebytes(raw).decode() if wrap else base64.b64encode(raw).decode()


MINIFIED = (
    "!function(e,t){'use strict';var n=e.document,r=Object.getPrototypeOf,i=n.slice;"
    "function a(e){return e.map(function(t){return t*2})}}(window);"
) * 15
PAYLOADS = {
    "a DNA run": "Sequence: " + dna(5000),
    "a wrapped DNA block": "\n".join(dna(60) for _ in range(20)),
    "a base64 image": "![logo](data:image/png;base64," + b64(900, wrap=False) + ")",
    "a wrapped base64 block": b64(900, wrap=True),
    "a hex dump": "".join(f"{RNG.randrange(256):02x}" for _ in range(200)),
    "minified code": MINIFIED,
    "a PEM block": "-----BEGIN CERTIFICATE-----\n" + b64(600, wrap=True) + "-----END",
}
NOT_PAYLOADS = {
    "prose": PROSE * 20,
    "a long URL": "See https://example.org/archive/2024/05/otters-near-dunmore.html?ref=home&p=2 .",
    "a session URL": "Log in at https://example.com/s?q=otters&session=a8f7d9e0c1b2a3f4e5d6c7b8a9",
    "a path": "Saved to /home/priya/projects/genome-centre/samples/k17/report_final_v2.md today.",
    "a compound word": "Das Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz galt.",
    "Chinese": "深海声学实验室由王明于二零一五年在青岛创办，它研究鲸类的声音和海底地形。" * 40,
    "Japanese": "東京の研究所はクジラの歌を記録している。" * 60,
    "Thai": "ห้องปฏิบัติการนี้ศึกษาเสียงของปลาวาฬ" * 60,
    "a table": "| name | city | year |\n|---|---|---|\n" + "| Acme | Porto | 2012 |\n" * 50,
    "numbers": " ".join(str(RNG.randrange(10_000)) for _ in range(800)),
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_payloads_are_found_and_left_out_of_chunks(name: str) -> None:
    payload = PAYLOADS[name]
    text = f"{PROSE}\n{payload}\n{PROSE}"
    found = find_payloads(text)
    assert found, name
    doc = Document("d", "", text)
    chunks, left_out = chunk_without_payloads(doc, chunk_document)
    assert left_out == found
    covered = sum(p.end - p.start for p in found)
    assert covered >= 0.8 * len(payload.strip()), (name, covered, len(payload))
    body = payload.strip().splitlines()[len(payload.strip().splitlines()) // 2]
    assert all(body not in c.text for c in chunks)
    assert sum(c.text.count("Priya Raghunathan") for c in chunks) >= 2  # the prose is all there


@pytest.mark.parametrize("name", list(NOT_PAYLOADS))
def test_prose_in_any_script_is_not_a_payload(name: str) -> None:
    assert find_payloads(NOT_PAYLOADS[name]) == []


def test_offsets_point_into_the_stored_text_and_ids_run_in_order() -> None:
    text = f"{PROSE}\n{PAYLOADS['a DNA run']}\n\n{PROSE}\n{PAYLOADS['minified code']}\n{PROSE}"
    doc = Document("lab.txt", "lab", text)
    chunks, payloads = chunk_without_payloads(doc, chunk_document)
    assert [c.id for c in chunks] == [f"lab.txt#{i}" for i in range(len(chunks))]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.text == c.text.strip()
    assert [p.line for p in payloads] == [2, 5]
    assert describe(payloads).startswith("2 places (lines 2, 5): ")


def test_no_chunk_is_longer_than_the_limit_whatever_the_text() -> None:
    # One "sentence" without spaces in a script that needs none, far over the limit,
    # and a long run of words with no sentence end.
    cases = [
        "深海声学实验室" * 5000,
        " ".join(["harbour"] * 20_000),
        "海" + "あいうえお" * 20_000,
    ]
    for text in cases:
        doc = Document("d", "", text)
        chunks, _ = chunk_without_payloads(doc, lambda d: chunk_document(d, ChunkerConfig(10**6)))
        assert chunks and max(len(c.text) for c in chunks) <= MAX_CHUNK_CHARS
        assert all(text[c.start : c.end] == c.text for c in chunks)
        assert sum(len(c.text) for c in chunks) >= len(text.replace(" ", "")) * 0.99


def test_a_document_that_is_only_payload_has_no_chunks() -> None:
    chunks, payloads = chunk_without_payloads(Document("d", "", dna(3000)), chunk_document)
    assert chunks == [] and len(payloads) == 1
    assert "nothing else is left" in describe(payloads, rest=False)


def test_a_document_without_payloads_is_chunked_as_before() -> None:
    doc = Document("d", "T", PROSE * 40)
    assert chunk_without_payloads(doc, chunk_document) == (chunk_document(doc), [])
