"""Entity resolution on hand-made extractions (no model)."""

from __future__ import annotations

import pytest

from kg.resolve import (
    NameIndex,
    Resolution,
    canonical_name,
    normalize,
    resolve_batch,
    resolve_document,
)
from kgqa.types import Chunk, Document, ExtractedEntity, ExtractedRelation, Extraction


def make(
    doc_id: str,
    text: str,
    entities: list[tuple[str, str]],
    relations: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
) -> tuple[Document, list[Chunk], list[Extraction]]:
    """A one-chunk document whose entities are found (in order) by their surface."""
    doc = Document(id=doc_id, title=doc_id, text=text)
    chunk = Chunk(Chunk.make_id(doc_id, 0), doc_id, 0, text, 0, len(text))
    found, pos = [], 0
    for surface, label in entities:
        start = text.index(surface, pos)
        found.append(ExtractedEntity(surface, label, start, start + len(surface), 0))
        pos = start + len(surface)
    rels = tuple(ExtractedRelation(s, o, label, 0, len(text)) for s, o, label in relations)
    return doc, [chunk], [Extraction(chunk.id, tuple(found), rels)]


def ids(res: Resolution) -> list[str]:
    return [m.entity_id for m in res.mentions]


# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    ("surface", "key"),
    [
        ("Acme Corp", "acme"),
        ("ACME Corp.", "acme"),
        ("Acme Robotics", "acme robotics"),
        ("The Beatles", "beatles"),
        ("the  Beatles ", "beatles"),
        ("Acme's", "acme"),
        ("Acme\u2019s", "acme"),
        ("Smiths'", "smiths"),
        ("\u201cAcme\u2019s\u201d", "acme"),
        ("U.S.", "us"),
        ("U.S.A", "usa"),
        ("AT&T", "at&t"),
        ("Procter & Gamble", "procter gamble"),
        ("Coca-Cola", "coca cola"),
        ("Lumen-Labs", "lumen labs"),
        ("Lumen Labs Inc.", "lumen labs"),
        ("Lumen Labs, Ltd", "lumen labs"),
        ("Kestrel GmbH & Co. KG", "kestrel"),
        ("Acme Pty Ltd", "acme"),
        ("Dr. Okonkwo", "okonkwo"),
        ("Prof. Dr. Ada Byron", "ada byron"),
        ("Marguerite\nOkonkwo", "marguerite okonkwo"),
        ("Marguerite  Okonkwo", "marguerite okonkwo"),
        ("Ya\u00adsmin Odu\u00adya", "yasmin oduya"),
        ("Harrow\u200bgate Salvage", "harrowgate salvage"),
        ("\ufb01nance of\ufb01ce", "finance office"),
        ("Glenrock\u00a0Council", "glenrock council"),
        ("Inc.", "inc"),  # a legal form alone is all the name there is
        ("Dr.", "dr"),
        ("The", "the"),
        ("-Coca-", "coca"),
        ("Smith, John", "smith john"),
        ("\uff2e\uff21\uff33\uff21", "nasa"),
        ("STRASSE", "strasse"),
        ("Stra\u00dfe", "strasse"),  # casefold, not lower
        ("O\u2019Brien", "o brien"),
        ("...", ""),
        ("Theodore Roosevelt", "theodore roosevelt"),
    ],
)
def test_normalize(surface: str, key: str) -> None:
    assert normalize(surface) == key


def test_canonical_name_prefers_frequent_then_long_then_alphabetical() -> None:
    assert canonical_name(["ESA", "European Space Agency", "ESA"]) == "ESA"
    assert canonical_name(["ESA", "European Space Agency"]) == "European Space Agency"
    assert canonical_name(["Acme Corp", "ACME Corp"]) == "ACME Corp"
    with pytest.raises(ValueError):
        canonical_name([])


# --------------------------------------------------------------------------- rules


def test_case_and_punctuation_variants_are_one_entity() -> None:
    res = resolve_document(
        *make(
            "d",
            "ACME Corp. hired Bo. Acme Corp grew.",
            [
                ("ACME Corp.", "ORG"),
                ("Acme Corp", "ORG"),
            ],
        )
    )
    assert ids(res) == ["acme", "acme"]
    assert [m.surface for m in res.mentions] == ["ACME Corp.", "Acme Corp"]  # aliases kept


def test_last_or_first_name_maps_to_the_one_full_name() -> None:
    text = "Maria Okafor founded Acme. Okafor left. Maria returned."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("Maria Okafor", "PERSON"),
                ("Acme", "ORG"),
                ("Okafor", "PERSON"),
                ("Maria", "PERSON"),
            ],
        )
    )
    assert ids(res) == ["maria okafor", "acme", "maria okafor", "maria okafor"]


