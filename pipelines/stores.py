"""Which graph store a knowledge base uses, and opening it.

A base's manifest records its store (:class:`pipelines.manifest.StoreRef`):
``sqlite`` keeps everything in ``kgqa.sqlite`` in the base directory; ``neo4j``
keeps the graph on a Neo4j server, in a namespace of its own (the ``kb``
property of every node), so that one database holds several bases (Neo4j
Community has a single user database). The directory then holds the manifest
and the derived indexes only.

Neo4j settings, most specific first: explicit values (``--neo4j-uri``, a
:class:`~kg.neo4j_store.Neo4jSettings` passed in), the environment
(``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_DATABASE``), what the manifest recorded
when the base was created, the defaults (``bolt://localhost:7687``, ``neo4j``,
``neo4j``). The password only ever comes from ``NEO4J_PASSWORD`` (or a
settings object) and is never written to disk.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from kgqa.errors import ConfigError
from pipelines.manifest import StoreRef

if TYPE_CHECKING:
    from kg.neo4j_store import Neo4jSettings
    from kg.store import GraphStore

DB_FILE = "kgqa.sqlite"
GRAPH_STORES = ("sqlite", "neo4j")


def new_store_ref(path: Path, graph_store: str | None, neo4j: Neo4jSettings | None) -> StoreRef:
    """The store of a new base at ``path``: SQLite unless ``graph_store`` says neo4j."""
    kind = graph_store or "sqlite"
    _check_kind(kind)
    if kind == "sqlite":
        return StoreRef()
    from kg.neo4j_store import Neo4jSettings

    settings = neo4j or Neo4jSettings.resolve()
    slug = re.sub(r"[^a-z0-9]+", "-", path.name.lower()).strip("-")[:40] or "kb"
    return StoreRef(
        kind="neo4j",
        namespace=f"{slug}-{uuid.uuid4().hex[:8]}",
        uri=settings.uri,
        user=settings.user,
        database=settings.database,
    )


def check_store(path: Path, ref: StoreRef, graph_store: str | None) -> None:
    """An existing base keeps its store: asking for another one is an error."""
    if graph_store is not None:
        _check_kind(graph_store)
        if graph_store != ref.kind:
            hint = " (kgqa export --to neo4j copies it)" if ref.kind == "sqlite" else ""
            raise ConfigError(
                f"{path}: this base keeps its graph in {ref.kind}, not {graph_store}{hint}"
            )


def recorded_settings(ref: StoreRef) -> Neo4jSettings:
    from kg.neo4j_store import Neo4jSettings

    default = Neo4jSettings()
    return Neo4jSettings(
        uri=ref.uri or default.uri,
        user=ref.user or default.user,
        database=ref.database or default.database,
    )


def open_store(path: Path, ref: StoreRef, neo4j: Neo4jSettings | None = None) -> GraphStore:
    """Open the store ``ref`` describes (connecting to Neo4j for a neo4j base)."""
    _check_kind(ref.kind)
    if ref.kind == "sqlite":
        from kg.sqlite_store import SqliteStore

        return SqliteStore(path / DB_FILE).open()
    from kg.neo4j_store import Neo4jSettings, Neo4jStore

    settings = neo4j or Neo4jSettings.resolve(recorded=recorded_settings(ref))
    return Neo4jStore.from_settings(settings, ref.namespace).open()


def _check_kind(kind: str) -> None:
    if kind not in GRAPH_STORES:
        raise ConfigError(f"unknown graph store {kind!r}; choose one of {', '.join(GRAPH_STORES)}")
