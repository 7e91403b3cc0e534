"""``kgqa finetune``: adapt the reader to a knowledge base, from a YAML config.

    kgqa finetune --config finetune.yaml [--kb DIR] [--output-dir DIR]
                  [--resume] [--overwrite] [--prepare-only] [--json]

The config's keys are documented in ``examples/finetune.yaml`` and
``pipelines/finetune_config.py``. Only the standard library is imported at the
top, so ``kgqa --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``finetune`` subcommand to the ``kgqa`` parser."""
    p = sub.add_parser(
        "finetune",
        help="fine-tune the reader on a knowledge base (LoRA), from a YAML config",
        description="Tasks: qa (question/answer JSONL), corpus (the base's documents), "
        "synthetic (questions made from the graph's relations). Writes OUTPUT/model, "
        "usable as --model by ask, eval, ui and serve-llm.",
    )
    p.add_argument("--config", required=True, metavar="YAML",
                   help="the settings (see examples/finetune.yaml)")
    p.add_argument("--kb", metavar="DIR", help="knowledge base (overrides data.kb)")
    p.add_argument("--output-dir", metavar="DIR", help="where to write (overrides output_dir)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from OUTPUT/checkpoint")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a fine-tuned model already in the output directory")
    p.add_argument("--prepare-only", action="store_true",
                   help="build (and write) the training examples, then stop")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_finetune(args: argparse.Namespace) -> int:
    from pipelines.finetune import format_report, run_finetune
    from pipelines.finetune_config import load_config

    cfg = load_config(args.config)
    updates: dict[str, object] = {}
    if args.kb:
        updates["data"] = cfg.data.model_copy(update={"kb": Path(args.kb)})
    if args.output_dir:
        updates["output_dir"] = Path(args.output_dir)
    if updates:
        cfg = cfg.model_copy(update=updates)
    try:
        report = run_finetune(cfg, resume=args.resume, overwrite=args.overwrite,
                              prepare_only=args.prepare_only, progress=sys.stderr.isatty())
    except KeyboardInterrupt:
        print(f"interrupted; the last step is saved in {cfg.output_dir / 'checkpoint'}: "
              f"run the same command with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print(format_report(report))
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"finetune": cmd_finetune}
