"""The candidate whose evidence states most of a question that describes its answer
(pipelines.coverage); hand-written passages, no model."""

from __future__ import annotations

from pipelines.coverage import AnswerDescription, better_described, stems
from pipelines.qa import QAConfig
from pipelines.question_shape import QuestionShape
from tests.fakes_llm import ScriptedGenerator, make_hit
from tests.qa_support import add_docs, ask, bridge_shape, reply_by_question

Q_FILM = ("Which 1987 Marathi comedy produced by Ira Desh had music by the only female "
          "composer of Marathi cinema?")
FILM = AnswerDescription(heads=("comedy",), person=False, words=tuple(stems(Q_FILM)))


def _hits(*docs):
    return [make_hit(text, doc_id=f"d{i}", title=title, rank=i + 1)
            for i, (title, text) in enumerate(docs)]


FILMS = _hits(
    ("Hasya (film)", "Hasya is a 1987 Marathi comedy film, produced by Ravi Kale. Music was "
     "by Anil Rao."),
    ("Tamasha Raat", "Tamasha Raat is a 1987 Marathi comedy film, produced by Ira Desh. Its "
     "music was composed by Lata Vane."),
    ("Lata Vane", "Lata Vane is an Indian singer and composer. She is the only female "
     "composer of Marathi cinema."),
    ("Pune Talkies", "Pune Talkies is a studio that made Marathi films in the 1980s."),
)



def _film_docs():
    return [(f"d{i}.md", h.title, h.chunk.text) for i, h in enumerate(FILMS)]


def test_the_candidate_stating_more_of_the_question_replaces_the_readers_pick():
    better = better_described(FILM, "Hasya", Q_FILM, FILMS)
    assert better is not None
    assert better.name == "Tamasha Raat"
    # its own passage first, then the passage about the composer its passage names
    assert better.passages == (2, 3)
    assert better.coverage > better.answer_coverage + 1.0


def test_the_readers_pick_stands_when_no_candidate_states_clearly_more():
    assert better_described(FILM, "Tamasha Raat", Q_FILM, FILMS) is None
    # the margin is what "clearly" means
    assert better_described(FILM, "Hasya", Q_FILM, FILMS, margin=50.0) is None


def test_a_candidate_must_be_defined_as_the_asked_noun():
    # the studio's passage states as much, but a studio is no comedy
    studio = AnswerDescription(heads=("comedy",), person=False,
                               words=tuple(stems("Marathi films in 1980")))
    assert better_described(studio, "Hasya", "Which comedy ...?", FILMS) is None


def test_who_asks_for_a_subject_defined_by_a_person_noun():
    q = "Who acted in both Blue Harbour and the band Tiderunners?"
    who = AnswerDescription(heads=(), person=True,
                            words=tuple(stems(q)))
    hits = _hits(
        ("Blue Harbour", "Blue Harbour is a 2011 sitcom. It starred Ivo Marsh, Sela Rhee and "
         "Tom Ruiz."),
        ("Sela Rhee", "Sela Rhee is a Korean actress and singer. She was a member of the band "
         "Tiderunners."),
        ("Tiderunners", "Tiderunners is a Korean band formed in 2009."),
    )
    better = better_described(who, "Ivo Marsh", q, hits)
    assert better is not None and better.name == "Sela Rhee"
    assert better.passages == (2, 1, 3)  # her own passage first, then in the order shown
    # a name the question gives is no candidate, nor a form of the reader's answer
    assert better_described(who, "Sela", q, hits) is None


def test_nothing_to_weigh_without_two_passages_or_an_answer():
    assert better_described(FILM, "Hasya", Q_FILM, FILMS[:1]) is None
    assert better_described(FILM, " ", Q_FILM, FILMS) is None


