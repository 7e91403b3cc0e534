"""A document is never silently replaced by another source (case ``same-name-two-folders/``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kgqa.errors import ConfigError
from kgqa.types import Document
from pipelines.doc_ids import assign_ids, same_source
from pipelines.ingest import IngestOptions

CASE = Path(__file__).resolve().parents[1] / "data" / "cases" / "same-name-two-folders"
ALDER = "Project Alder is run by Signe Halvorsen. Its budget is 2 million crowns."
BIRCH = "Project Birch is run by Tobias Lindqvist. It ships in October."


def options(on_conflict: str = "keep-both") -> IngestOptions:
    return IngestOptions(progress=False, on_conflict=on_conflict)  # type: ignore[arg-type]


def texts(kb) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {d.id: kb.document(d.id).text for d in kb.documents()}


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The case's two folders in a working folder that is the current one."""
    work = tmp_path / "work"
    shutil.copytree(CASE, work)
    monkeypatch.chdir(work)
    return work


# -- the case, on the Python API ---------------------------------------------------------
def test_two_files_named_alike_in_two_runs_are_both_kept(fake_kb, folders: Path) -> None:
    first = fake_kb.ingest(["project-alder/notes.md"], options=options())
    assert first.documents_added == 1 and not first.conflicts
    second = fake_kb.ingest(["project-birch/notes.md"], options=options())
    assert second.documents_added == 1 and second.documents_updated == 0
    (c,) = second.conflicts
    assert (c.doc_id, c.action, c.new_id) == ("notes.md", "keep-both", "project-birch/notes.md")
    assert c.existing_source == str(folders / "project-alder" / "notes.md")
    docs = texts(fake_kb)
    assert ALDER in docs["notes.md"] and BIRCH in docs["project-birch/notes.md"]
    assert {e.name for e in fake_kb.entities()} >= {"Signe Halvorsen", "Tobias Lindqvist"}


def test_running_again_changes_nothing_and_reports_nothing(fake_kb, folders: Path) -> None:
    for _ in range(2):
        fake_kb.ingest(["project-alder/notes.md"], options=options())
        fake_kb.ingest(["project-birch/notes.md"], options=options())
    third = fake_kb.ingest(["project-birch/notes.md"], options=options("skip"))
    assert (third.documents_unchanged, third.conflicts, third.problems) == (1, (), ())
    assert sorted(texts(fake_kb)) == ["notes.md", "project-birch/notes.md"]


def test_the_two_folders_in_two_runs_and_in_one_run(fake_kb, folders: Path) -> None:
    fake_kb.ingest(["project-alder"], options=options())
    fake_kb.ingest(["project-birch"], options=options())
    assert sorted(texts(fake_kb)) == ["notes.md", "project-birch/notes.md"]
    again = fake_kb.ingest(["project-alder", "project-birch"], options=options())
    assert again.documents_unchanged == 2 and again.documents_added == 0


def test_both_folders_in_one_run_keep_both(fake_kb, folders: Path) -> None:
    report = fake_kb.ingest(["project-alder", "project-birch"], options=options("replace"))
    assert report.documents_added == 2 and not report.problems
    assert BIRCH in texts(fake_kb)["project-birch/notes.md"]  # replace cannot pick one of two


def test_a_changed_version_of_the_same_file_still_updates(fake_kb, folders: Path) -> None:
    fake_kb.ingest(["project-alder/notes.md"], options=options())
    (folders / "project-alder" / "notes.md").write_text("# Alder notes\n\nThe budget is now 3.")
    report = fake_kb.ingest(["project-alder/notes.md"], options=options("skip"))
    assert (report.documents_updated, report.conflicts) == (1, ())
    assert texts(fake_kb)["notes.md"].endswith("The budget is now 3.")


def test_a_kept_file_that_changes_updates_its_own_document(fake_kb, folders: Path) -> None:
    fake_kb.ingest(["project-alder/notes.md"], options=options())
    fake_kb.ingest(["project-birch/notes.md"], options=options())
    (folders / "project-birch" / "notes.md").write_text("# Birch notes\n\nBirch ships in May.")
    report = fake_kb.ingest(["project-birch/notes.md"], options=options())
    assert report.documents_updated == 1 and not report.conflicts
    docs = texts(fake_kb)
    assert ALDER in docs["notes.md"] and docs["project-birch/notes.md"].endswith("ships in May.")


def test_skip_leaves_the_base_as_it_was_and_says_how_to_choose(fake_kb, folders: Path) -> None:
    fake_kb.ingest(["project-alder/notes.md"], options=options())
    report = fake_kb.ingest(["project-birch/notes.md"], options=options("skip"))
    (problem,) = report.problems
    assert problem.source == str(folders / "project-birch" / "notes.md")
    assert "another source" in problem.reason and "keep-both" in problem.reason
    assert report.documents_added == 0 and list(texts(fake_kb)) == ["notes.md"]
    assert ALDER in texts(fake_kb)["notes.md"]


