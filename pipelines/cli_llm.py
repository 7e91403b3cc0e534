"""``kgqa ask`` and ``kgqa serve-llm``: the answering commands of the CLI.

    kgqa ask "QUESTION" --kb DIR [--model PATH | --llm-url URL] [--json]
    kgqa serve-llm [--model PATH] [--port 8000] [--host 127.0.0.1]

Also runnable alone: ``python -m pipelines.cli_llm ask ...``. Only the
standard library is imported at the top, so ``kgqa --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pipelines import cli_args

if TYPE_CHECKING:
    from kgqa.types import Answer, Citation, Step
    from llm.generator import Generator
    from llm.server import LLMServer

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        metavar="PATH",
        type=cli_args.model_path,
        help="a Transformers model directory or a .gguf file "
        "(default: $KGQA_MODEL, else Qwen2.5-Coder-0.5B-Instruct from its packages)",
    )
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where the model runs (auto: CUDA when present)",
    )
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "int8", "bf16", "fp16"),
        default="auto",
        help="auto: bf16 on CUDA, dynamic int8 on a CPU",
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``ask`` and ``serve-llm`` subcommands to the ``kgqa`` parser."""
    p = sub.add_parser("ask", help="answer a question from a knowledge base, with citations")
    p.add_argument("question", type=cli_args.text, help="the question, in quotes")
    answer_args(p)

    p = sub.add_parser("serve-llm", help="serve a model behind an OpenAI-compatible API")
    _model_args(p)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default loopback only)"
    )
    p.add_argument(
        "--port", type=cli_args.port_or_0, default=8000, help="port (default 8000; 0: any free)"
    )


def answer_args(p: argparse.ArgumentParser) -> None:
    """The options of the answering commands (``ask``, ``chat``): base, model, retrieval, output."""
    p.add_argument(
        "--kb",
        default=os.environ.get("KGQA_KB", "kgqa-kb"),
        help="knowledge base directory (default: $KGQA_KB or ./kgqa-kb)",
    )
    _model_args(p)
    p.add_argument(
        "--llm-url",
        metavar="URL",
        type=cli_args.http_url,
        default=os.environ.get("KGQA_LLM_URL"),
        help="an OpenAI-compatible server instead of a model in this process "
        "(default: $KGQA_LLM_URL)",
    )
    p.add_argument("--llm-model", metavar="NAME", help="the model name to ask the server for")
    p.add_argument(
        "--timeout",
        type=cli_args.positive_seconds,
        default=120.0,
        help="seconds to wait for a server",
    )
    p.add_argument(
        "--mode",
        default="hybrid",
        choices=("vector", "lexical", "graph", "hybrid"),
        help="retrieval mode (default hybrid)",
    )
    p.add_argument(
        "--top-k", type=cli_args.at_least_1, default=5, help="passages given to the model"
    )
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--no-stream", action="store_true", help="do not stream tokens")


def _generator(args: argparse.Namespace) -> Generator:
    from llm.generator import open_generator

    url = getattr(args, "llm_url", None)
    model = args.model or (None if url else os.environ.get("KGQA_MODEL"))
    return open_generator(
        model,
        url=url,
        api_model=getattr(args, "llm_model", None),
        timeout=getattr(args, "timeout", 120.0),
        device=args.device,
        precision=args.precision,
    )


def cmd_ask(args: argparse.Namespace) -> int:
    from kgqa.errors import ConfigError
    from pipelines.answer_form import answer_as_dict
    from pipelines.kb import KnowledgeBase

    if args.llm_url and args.model:
        raise ConfigError("give either --model or --llm-url, not both")
    gen = _generator(args)
    stream = not args.json and not args.no_stream and sys.stdout.isatty()
    streamed: list[str] = []

    def show(piece: str) -> None:
        streamed.append(piece)
        sys.stdout.write(piece)
        sys.stdout.flush()

    def hop(step: Step) -> None:
        if step.replaces:  # an intermediate hop, shown as it is answered
            print(f"… {step.question} → {step.answer}", file=sys.stderr, flush=True)

    with KnowledgeBase.open(args.kb, create=False) as kb:
        ans = kb.ask(
            args.question,
            generator=gen,
            mode=args.mode,
            top_k=args.top_k,
            stream_to=show if stream else None,
            on_step=hop if stream else None,
        )
    if args.json:
        print(json.dumps(answer_as_dict(ans), indent=2, ensure_ascii=False))
        return EXIT_OK
    print_answer(ans, "".join(streamed) if stream else None)
    return EXIT_OK


def print_answer(ans: Answer, streamed: str | None = None) -> None:
    """An answer as ``kgqa ask`` prints it: the text, the citations, the chain of hops.

    ``streamed`` is the reply already written to the terminal token by token
    (``None`` or empty when nothing was streamed, as for a question answered
    without the model): only what differs from it is added.
    """
    from llm.grounding import ABSTAIN_TEXT, is_refusal, parse_citations
    from pipelines.answer_form import ambiguity_note, refused_note

    if streamed:
        print()
        raw = streamed
        if ans.abstained and ans.refused:
            # named, not "the reply above": a second look may have streamed "NOT FOUND" after it
            note = refused_note(ans.refused, True).rstrip(".")
            print(f"{ABSTAIN_TEXT} ({note[0].lower()}{note[1:]})")
        elif ans.abstained and not is_refusal(parse_citations(raw)[0]):
            print(f"{ABSTAIN_TEXT} (the reply above is not supported by the passages)")
        elif ans.abstained:
            print(ABSTAIN_TEXT)
        elif ans.text != parse_citations(raw.splitlines()[-1] if raw.strip() else "")[0]:
            print(f"answer: {ans.text}")  # shortened, or from the second look
    else:
        print(ans.text)
    if ans.citations:
        print()
    for c in ans.citations:
        print(_citation_line(c))
    if ans.refused and not (streamed and ans.abstained):  # else said beside the reply
        print(f"\n{refused_note(ans.refused, ans.abstained)}")
    if ans.ambiguous:
        print(f"\n{ambiguity_note(ans.ambiguous)}")
    if ans.steps:
        print("\nHow this was answered:")
        for n, step in enumerate(ans.steps, start=1):
            print(f"  {n}. {step.question} → {step.answer}")
            if step.refused and not step.abstained and not (
                    n == len(ans.steps) and step.refused == ans.refused):  # said above
                print(f"     ({refused_note(step.refused, False)})")
            for c in step.citations[:1]:
                print(f"     {_citation_line(c)}")


def _citation_line(c: Citation) -> str:
    quote = " ".join(c.quote.split())
    note = "" if c.supported else "  (does not contain the answer)"
    return f'[{c.number}] {c.title} — "{quote}"{note}'


def cmd_serve_llm(args: argparse.Namespace) -> int:
    import logging

    from llm.server import serve

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    gen = _generator(args)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.host}, beyond this machine, with no authentication",
            file=sys.stderr,
        )
    print(f"loading {gen.name}...", file=sys.stderr, flush=True)

    def ready(server: LLMServer) -> None:
        dev, prec = getattr(gen, "device", ""), getattr(gen, "precision", "")
        device = f" on {dev}/{prec}" if dev else ""
        print(f"serving {gen.name}{device} at {server.url} (Ctrl-C stops)", flush=True)

    try:
        serve(gen, args.host, args.port, on_ready=ready)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ask": cmd_ask,
    "serve-llm": cmd_serve_llm,
}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipelines.cli_llm ask|serve-llm ...``: the same as ``kgqa``."""
    from pipelines.cli import main as kgqa_main

    return kgqa_main(argv)


if __name__ == "__main__":
    sys.exit(main())
