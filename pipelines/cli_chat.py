"""``kgqa chat``: a conversation on a knowledge base, one question per line.

    kgqa chat --kb DIR [--json] [--model PATH | --llm-url URL] [--mode hybrid] [--top-k 5]

Questions come from standard input, one per line: typed at a prompt, or from
a pipe (``printf 'Who designed the Kestrel Station?\\nWhere was she born?\\n' |
kgqa chat --kb DIR``). Each answer is printed as ``kgqa ask`` prints it; a
follow-up that was rewritten is preceded by ``understood as: ...`` (see
``pipelines/conversation.py``). ``--json`` prints one JSON object per answer,
one per line (JSON lines), with the ``understood_as`` field. A line ``/new``
starts a new conversation; an empty line is skipped; end of input ends the
chat. A question that fails prints its error and the chat goes on (exit code 1
at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kgqa.types import Step
    from pipelines.conversation import Rewrite

EXIT_OK, EXIT_ERROR = 0, 1
NEW = "/new"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from pipelines.cli_llm import answer_args

    p = sub.add_parser(
        "chat", help="a conversation: questions from standard input, follow-ups understood")
    answer_args(p)


def cmd_chat(args: argparse.Namespace) -> int:
    from kgqa.errors import ConfigError, KgqaError
    from pipelines.answer_form import answer_as_dict
    from pipelines.cli_llm import _generator, print_answer
    from pipelines.cli_neo4j import store_options
    from pipelines.kb import KnowledgeBase

    if args.llm_url and args.model:
        raise ConfigError("give either --model or --llm-url, not both")
    interactive = sys.stdin.isatty()
    stream = not args.json and not args.no_stream and sys.stdout.isatty()
    failed = False
    with KnowledgeBase.open(args.kb, create=False, **store_options(args)) as kb:
        kb.generator = _generator(args)
        conv = kb.conversation()
        if interactive:
            _readline()
            print(f"kgqa chat on {kb.path}: one question per line; {NEW} starts a new "
                  "conversation; Ctrl-D ends.", file=sys.stderr)
        for line in _Prompt() if interactive else _Stdin():
            question = line.strip()
            if not question:
                continue
            if question == NEW:
                conv.reset()
                if not args.json:
                    print("(a new conversation)\n", flush=True)
                continue
            streamed: list[str] = []

            def show(piece: str, streamed: list[str] = streamed) -> None:
                streamed.append(piece)
                sys.stdout.write(piece)
                sys.stdout.flush()

            def understood(rw: Rewrite) -> None:
                if not args.json:
                    print(f"understood as: {rw.question}", flush=True)

            try:
                ans = conv.ask(question, on_rewrite=understood, mode=args.mode,
                               top_k=args.top_k, stream_to=show if stream else None,
                               on_step=_hop if stream else None)
            except KgqaError as e:
                failed = True
                print(f"error: {e}", file=sys.stderr, flush=True)
                continue
            if args.json:
                print(json.dumps(answer_as_dict(ans), ensure_ascii=False), flush=True)
            else:
                print_answer(ans, "".join(streamed) if stream else None)
                print(flush=True)
    return EXIT_ERROR if failed else EXIT_OK


class _Stdin:
    """Standard input, line by line, as each line arrives (a pipe may stay open)."""

    def __iter__(self) -> _Stdin:
        return self

    def __next__(self) -> str:
        line = sys.stdin.readline()
        if not line:
            raise StopIteration
        return line


class _Prompt(_Stdin):
    """Questions typed at a ``> `` prompt."""

    def __next__(self) -> str:
        try:
            return input("> ")
        except EOFError:
            print(file=sys.stderr)
            raise StopIteration from None


def _hop(step: Step) -> None:
    if step.replaces:
        print(f"… {step.question} → {step.answer}", file=sys.stderr, flush=True)


def _readline() -> None:
    """Line editing and history at the prompt, where the platform has it."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"chat": cmd_chat}