def test_two_smiths_in_one_document_are_not_guessed() -> None:
    text = "John Smith met Anna Smith. Smith spoke. John left."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("John Smith", "PERSON"),
                ("Anna Smith", "PERSON"),
                ("Smith", "PERSON"),
                ("John", "PERSON"),
            ],
        )
    )
    assert ids(res) == ["john smith", "anna smith", "smith", "john smith"]


def test_name_rule_needs_person_labels() -> None:
    text = "Jordan Peterson visited Jordan."
    res = resolve_document(*make("d", text, [("Jordan Peterson", "PERSON"), ("Jordan", "GPE")]))
    assert ids(res) == ["jordan peterson", "jordan"]


def test_acronym_defined_in_parentheses() -> None:
    text = "The European Space Agency (ESA) and the Eastern Sugar Association met. ESA agreed."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("European Space Agency", "ORG"),
                ("ESA", "ORG"),
                ("Eastern Sugar Association", "ORG"),
                ("ESA", "ORG"),
            ],
        )
    )
    # the definition wins although two names spell E-S-A
    assert ids(res) == ["european space agency"] * 2 + ["eastern sugar association"] + [
        "european space agency"
    ]
    assert {m.surface for m in res.mentions if m.entity_id == "european space agency"} == {
        "European Space Agency",
        "ESA",
    }


def test_acronym_definition_rejects_unrelated_name() -> None:
    text = "Paris (AFP) hosted the summit."
    res = resolve_document(*make("d", text, [("Paris", "GPE"), ("AFP", "ORG")]))
    assert ids(res) == ["paris", "afp"]


def test_acronym_by_initials_ignoring_stopwords() -> None:
    text = "The Federal Bureau of Investigation opened a file. The FBI declined to comment."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("Federal Bureau of Investigation", "ORG"),
                ("FBI", "ORG"),
            ],
        )
    )
    assert ids(res) == ["federal bureau of investigation"] * 2


def test_dotted_acronym() -> None:
    text = "The United States and the U.S. Navy. The U.S. agreed."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("United States", "GPE"),
                ("U.S.", "GPE"),
                ("U.S.", "GPE"),
            ],
        )
    )
    assert ids(res) == ["united states"] * 3


def test_acronym_matching_two_orgs_is_left_alone() -> None:
    text = "Acme Business Company and Atlas Bank Cooperative merged. ABC said so."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("Acme Business Company", "ORG"),
                ("Atlas Bank Cooperative", "ORG"),
                ("ABC", "ORG"),
            ],
        )
    )
    assert ids(res)[-1] == "abc"


def test_acronym_without_match_is_its_own_entity() -> None:
    res = resolve_document(
        *make("d", "NATO met Acme Corp.", [("NATO", "ORG"), ("Acme Corp", "ORG")])
    )
    assert ids(res) == ["nato", "acme"]


def test_two_multi_word_names_are_never_merged() -> None:
    # "Maria Okafor" and "Maria Okafor Jones" share words but are different names
    text = "Maria Okafor met Maria Okafor Jones."
    res = resolve_document(
        *make(
            "d",
            text,
            [
                ("Maria Okafor", "PERSON"),
                ("Maria Okafor Jones", "PERSON"),
            ],
        )
    )
    assert ids(res) == ["maria okafor", "maria okafor jones"]


def test_cross_document_identity_is_the_key_only() -> None:
    a = resolve_document(
        *make(
            "a",
            "Maria Okafor spoke. Okafor left.",
            [
                ("Maria Okafor", "PERSON"),
                ("Okafor", "PERSON"),
            ],
        )
    )
    b = resolve_document(
        *make(
            "b",
            "Okafor arrived. The ACME Corp. grew.",
            [
                ("Okafor", "PERSON"),
                ("ACME Corp.", "ORG"),
            ],
        )
    )
    c = resolve_document(*make("c", "Acme Corp hired.", [("Acme Corp", "ORG")]))
    assert ids(a) == ["maria okafor", "maria okafor"]
    assert ids(b) == ["okafor", "acme"]  # document b has no Maria Okafor
    assert ids(c) == ["acme"]
    assert {m.doc_id for m in b.mentions} == {"b"}


# --------------------------------------------------------------------------- relations


