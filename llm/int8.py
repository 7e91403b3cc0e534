"""The CPU int8 weights, quantised once and read back on every later load.

Dynamic int8 quantisation (``llm.transformers_backend._quantize_int8``) reads
every fp32 weight of the layers it quantises and writes int8 copies. Done at
each load it cost the default model about 7 s on two cores, and it brought all
those fp32 weights into memory (the Transformers copy is memory-mapped, so an
fp32 weight that is never read costs nothing). So the first int8 load saves the
quantised weights (int8 values, one scale per output channel, biases) in one
safetensors file under ``<cache>/int8/``, about 260 MB for the default model;
later loads map the fp32 model lazily, and put int8 layers built from that file
in place of the quantised ones before any of their fp32 weights is read. The
result is the same model, bit for bit: the same int8 values and scales, packed
the same way.

>>> model = load_or_quantize(model, model_dir)     # doctest: +SKIP

The file is keyed by the model directory (its path, and the size and mtime of
its weight files), the layers left in fp32 and the torch version, so a changed
model or rule quantises anew. A cache that cannot be written is only a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FORMAT = "kgqa-int8-v1"


def cache_file(model_dir: Path, skip: tuple[str, ...]) -> Path:
    """Where the int8 weights of ``model_dir`` are kept (see the module docstring)."""
    import torch

    from llm.model_files import cache_dir

    model_dir = model_dir.resolve()
    ident = [FORMAT, str(model_dir), ",".join(skip), torch.__version__.split("+")[0]]
    for f in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        st = f.stat()
        ident.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    key = hashlib.sha256("\n".join(ident).encode()).hexdigest()[:16]
    return cache_dir() / "int8" / f"{model_dir.name}-{key}.safetensors"


def load_or_quantize(model: Any, model_dir: Path, skip: tuple[str, ...],
                     quantize: Callable[[Any], Any]) -> Any:
    """``model`` with int8 layers: read from the cache, else ``quantize(model)`` and cached."""
    path = cache_file(model_dir, skip)
    if path.is_file():
        try:
            return apply(model, path)
        except Exception as e:  # a damaged or foreign file: quantise again
            log.warning("ignoring the int8 cache %s (%s); quantising again", path, e)
    model = quantize(model)
    try:
        save(model, path)
    except OSError as e:
        log.warning("could not save the int8 weights to %s: %s; set KGQA_CACHE to a "
                    "writable directory so later loads skip quantising", path, e)
    return model


def quantized_layers(model: Any) -> dict[str, Any]:
    """The dynamic int8 Linear modules of ``model``, by name."""
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    return {name: m for name, m in model.named_modules() if isinstance(m, QLinear)}


def save(model: Any, path: Path) -> None:
    """Write the int8 layers of ``model`` to ``path`` atomically (temp file + rename)."""
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, Any] = {}
    for name, module in quantized_layers(model).items():
        weight, bias = module._packed_params._weight_bias()
        if weight.qscheme() not in (torch.per_channel_affine, torch.per_channel_symmetric):
            raise ValueError(f"{name}: expected per-channel int8 weights, got {weight.qscheme()}")
        tensors[f"{name}.int8"] = weight.int_repr().contiguous()  # (out, in) int8
        tensors[f"{name}.scale"] = weight.q_per_channel_scales().contiguous()  # (out,) float64
        tensors[f"{name}.zero_point"] = weight.q_per_channel_zero_points().contiguous()
        if bias is not None:
            tensors[f"{name}.bias"] = bias.detach().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"format": FORMAT, "layers": str(len(tensors))})
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    log.info("saved the int8 weights to %s", path)


def apply(model: Any, path: Path) -> Any:
    """Replace the Linear layers named in ``path`` by int8 layers built from it.

    Only the int8 file is read (into memory, not mapped); the replaced fp32
    weights are never touched.
    """
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    modules = dict(model.named_modules())
    tensors = read_safetensors(path)
    for name in sorted({k.rsplit(".", 1)[0] for k in tensors}):
        linear = modules.get(name)
        if not isinstance(linear, torch.nn.Linear):
            raise ValueError(f"the model has no Linear layer {name!r}")
        values = tensors.pop(f"{name}.int8")
        if tuple(values.shape) != (linear.out_features, linear.in_features):
            raise ValueError(f"{name}: shape {tuple(values.shape)} does not fit the model")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's deprecation notice for quantized tensors
            weight = torch._make_per_channel_quantized_tensor(
                values, tensors.pop(f"{name}.scale"), tensors.pop(f"{name}.zero_point"), 0)
        bias = tensors.pop(f"{name}.bias", None)
        q = QLinear(linear.in_features, linear.out_features, bias_=bias is not None,
                    dtype=torch.qint8)
        q.set_weight_bias(weight, bias)
        parent_name, _, attr = name.rpartition(".")
        setattr(modules[parent_name] if parent_name else model, attr, q)
    release_free_memory()
    return model


_DTYPES = {"I8": "int8", "F64": "float64", "I64": "int64", "F32": "float32"}


def read_safetensors(path: Path) -> dict[str, Any]:
    """The tensors of a safetensors file, read straight into their own memory.

    ``safetensors.safe_open`` maps the file and keeps the mapping (and its pages
    in the process's resident set) as long as the process lives; this reads
    each tensor once into a tensor of its own. ``ValueError`` for a file that
    is not a kgqa int8 file.
    """
    import json

    import torch

    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        if not 0 < size < 100_000_000:
            raise ValueError("not a safetensors file")
        header = json.loads(f.read(size))
        if (header.pop("__metadata__", None) or {}).get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        out: dict[str, Any] = {}
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            begin, end = info["data_offsets"]
            dtype = getattr(torch, _DTYPES[info["dtype"]])
            t = torch.empty(info["shape"], dtype=dtype)
            view = memoryview(t.numpy()).cast("B")  # type: ignore[arg-type]
            if view.nbytes != end - begin:
                raise ValueError(f"{name}: {end - begin} bytes for shape {info['shape']}")
            f.seek(8 + size + begin)
            if f.readinto(view) != view.nbytes:
                raise ValueError(f"{name}: the file ends early")
            out[name] = t
    return out


def release_free_memory() -> None:
    """Give freed heap memory back to the system (glibc), so it leaves the resident set."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError, TypeError):  # not glibc
        ctypes.CDLL(name).malloc_trim(0)
