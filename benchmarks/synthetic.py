"""A synthetic corpus at any size, written straight to a store: no model, reproducible.

Documents of 1-3 chunks, each about an entity (its title); chunk text is
pseudo-words drawn from a Zipf vocabulary, with entity names inserted; the
mentioned entities follow a Zipf law over a pool as large as the corpus (a
few hubs in a large share of the chunks, a long tail seen once), as on the
Wikipedia-like development sets (there "American" is in 20% of the passages
and most entities appear once; here the exponent is 0.8, so the top entity
is in about a third of the chunks at 20k chunks and 15% at a million). Each
sentence relates its entities (``co_occurs``), and each chunk mentions its
document's title entity
(``TITLE``), as ingestion does. Vectors are fixed random directions: a topic
per document plus a direction per mentioned entity plus noise, unit length.

>>> batch = next(synthetic_documents(10, dim=8, batch_docs=4))
>>> len(batch), batch[0].vectors.shape[1]
(4, 8)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kg.store import DocumentRecord
from kgqa.types import CO_OCCURS, TITLE_LABEL, Chunk, Document, Mention, Relation

_SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["an", "el", "or", "is"]


def _words(n: int, rng: np.random.Generator, low: int, high: int) -> list[str]:
    sizes = rng.integers(low, high + 1, n)
    picks = rng.integers(0, len(_SYLLABLES), int(sizes.sum()))
    out, i = [], 0
    for s in sizes.tolist():
        out.append("".join(_SYLLABLES[j] for j in picks[i : i + s]))
        i += s
    return out


@dataclass(frozen=True)
class Vocabulary:
    """Pseudo-words and entity names with Zipf frequencies, fixed by ``seed``."""

    words: list[str]
    word_cdf: np.ndarray  # (W,)
    names: list[str]  # entity display names, by popularity rank
    name_cdf: np.ndarray  # (N,)
    entity_dirs: np.ndarray  # (4096, dim) a direction per entity (by rank, modulo)
    topics: np.ndarray  # (T, dim)

    @classmethod
    def make(cls, n_chunks: int, dim: int, seed: int = 0) -> Vocabulary:
        rng = np.random.default_rng(seed)
        words = list(dict.fromkeys(_words(40_000, rng, 1, 4)))
        n_names = max(1_000, n_chunks)
        first, last = _words(n_names, rng, 1, 3), _words(n_names, rng, 2, 3)
        pairs = zip(first, last, strict=True)
        names = list(dict.fromkeys(f"{a.title()} {b.title()}" for a, b in pairs))

        def cdf(n: int, s: float) -> np.ndarray:
            w = 1.0 / np.arange(1, n + 1) ** s
            return np.cumsum(w) / w.sum()
        n_topics = max(8, int(np.sqrt(n_chunks)))
        return cls(
            words, cdf(len(words), 1.0), names, cdf(len(names), 0.8),
            rng.standard_normal((4096, dim)).astype(np.float32),
            2.0 * rng.standard_normal((n_topics, dim)).astype(np.float32),
        )  # fmt: skip

    def entity_ranks(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.searchsorted(self.name_cdf, rng.random(n))

    def word_ids(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.searchsorted(self.word_cdf, rng.random(n))


def synthetic_documents(
    n_chunks: int,
    dim: int = 384,
    *,
    batch_docs: int = 1000,
    seed: int = 0,
    first_doc: int = 0,
    vocabulary: Vocabulary | None = None,
) -> Iterator[list[DocumentRecord]]:
    """Batches of document records holding ``n_chunks`` chunks in all (ids ``syn-<n>``)."""
    vocab = vocabulary or Vocabulary.make(n_chunks, dim, seed)
    rng = np.random.default_rng(seed + 1 + first_doc)
    made, doc = 0, first_doc
    batch: list[DocumentRecord] = []
    while made < n_chunks:
        n = min(int(rng.integers(1, 4)), n_chunks - made)
        batch.append(_document(vocab, doc, n, rng))
        made += n
        doc += 1
        if len(batch) == batch_docs:
            yield batch
            batch = []
    if batch:
        yield batch


def _document(
    vocab: Vocabulary, doc: int, n_chunks: int, rng: np.random.Generator
) -> DocumentRecord:
    doc_id = f"syn-{doc}"
    title_rank = int(rng.integers(0, len(vocab.names)))  # documents are about any entity
    title, title_key = vocab.names[title_rank], vocab.names[title_rank].lower()
    topic = vocab.topics[doc % len(vocab.topics)]
    words, names = vocab.words, vocab.names
    chunks: list[Chunk] = []
    mentions: list[Mention] = []
    relations: list[tuple[str, str, str, int, int]] = []
    vectors = []
    texts: list[str] = []
    offset = 0
    for c in range(n_chunks):
        cid = Chunk.make_id(doc_id, c)
        n_sent = int(rng.integers(3, 6))
        lengths = rng.integers(10, 20, n_sent).tolist()
        counts = rng.integers(1, 5, n_sent).tolist()
        word_ids = vocab.word_ids(sum(lengths), rng).tolist()
        ranks = vocab.entity_ranks(sum(counts), rng).tolist()
        pos, wi, ei = offset, 0, 0
        sentences: list[str] = []
        for length, k in zip(lengths, counts, strict=True):
            s_start, cursor = pos, pos
            pieces: list[str] = []
            sent: list[tuple[str, int]] = []
            step = length // (k + 1)
            for i in range(length):
                token = words[word_ids[wi + i]]
                if i and i % step == 0 and len(sent) < k:  # an entity every `step` words
                    name = names[ranks[ei + len(sent)]]
                    key = name.lower()
                    end = cursor + len(name)
                    mentions.append(Mention(key, cid, doc_id, name, cursor, end, "ORG"))
                    sent.append((key, ranks[ei + len(sent)]))
                    pieces.append(name)
                    cursor += len(name) + 1
                pieces.append(token.capitalize() if i == 0 else token)
                cursor += len(pieces[-1]) + 1
            wi += length
            ei += k
            sentence = " ".join(pieces) + "."
            sentences.append(sentence)
            pos += len(sentence) + 1
            keys = [key for key, _ in sent]
            for i in range(len(keys)):
                for j in range(i + 1, len(keys)):
                    if keys[i] != keys[j]:
                        relations.append((keys[i], keys[j], cid, s_start, s_start + len(sentence)))
        chunk_text = " ".join(sentences)
        chunks.append(Chunk(cid, doc_id, c, chunk_text, offset, offset + len(chunk_text)))
        if not any(m.entity_id == title_key and m.chunk_id == cid for m in mentions):
            mentions.append(Mention(title_key, cid, doc_id, title, offset, offset, TITLE_LABEL))
        v = topic + vocab.entity_dirs[np.asarray(ranks[:ei]) % 4096].sum(axis=0) * 0.5
        v = v + rng.standard_normal(len(v)).astype(np.float32)
        vectors.append(v / np.linalg.norm(v))
        texts.append(chunk_text)
        offset += len(chunk_text) + 1
    text = " ".join(texts)
    evidence = tuple(
        Relation(a, b, CO_OCCURS, cid, doc_id, text[start:end], start, end)
        for a, b, cid, start, end in relations
    )
    return DocumentRecord(
        Document(doc_id, title, text, source=f"{doc_id}.txt"),
        tuple(chunks),
        np.stack(vectors).astype(np.float32),  # (n_chunks, dim)
        tuple(mentions),
        evidence,
    )


def questions(
    vocab: Vocabulary, records: list[DocumentRecord], n: int, seed: int = 7
) -> list[tuple[str, np.ndarray, list[str]]]:
    """``(question, vector, entity surfaces)`` about random chunks of ``records``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        rec = records[int(rng.integers(0, len(records)))]
        c = int(rng.integers(0, len(rec.chunks)))
        chunk = rec.chunks[c]
        names = [
            m.surface for m in rec.mentions if m.chunk_id == chunk.id and m.label != TITLE_LABEL
        ]
        name = names[int(rng.integers(0, len(names)))] if names else rec.document.title
        words = [w for w in chunk.text.split() if w.islower()][:3]
        v = rec.vectors[c] + rng.standard_normal(rec.vectors.shape[1]).astype(np.float32) / np.sqrt(
            rec.vectors.shape[1]
        )
        out.append((f"What did {name} do with {' '.join(words)}?", v / np.linalg.norm(v), [name]))
    return out