def test_relations_use_resolved_ids_dedupe_and_drop_self_loops() -> None:
    text = "Maria Okafor founded Acme Robotics. Okafor and Maria Okafor met ACME Robotics."
    doc, chunks, [ex] = make(
        "d",
        text,
        [
            ("Maria Okafor", "PERSON"),
            ("Acme Robotics", "ORG"),
            ("Okafor", "PERSON"),
            ("Maria Okafor", "PERSON"),
            ("ACME Robotics", "ORG"),
        ],
    )
    rels = (
        ExtractedRelation(0, 1, "found", 0, 35),
        ExtractedRelation(0, 1, "found", 0, 35),  # exact duplicate
        ExtractedRelation(2, 3, "co_occurs", 36, len(text)),  # Okafor ~ Maria Okafor: self-loop
        ExtractedRelation(2, 4, "meet", 36, len(text)),
        ExtractedRelation(3, 4, "meet", 36, len(text)),  # same after resolution
        ExtractedRelation(4, 3, "co_occurs", 36, len(text)),  # a verb links them already
    )
    ex = Extraction(ex.chunk_id, ex.entities, rels)
    res = resolve_document(doc, chunks, [ex])
    got = [(r.source, r.label, r.target, r.evidence) for r in res.relations]
    assert got == [
        ("maria okafor", "found", "acme robotics", "Maria Okafor founded Acme Robotics."),
        ("maria okafor", "meet", "acme robotics", "Okafor and Maria Okafor met ACME Robotics."),
    ]
    assert all(r.doc_id == "d" and r.chunk_id == "d#0" for r in res.relations)


def test_co_occurs_is_symmetric_and_collapsed() -> None:
    text = "Lisbon and Porto. Porto and Lisbon."
    doc, chunks, [ex] = make(
        "d",
        text,
        [
            ("Lisbon", "GPE"),
            ("Porto", "GPE"),
            ("Porto", "GPE"),
            ("Lisbon", "GPE"),
        ],
    )
    rels = (
        ExtractedRelation(0, 1, "co_occurs", 0, len(text)),
        ExtractedRelation(2, 3, "co_occurs", 0, len(text)),
    )
    res = resolve_document(doc, chunks, [Extraction(ex.chunk_id, ex.entities, rels)])
    assert [(r.source, r.target) for r in res.relations] == [("lisbon", "porto")]


def test_offsets_and_labels_are_preserved_across_chunks() -> None:
    text = "Intro text. Maria Okafor works at Acme Corp in Lisbon."
    doc = Document(id="d", title="t", text=text)
    c0 = Chunk("d#0", "d", 0, text[:11], 0, 11)
    c1 = Chunk("d#1", "d", 1, text[12:], 12, len(text))
    ents = tuple(
        ExtractedEntity(s, label, text.index(s), text.index(s) + len(s), 0)
        for s, label in [("Maria Okafor", "PERSON"), ("Acme Corp", "ORG"), ("Lisbon", "GPE")]
    )
    rel = ExtractedRelation(0, 1, "work at", 12, len(text))
    res = resolve_document(doc, [c0, c1], [Extraction("d#0"), Extraction("d#1", ents, (rel,))])
    for m in res.mentions:
        assert text[m.start : m.end] == m.surface
        assert m.chunk_id == "d#1" and m.doc_id == "d"
    assert [m.label for m in res.mentions] == ["PERSON", "ORG", "GPE"]
    [r] = res.relations
    assert (r.start, r.end, r.evidence) == (12, len(text), text[12:])


def test_punctuation_only_mentions_are_skipped() -> None:
    text = "Acme -- Lisbon"
    doc, chunks, [ex] = make("d", text, [("Acme", "ORG"), ("--", "ORG"), ("Lisbon", "GPE")])
    rels = (
        ExtractedRelation(0, 1, "co_occurs", 0, 14),
        ExtractedRelation(0, 2, "co_occurs", 0, 14),
    )
    res = resolve_document(doc, chunks, [Extraction(ex.chunk_id, ex.entities, rels)])
    assert ids(res) == ["acme", "lisbon"]
    assert [(r.source, r.target) for r in res.relations] == [("acme", "lisbon")]


def test_bad_input_is_reported() -> None:
    doc, chunks, [ex] = make("d", "Acme.", [("Acme", "ORG")])
    with pytest.raises(ValueError, match="not one of the chunks"):
        resolve_document(doc, chunks, [Extraction("other#0", ex.entities)])
    bad = ExtractedEntity("Acme", "ORG", 0, 99, 0)
    with pytest.raises(ValueError, match="outside document"):
        resolve_document(doc, chunks, [Extraction(ex.chunk_id, (bad,))])
    with pytest.raises(ValueError, match="points at entity"):
        rel = ExtractedRelation(0, 5, "x", 0, 5)
        resolve_document(doc, chunks, [Extraction(ex.chunk_id, ex.entities, (rel,))])
    with pytest.raises(ValueError, match="belongs to document"):
        resolve_document(doc, [Chunk("e#0", "e", 0, "Acme.", 0, 5)], [])


