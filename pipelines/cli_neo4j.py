"""Command-line options and commands for the Neo4j graph store.

Adds ``--graph-store {sqlite,neo4j}`` to the commands that create a base,
``--neo4j-uri/--neo4j-user/--neo4j-database`` to every command that opens one,
and the ``export`` command::

    NEO4J_PASSWORD=... kgqa ingest docs/ --kb my-kb --graph-store neo4j \\
        --neo4j-uri bolt://db.example:7687
    NEO4J_PASSWORD=... kgqa export --kb my-kb --to neo4j [--target-kb my-kb-neo4j]

The password is read from ``NEO4J_PASSWORD`` only: an option would leave it in
shell histories and process lists. Standard library only at import time, so
``kgqa --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from pipelines import cli_args

CREATING = ("ingest", "eval")  # commands that may create a base


def _neo4j_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Neo4j (password from $NEO4J_PASSWORD)")
    g.add_argument(
        "--neo4j-uri", help="Bolt URI (default: $NEO4J_URI, the base's, or bolt://localhost:7687)"
    )
    g.add_argument("--neo4j-user", help="user (default: $NEO4J_USER, the base's, or neo4j)")
    g.add_argument(
        "--neo4j-database", help="database (default: $NEO4J_DATABASE, the base's, or neo4j)"
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the store options to the existing commands and the ``export`` command."""
    for name, p in sub.choices.items():
        if not any(a.dest == "kb" for a in p._actions):
            continue
        if name in CREATING:
            p.add_argument(
                "--graph-store",
                choices=("sqlite", "neo4j"),
                help="where a NEW base keeps its graph (default sqlite: kgqa.sqlite in --kb)",
            )
        _neo4j_args(p)

    p = sub.add_parser("export", help="copy an embedded knowledge base into Neo4j")
    p.add_argument(
        "--kb",
        default=os.environ.get("KGQA_KB", "kgqa-kb"),
        help="the base to copy (default: $KGQA_KB or ./kgqa-kb)",
    )
    p.add_argument("--to", required=True, choices=("neo4j",), help="the target store")
    p.add_argument(
        "--target-kb", help="directory of the copy (default: the --kb directory + '-neo4j')"
    )
    p.add_argument(
        "--batch-docs", type=cli_args.at_least_1, default=64, help="documents per transaction"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _neo4j_args(p)


def neo4j_settings(args: argparse.Namespace, kb: Path | None = None) -> Any:
    """Settings from the options (else env, else the base's manifest), or None if none given."""
    uri = getattr(args, "neo4j_uri", None)
    user = getattr(args, "neo4j_user", None)
    database = getattr(args, "neo4j_database", None)
    if not (uri or user or database):
        return None
    from kg.neo4j_store import Neo4jSettings
    from pipelines.manifest import read_manifest
    from pipelines.stores import recorded_settings

    manifest = read_manifest(kb) if kb is not None and kb.is_dir() else None
    recorded = recorded_settings(manifest.store) if manifest is not None else None
    return Neo4jSettings.resolve(uri, user, database, recorded=recorded)


def store_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of ``KnowledgeBase.open`` from the parsed options."""
    out: dict[str, Any] = {}
    if getattr(args, "graph_store", None):
        out["graph_store"] = args.graph_store
    settings = neo4j_settings(args, Path(args.kb).expanduser())
    if settings is not None:
        out["neo4j"] = settings
    return out


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.export import default_target, export_to_neo4j

    source = Path(args.kb).expanduser()
    target = Path(args.target_kb).expanduser() if args.target_kb else default_target(source)
    report = export_to_neo4j(
        source,
        target,
        neo4j=neo4j_settings(args, target),
        batch_docs=args.batch_docs,
        progress=False if args.no_progress else None,
    )
    if args.json:
        print(json.dumps(vars(report), indent=2))
    else:
        print(
            f"exported {source} to Neo4j as {report.target} (namespace {report.namespace}): "
            f"{report.documents} documents copied, {report.unchanged} unchanged, "
            f"{report.removed} removed; {report.chunks} chunks, {report.mentions} mentions, "
            f"{report.relations} relations in {report.seconds:.1f}s\n"
            f"use it with --kb {report.target} (NEO4J_PASSWORD in the environment)",
            file=sys.stdout,
        )
    return 0


COMMANDS = {"export": cmd_export}
