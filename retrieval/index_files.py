"""The files of a search index, and how they change without ever being half-written.

One directory::

    manifest.json          what is current: array lengths, file names, segments,
                           the store generation the index reflects
    <name>.<epoch>.bin     append-only arrays (chunk keys, vectors, ...); a rebuild
                           starts a new epoch, so it never writes a file in use
    <name>.<tag>.npy       arrays rewritten whole (entity counts, deleted rows)
    seg-<id>/              one immutable segment of postings (``.npy`` files)
    dense.<tag>.faiss      the FAISS index, when the base is large enough
    lock                   held (``flock``) by the one process that writes

A reader reads ``manifest.json`` and memory-maps what it names, reading only
the recorded length of each append-only array. A writer appends beyond those
lengths, writes new files under new names, fsyncs them, and only then
replaces ``manifest.json`` (temp file, fsync, rename, fsync of the
directory). A process killed at any point therefore leaves the previous
manifest and every file it names intact; what the dead writer left behind
(bytes past a recorded length, unnamed files) is cut or removed by the next
writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kgqa.errors import StoreError
from retrieval.postings import Segment

if TYPE_CHECKING:
    from numpy.typing import DTypeLike, NDArray

MANIFEST = "manifest.json"
LOCK = "lock"


class IndexFiles:
    """Reading and writing the files of one index directory (no I/O until asked)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    # -- manifest --------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        """The current manifest, or None when there is none (or it is unreadable)."""
        try:
            data = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def commit(self, manifest: dict[str, Any]) -> None:
        """Make ``manifest`` current, atomically (see the module docstring)."""
        path = self.directory / MANIFEST
        tmp = path.with_name(MANIFEST + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the directory's write lock (other writers wait; readers never do)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    # -- append-only arrays ----------------------------------------------------------
    def array(self, file: str, dtype: DTypeLike, count: int, width: int = 0) -> NDArray[Any]:
        """The first ``count`` items of the append-only ``file``, memory-mapped read-only.

        ``width`` > 0 reads ``(count, width)`` rows. A file shorter than the
        manifest says is a :class:`StoreError` (the index is damaged).
        """
        shape: tuple[int, ...] = (count, width) if width else (count,)
        if count == 0:
            return np.zeros(shape, dtype=dtype)
        path = self.directory / file
        need = int(np.prod(shape)) * np.dtype(dtype).itemsize
        try:
            size = path.stat().st_size
        except OSError as e:
            raise StoreError(f"{path}: missing from the search index ({e})") from e
        if size < need:
            raise StoreError(f"{path}: {size} bytes, the index manifest needs {need}")
        # a plain ndarray over the map: slicing a np.memmap costs more per call
        return np.asarray(np.memmap(path, dtype=dtype, mode="r", shape=shape))

    def append(self, file: str, data: NDArray[Any], count: int, width: int = 0) -> None:
        """Append ``data`` after the first ``count`` items of ``file`` (cutting what follows)."""
        path = self.directory / file
        data = np.ascontiguousarray(data)
        row = data.dtype.itemsize * (width or 1)
        with open(path, "ab") as f:
            f.truncate(count * row)
            f.seek(count * row)
            f.write(data.tobytes())
            f.flush()
            os.fsync(f.fileno())

    # -- whole files ------------------------------------------------------------
    def write_npy(self, name: str, array: NDArray[Any]) -> None:
        """Write ``name`` (a new name: files are never rewritten in place), fsynced."""
        path = self.directory / name
        with open(path, "wb") as f:
            np.save(f, np.ascontiguousarray(array), allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())

    def load_npy(self, name: str) -> NDArray[Any]:
        try:
            return np.asarray(np.load(self.directory / name, mmap_mode="r", allow_pickle=False))
        except (OSError, ValueError) as e:
            raise StoreError(f"{self.directory / name}: unreadable search index file ({e})") from e

    def write_segment(self, seg_id: int, postings: dict[str, Segment]) -> None:
        folder = self.directory / f"seg-{seg_id}"
        if folder.exists():  # left by a writer that died before its commit
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, seg in postings.items():
            for part in ("keys", "indptr", "target", "value"):
                arr = getattr(seg, part)
                if arr is not None:
                    self.write_npy(f"seg-{seg_id}/{name}.{part}.npy", arr)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def load_segment(self, seg_id: int, names: list[str]) -> dict[str, Segment]:
        out = {}
        for name in names:
            prefix = f"seg-{seg_id}/{name}"
            has_value = (self.directory / f"{prefix}.value.npy").exists()
            out[name] = Segment(
                self.load_npy(f"{prefix}.keys.npy"),
                self.load_npy(f"{prefix}.indptr.npy"),
                self.load_npy(f"{prefix}.target.npy"),
                self.load_npy(f"{prefix}.value.npy") if has_value else None,
            )
        return out

    # -- housekeeping -------------------------------------------------------------
    def cleanup(self, manifest: dict[str, Any]) -> None:
        """Remove what ``manifest`` does not name (left by replaced or dead writes)."""
        keep = {MANIFEST, LOCK}
        keep |= {a["file"] for a in manifest.get("arrays", {}).values()}
        keep |= set(manifest.get("files", {}).values())
        keep |= {f"seg-{s['id']}" for s in manifest.get("segments", [])}
        for path in self.directory.iterdir():
            if path.name in keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