# --------------------------------------------------------------------------- variants


def test_a_surname_mislabelled_org_joins_its_person() -> None:
    text = "Marguerite Okonkwo founded Lumen Labs. Okonkwo hired the first engineers."
    res = resolve_document(
        *make(
            "d",
            text,
            [("Marguerite Okonkwo", "PERSON"), ("Lumen Labs", "ORG"), ("Okonkwo", "ORG")],
        )
    )
    assert ids(res) == ["marguerite okonkwo", "lumen labs", "marguerite okonkwo"]


def test_a_surname_mislabelled_norp_joins_its_person_and_a_nationality_stays() -> None:
    text = "Adaeze Nwosu studied in Lagos. Nwosu met Nigerian engineers there."
    res = resolve_document(
        *make("d", text, [("Adaeze Nwosu", "PERSON"), ("Lagos", "GPE"), ("Nwosu", "NORP"),
                          ("Nigerian", "NORP")])
    )
    assert ids(res) == ["adaeze nwosu", "lagos", "adaeze nwosu", "nigerian"]


def test_a_company_named_after_its_founder_stays_apart() -> None:
    text = "Henry Ford built a plant. Ford Motor grew, and Ford hired workers."
    res = resolve_document(
        *make("d", text, [("Henry Ford", "PERSON"), ("Ford Motor", "ORG"), ("Ford", "ORG")])
    )
    assert ids(res) == ["henry ford", "ford motor", "ford"]


def test_a_lone_surname_joins_the_one_person_of_the_base() -> None:
    founding = make(
        "a", "Marguerite Okonkwo founded Lumen Labs.", [("Marguerite Okonkwo", "PERSON")]
    )
    interview = make(
        "b",
        "In an interview, Dr. Okonkwo said so. Okonkwo also praised Riga.",
        [("Okonkwo", "PERSON"), ("Okonkwo", "ORG"), ("Riga", "GPE")],
    )
    # the documents of one batch see each other, in either order
    for order in ([founding, interview], [interview, founding]):
        names = NameIndex.of_people([])
        resolved = resolve_batch(order, names)
        by_doc = {r.mentions[0].doc_id: ids(r) for r in resolved}
        assert by_doc["b"] == ["marguerite okonkwo", "marguerite okonkwo", "riga"]
    # a person already in the base (NameIndex from the store) is found too
    res = resolve_document(*interview, NameIndex.of_people(["marguerite okonkwo"]))
    assert ids(res)[:2] == ["marguerite okonkwo"] * 2
    # without the base's names, the document stands alone
    assert ids(resolve_document(*interview))[:2] == ["okonkwo", "okonkwo"]


def test_base_rules_need_person_evidence_and_one_candidate() -> None:
    names = NameIndex.of_people(["maria okafor", "chidi okafor", "ines carvalho", "henry ford"])
    company = make("c", "Carvalho shipped the order. Ford recalled trucks.", [
        ("Carvalho", "ORG"), ("Ford", "ORG")
    ])  # fmt: skip
    assert ids(resolve_document(*company, names)) == ["carvalho", "ford"]  # no person said
    titled = make("t", "Prof. Carvalho spoke.", [("Carvalho", "ORG")])
    assert ids(resolve_document(*titled, names)) == ["ines carvalho"]  # a title says person
    two = make("o", "Okafor spoke.", [("Okafor", "PERSON")])
    assert ids(resolve_document(*two, names)) == ["okafor"]  # two Okafors: ambiguous
    first = make("m", "Maria spoke.", [("Maria", "PERSON")])
    assert ids(resolve_document(*first, names)) == ["maria"]  # first names stay in documents


def test_a_plural_joins_its_singular_when_it_exists() -> None:
    text = "The Kestrel Station measures wind. Two Kestrel Stations were installed."
    res = resolve_document(
        *make("d", text, [("Kestrel Station", "PRODUCT"), ("Kestrel Stations", "PRODUCT")])
    )
    assert ids(res) == ["kestrel station", "kestrel station"]
    alone = make("e", "Forty Driftline Buoys were deployed.", [("Driftline Buoys", "PRODUCT")])
    assert ids(resolve_document(*alone)) == ["driftline buoys"]  # no singular known
    known = NameIndex.of_people([], lookup=lambda key: key == "driftline buoy")
    assert ids(resolve_document(*alone, known)) == ["driftline buoy"]  # the base has it
    people = make("p", "Serena Williams won.", [("Serena Williams", "PERSON")])
    assert ids(resolve_document(*people, NameIndex.of_people([], lookup=lambda k: True))) == [
        "serena williams"
    ]  # a person's name is never made singular
