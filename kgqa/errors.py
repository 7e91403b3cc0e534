"""The one root exception of kgqa and its specific subclasses.

Every error kgqa raises on purpose is a :class:`KgqaError`; callers that want
to show a message and go on catch that one class. Messages name the file, the
value or the setting at fault and say what the user can do about it.
"""

from __future__ import annotations


class KgqaError(Exception):
    """Root of every error kgqa raises on purpose."""


class ConfigError(KgqaError):
    """A setting, option or argument is invalid."""


class IngestError(KgqaError):
    """A document could not be read or ingested.

    ``source`` names the file (or JSONL line) at fault, ``reason`` says why.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StoreError(KgqaError):
    """The knowledge base on disk (or a graph server) cannot be used."""


class ModelMismatchError(StoreError):
    """A knowledge base was opened with a model other than the one that built it."""


class ModelError(KgqaError):
    """A model could not be found, verified or loaded."""


class ExtractionError(ModelError):
    """The entity extractor failed on some chunks (the model itself had loaded).

    Ingest reports the documents concerned as problems and goes on.
    """


class NotFoundError(KgqaError):
    """A document, entity or chunk id does not exist in the knowledge base."""
