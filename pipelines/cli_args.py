"""Argument types of the ``kgqa`` command line: bad values are bad usage (exit 2).

argparse turns the ``ArgumentTypeError`` of a type function into a usage
message and exit status 2, before any base is opened or model loaded::

    >>> at_least_1("5")
    5
    >>> at_least_1("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be at least 1, got 0

Only the standard library is imported, so ``kgqa --help`` stays instant.
"""

from __future__ import annotations

import argparse
import codecs
from collections.abc import Callable


def int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


at_least_0 = int_at_least(0)
at_least_1 = int_at_least(1)
port = int_at_least(1, 65535)
port_or_0 = int_at_least(0, 65535)


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def text(value: str) -> str:
    """An argparse type: text that is not empty or only spaces (a question)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("is empty")
    return value


def encoding(name: str) -> str:
    """An argparse type: the name of a text encoding Python knows (``cp1252``, ``latin-1``)."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise argparse.ArgumentTypeError(
            f"unknown encoding {name!r}; use a name such as cp1252, latin-1, utf-16 or shift_jis"
        ) from None
    return name


def embedder_spec(spec: str) -> str:
    """An argparse type: an embedder spec; ``hash:DIM`` needs a whole DIM of 8 or more.

    A model name or directory is checked when the base opens (a missing model
    is an error, not bad usage).
    """
    if spec == "hash" or spec.startswith("hash:"):
        dim = spec.partition(":")[2]
        if dim and (not dim.isdigit() or int(dim) < 8):
            raise argparse.ArgumentTypeError(f"use hash or hash:DIM with DIM >= 8, got {spec!r}")
    return spec


def model_path(value: str) -> str:
    """An argparse type: a model given as a path must exist (a directory or a file)."""
    from pathlib import Path

    if not Path(value).expanduser().exists():
        raise argparse.ArgumentTypeError(
            f"{value}: no such directory or file (give a Transformers model directory "
            "or a .gguf file)"
        )
    return value


def http_url(value: str) -> str:
    """An argparse type: an ``http://`` or ``https://`` address with a host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{value!r}: not a URL ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{value!r}: not a server address; give one such as http://127.0.0.1:8000/v1"
        )
    return value
