"""kgqa: question answering over your own documents with a knowledge graph and vector search.

The public Python API is one import away::

    from kgqa import KnowledgeBase

    kb = KnowledgeBase.open("my-kb")
    kb.ingest(["docs/"])
    print(kb.stats())

Importing this package is cheap: models and heavy libraries load only when
a knowledge base needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgqa.errors import (
    ConfigError,
    ExtractionError,
    IngestError,
    KgqaError,
    ModelError,
    ModelMismatchError,
    NotFoundError,
    StoreError,
)
from kgqa.types import (
    Chunk,
    Conflict,
    Document,
    Entity,
    IngestProblem,
    IngestReport,
    Mention,
    Neighbour,
    Relation,
    Stats,
)

if TYPE_CHECKING:
    from pipelines.ingest import IngestOptions
    from pipelines.kb import KnowledgeBase

__version__ = "0.1.0"

__all__ = [
    "Chunk",
    "ConfigError",
    "Conflict",
    "Document",
    "Entity",
    "ExtractionError",
    "IngestError",
    "IngestOptions",
    "IngestProblem",
    "IngestReport",
    "KgqaError",
    "KnowledgeBase",
    "Mention",
    "ModelError",
    "ModelMismatchError",
    "Neighbour",
    "NotFoundError",
    "Relation",
    "Stats",
    "StoreError",
]


def __getattr__(name: str) -> Any:
    if name == "KnowledgeBase":
        from pipelines.kb import KnowledgeBase

        return KnowledgeBase
    if name == "IngestOptions":
        from pipelines.ingest import IngestOptions

        return IngestOptions
    raise AttributeError(f"module 'kgqa' has no attribute {name!r}")