def test_replace_is_what_the_user_asked_for(fake_kb, folders: Path) -> None:
    fake_kb.ingest(["project-alder/notes.md"], options=options())
    report = fake_kb.ingest(["project-birch/notes.md"], options=options("replace"))
    assert report.documents_updated == 1 and report.conflicts[0].action == "replace"
    assert BIRCH in texts(fake_kb)["notes.md"] and len(texts(fake_kb)) == 1


def test_the_same_content_from_another_folder_is_not_a_second_document(
    fake_kb, folders: Path
) -> None:
    fake_kb.ingest(["project-alder/notes.md"], options=options())
    shutil.copy(folders / "project-alder" / "notes.md", folders / "copy-notes.md")
    Path("copy").mkdir()
    shutil.move("copy-notes.md", "copy/notes.md")
    report = fake_kb.ingest(["copy/notes.md"], options=options())
    assert (report.documents_unchanged, report.conflicts) == (1, ())


def test_a_base_from_before_sources_were_absolute_updates_in_place(
    fake_kb, folders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def legacy(source: str) -> None:
        """A base where earlier kgqa stored the path as typed, relative to where it ran."""
        for d in fake_kb.documents():
            fake_kb.delete(d.id)
        fake_kb.ingest([Document("notes.md", "Alder notes", "Old text.", source)])

    legacy("project-alder/notes.md")
    report = fake_kb.ingest(["project-alder/notes.md"], options=options())
    assert (report.documents_updated, report.conflicts) == (1, ())
    legacy("project-alder/notes.md")  # ... also when run from another folder: the
    monkeypatch.chdir(folders / "project-alder")  # path's last two parts match
    report = fake_kb.ingest(["notes.md"], options=options())
    assert (report.documents_updated, report.conflicts) == (1, ())
    assert list(texts(fake_kb)) == ["notes.md"]
    legacy("notes.md")  # a bare file name cannot tell the two folders apart: both are kept
    monkeypatch.chdir(folders)
    report = fake_kb.ingest(["project-birch/notes.md"], options=options())
    assert report.conflicts[0].action == "keep-both"
    assert texts(fake_kb)["notes.md"] == "Old text."


def test_api_documents_are_addressed_by_their_id(fake_kb) -> None:
    fake_kb.ingest([Document("a", "A", "First Text.")], options=options("skip"))
    report = fake_kb.ingest([Document("a", "A", "Second Text.")], options=options("skip"))
    assert report.documents_updated == 1 and not report.problems
    assert texts(fake_kb)["a"] == "Second Text."


# -- the rules on their own -------------------------------------------------------------
def doc(doc_id: str, text: str, source: str) -> tuple[Document, bool]:
    return Document(doc_id, "", text, source), False


def test_keep_both_ids_grow_with_folders_then_numbers() -> None:
    stored = {
        "notes.md": ("/a/x/notes.md", "h1"),
        "y/notes.md": ("/b/y/notes.md", "h2"),
    }
    docs, conflicts, problems = assign_ids([doc("notes.md", "new", "/c/y/notes.md")], stored)
    assert [d.id for d, _ in docs] == ["c/y/notes.md"] and not problems
    assert conflicts[0].new_id == "c/y/notes.md"
    upload = doc("notes.md", "new", "notes.md (uploaded 2026-01-01T00:00:00+00:00)")
    docs, _, _ = assign_ids([upload], stored)
    assert [d.id for d, _ in docs] == ["notes-2.md"]


def test_records_of_another_corpus_keep_both_under_the_file_name() -> None:
    stored = {"7": ("/data/a.jsonl:7", "h1")}
    docs, conflicts, _ = assign_ids([doc("7", "other", "/data/b.jsonl:3")], stored)
    assert [d.id for d, _ in docs] == ["b.jsonl/7"] and conflicts[0].action == "keep-both"
    docs, conflicts, _ = assign_ids([doc("7", "changed", "/data/a.jsonl:9")], stored)
    assert [d.id for d, _ in docs] == ["7"] and not conflicts  # the same corpus: an update


def test_two_api_documents_with_one_id_in_one_call_are_a_mistake() -> None:
    docs, _, problems = assign_ids([doc("x", "one", ""), doc("x", "two", "")], {})
    assert [d.text for d, _ in docs] == ["one"]
    assert "duplicate document id 'x'" in problems[0].reason


def test_an_unknown_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="keep-both"):
        IngestOptions(on_conflict="overwrite")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stored", "new", "same"),
    [
        ("/d/notes.md", "/d/notes.md", True),
        ("/d/./notes.md", "/d/notes.md", True),
        ("/d/c.jsonl:3", "/d/c.jsonl:8", True),
        ("/alder/notes.md", "/birch/notes.md", False),
        ("alder/notes.md", "/home/me/alder/notes.md", True),
        ("../x/alder/notes.md", "/home/me/x/alder/notes.md", True),
        ("alder/notes.md", "/home/me/birch/notes.md", False),
        ("notes.md", "/elsewhere/notes.md", False),
        ("", "/d/notes.md", False),
        ("/d/notes.md", "", True),
        ("a (uploaded 1)", "a (uploaded 2)", False),
    ],
)
def test_same_source(stored: str, new: str, same: bool) -> None:
    assert same_source(stored, new) is same
