"""The CPU weights of the int8 path, converted once and read back on every later load.

Dynamic int8 quantisation (``llm.transformers_backend._quantize_int8``) reads
every fp32 weight of the layers it quantises and writes int8 copies. Done at
each load it cost the default model about 7 s on two cores, and it brought all
those fp32 weights into memory (the Transformers copy is memory-mapped, so an
fp32 weight that is never read costs nothing). So the first int8 load saves the
quantised weights (int8 values, one scale per output channel, biases) in one
safetensors file under ``<cache>/int8/``; later loads map the fp32 model lazily
and put int8 layers built from that file in place of the quantised ones before
any of their fp32 weights is read. The same int8 values and scales, packed the
same way: the same model, bit for bit.

The output head (``lm_head``, 151,936 x 896 for the default model: 545 MB in
fp32, every row read for every token) is kept in bfloat16 in the same file and
computed in bfloat16 (:func:`bf16_linear`): 272 MB less. On 36 demo prompts
(the 24 demo questions and the 12 rewritten follow-ups, retrieved passages,
greedy decoding) it gave the same 36 replies as the fp32 head, at the same
speed; an int8 head changed 2 of 36 (``benchmarks/lm_head.py``). The file is
about 530 MB for the default model.

>>> model = load_or_quantize(model, model_dir, INT8_SKIP, _quantize_int8)  # doctest: +SKIP

The file is keyed by the model directory (its path, and the size and mtime of
its weight files), the layers left in fp32, the head and the torch version, so
a changed model or rule converts anew. A cache that cannot be written is only a
warning.
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
HEAD = "lm_head"  # kept in bfloat16


def cache_file(model_dir: Path, skip: tuple[str, ...]) -> Path:
    """Where the int8 weights of ``model_dir`` are kept (see the module docstring)."""
    import torch

    from llm.model_files import cache_dir

    model_dir = model_dir.resolve()
    ident = [FORMAT, str(model_dir), ",".join(skip), f"{HEAD}:bf16",
             torch.__version__.split("+")[0]]
    for f in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        st = f.stat()
        ident.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    key = hashlib.sha256("\n".join(ident).encode()).hexdigest()[:16]
    return cache_dir() / "int8" / f"{model_dir.name}-{key}.safetensors"


def load_or_quantize(model: Any, model_dir: Path, skip: tuple[str, ...],
                     quantize: Callable[[Any], Any]) -> Any:
    """``model`` with int8 layers and a bfloat16 head: read from the cache, else made with
    ``quantize(model)`` and :func:`to_bf16_head`, and cached."""
    path = cache_file(model_dir, skip)
    if path.is_file():
        try:
            return apply(model, path)
        except Exception as e:  # a damaged or foreign file: quantise again
            log.warning("ignoring the int8 cache %s (%s); quantising again", path, e)
    model = to_bf16_head(quantize(model))
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


def bf16_linear(linear: Any) -> Any:
    """A copy of ``linear`` whose weight is bfloat16 and that computes in bfloat16.

    It takes and returns float32 like the layer it replaces.
    """
    import torch

    bias = linear.bias.detach().to(torch.bfloat16) if linear.bias is not None else None
    return _bf16_from(linear.weight.detach().to(torch.bfloat16), bias)


def _bf16_from(weight: Any, bias: Any | None) -> Any:
    """A Linear layer on bfloat16 ``weight`` (out, in), float32 in and out."""
    import torch

    out_features, in_features = weight.shape
    layer = torch.nn.Linear(in_features, out_features, bias=bias is not None, device="meta")
    layer.weight = torch.nn.Parameter(weight, requires_grad=False)
    if bias is not None:
        layer.bias = torch.nn.Parameter(bias.to(torch.bfloat16), requires_grad=False)
    layer.register_forward_pre_hook(_to_bf16)
    layer.register_forward_hook(_to_fp32)
    return layer


def _to_bf16(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    import torch

    return (args[0].to(torch.bfloat16), *args[1:])


def _to_fp32(module: Any, args: tuple[Any, ...], output: Any) -> Any:
    return output.float()


def to_bf16_head(model: Any) -> Any:
    """``model`` with its :data:`HEAD` layer in bfloat16 (unchanged if it has none)."""
    import torch

    head = getattr(model, HEAD, None)
    if isinstance(head, torch.nn.Linear) and head.weight.dtype == torch.float32:
        setattr(model, HEAD, bf16_linear(head))
    return model


def save(model: Any, path: Path) -> None:
    """Write the int8 layers and the bfloat16 head of ``model`` to ``path`` atomically
    (temp file + rename)."""
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, Any] = {}
    head = getattr(model, HEAD, None)
    if isinstance(head, torch.nn.Linear) and head.weight.dtype == torch.bfloat16:
        tensors[f"{HEAD}.bf16"] = head.weight.detach().contiguous()  # (vocab, hidden)
        if head.bias is not None:
            tensors[f"{HEAD}.bias"] = head.bias.detach().contiguous()
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
        save_file(tensors, tmp, metadata={"format": FORMAT})
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    log.info("saved the int8 weights to %s", path)


def apply(model: Any, path: Path) -> Any:
    """Replace the layers named in ``path`` by the int8 and bfloat16 layers it holds.

    Only this file is read (into memory, not mapped); the replaced fp32 weights
    are never touched.
    """
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    modules = dict(model.named_modules())
    tensors = read_safetensors(path)
    for name in sorted({k.rsplit(".", 1)[0] for k in tensors}):
        linear = modules.get(name)
        if not isinstance(linear, torch.nn.Linear):
            raise ValueError(f"the model has no Linear layer {name!r}")
        shape = (linear.out_features, linear.in_features)
        bias = tensors.pop(f"{name}.bias", None)
        new: Any
        if f"{name}.bf16" in tensors:
            weight = tensors.pop(f"{name}.bf16")
            if tuple(weight.shape) != shape:
                raise ValueError(f"{name}: shape {tuple(weight.shape)} does not fit the model")
            new = _bf16_from(weight, bias)
        else:
            values = tensors.pop(f"{name}.int8")
            if tuple(values.shape) != shape:
                raise ValueError(f"{name}: shape {tuple(values.shape)} does not fit the model")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's deprecation notice for quantized tensors
                weight = torch._make_per_channel_quantized_tensor(
                    values, tensors.pop(f"{name}.scale"), tensors.pop(f"{name}.zero_point"), 0)
            new = QLinear(linear.in_features, linear.out_features, bias_=bias is not None,
                          dtype=torch.qint8)
            new.set_weight_bias(weight, bias)
        parent_name, _, attr = name.rpartition(".")
        setattr(modules[parent_name] if parent_name else model, attr, new)
    release_free_memory()
    return model


_DTYPES = {"I8": "int8", "F64": "float64", "I64": "int64", "F32": "float32",
           "BF16": "bfloat16"}


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
            view = memoryview(t.view(-1).view(torch.uint8).numpy())  # type: ignore[arg-type]
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