def test_answer_returns_the_better_described_candidate_and_says_why(fake_kb):
    add_docs(fake_kb, *_film_docs())
    shape = QuestionShape(Q_FILM, "single", "any", describes_answer=FILM)
    ans = ask(fake_kb, Q_FILM, ScriptedGenerator("Hasya [1]"), analyse=lambda q: shape)
    assert ans.text == "Tamasha Raat"
    assert ans.citations and ans.citations[0].title == "Tamasha Raat"
    assert [(r.reply, r.why) for r in ans.refused] == [
        ("Hasya", "Tamasha Raat's passages state more of the question")]
    off = ask(fake_kb, Q_FILM, ScriptedGenerator("Hasya [1]"), analyse=lambda q: shape,
              config=QAConfig(mode="vector", prefer_described=False))
    assert off.text == "Hasya" and off.refused == ()


def test_a_candidate_whose_name_says_another_kind_is_none():
    q = "Who runs Kelso Printers?"
    who = AnswerDescription(heads=(), person=True, words=tuple(stems(q)))
    hits = _hits(
        ("Kelso Printers", "Kelso Printers is a print shop in Leith, run by Ada Kelso."),
        ("Leith Press", "Leith Press is the editor and imprint that runs Kelso Printers."),
    )
    # its passage calls it by a person noun (any margin lets it in) ...
    assert better_described(who, "Ada Kelso", q, hits, margin=-1.0).name == "Leith Press"
    # ... but "Press" names a company
    assert better_described(who, "Ada Kelso", q, hits, margin=-1.0, expects="person") is None


def test_a_sentence_naming_the_answer_speaks_of_its_passages_subject():
    # "It has been led by ..." in the foundry's own passage is about the foundry; the
    # toolmaker's passage that names the foundry and says "today" states no more
    q = "Who leads the Ossa Bell Foundry today?"
    who = AnswerDescription(heads=(), person=True, words=tuple(stems(q)))
    hits = _hits(
        ("Ossa Bell Foundry", "Ossa Bell Foundry is a bell foundry in Deventer. Since 2009 "
         "it has been led by Marit Dahl."),
        ("Oskar Brenn", "Oskar Brenn was a German toolmaker. His first customer was the Ossa "
         "Bell Foundry. His granddaughter runs his company today."),
    )
    assert better_described(who, "Marit Dahl", q, hits) is None


def test_a_candidate_sharing_a_common_word_with_the_answer_is_still_one():
    q = "Which 1954 carillon cast by Castell was later restored by Vosmeer?"
    carillon = AnswerDescription(heads=("carillon",), person=False, words=tuple(stems(q)))
    hits = _hits(
        ("Castell", "Castell is a foundry. In 1923 it cast the practice carillon of a school. "
         "Its best-known instrument is the Maribel Carillon, cast in 1954."),
        ("Maribel Carillon", "The Maribel Carillon is a carillon of 47 bells, cast in 1954 "
         "by Castell and restored in 2016 by Vosmeer."),
    )
    better = better_described(carillon, "practice carillon", q, hits)
    assert better is not None and better.name == "Maribel Carillon"
    # but not a longer or shorter form of the answer's own name
    assert better_described(carillon, "The Maribel Carillon of 47 bells", q, hits) is None


def test_a_hop_is_checked_the_same_way(fake_kb):
    add_docs(fake_kb, *_film_docs())
    phrase = ("the 1987 Marathi comedy produced by Ira Desh that had music by the only female "
              "composer of Marathi cinema")
    question = f"Who directed {phrase}?"
    hop_q = Q_FILM  # the hop's question, which describes its answer
    top = bridge_shape(question, phrase, hop_q, outer="person")
    shapes = {question: top, hop_q: QuestionShape(hop_q, "single", "any",
                                                  describes_answer=FILM)}
    gen = ScriptedGenerator(reply_by_question({hop_q: "Hasya [1]", "Who directed": "Nobody"}))
    ans = ask(fake_kb, question, gen, analyse=lambda q: shapes.get(q, QuestionShape(
        q, "single", "person")))
    first = ans.steps[0] if ans.steps else None
    assert first is not None and first.question == hop_q
    assert first.answer == "Tamasha Raat"
    assert [r.reply for r in first.refused] == ["Hasya"]
