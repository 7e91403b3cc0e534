"""Generation and embedding throughput on a GPU (or, with --device cpu, the CPU).

    .venv/bin/python benchmarks/gpu_check.py [--device auto|cpu|cuda] [--prompt 512]
        [--new 128] [--batch 16] [--precision auto|fp32|int8|bf16]

Generation runs the default generator's architecture (Qwen2.5-0.5B: 24 layers,
hidden 896, vocabulary 151,936) with weights initialised from its config, so
it needs no model files: it measures the hardware and the software stack,
not answer quality. Each run decodes exactly ``--new`` tokens (end-of-text is
suppressed). Embedding throughput uses the packaged all-MiniLM-L6-v2.
Prints one JSON object. Defaults are small on the CPU (a run takes about a
minute on two cores) and realistic on CUDA.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The default model's architecture, as its GGUF metadata gives it (llm/model_files.py).
DEFAULT_ARCH = {
    "model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
    "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
    "vocab_size": 151936, "max_position_embeddings": 32768, "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "hidden_act": "silu",
    "bos_token_id": 151643, "eos_token_id": 151645,
}
SIZES = {"cpu": {"prompt": 64, "new": 16, "batch": 4, "texts": 256},
         "cuda": {"prompt": 512, "new": 128, "batch": 16, "texts": 8192}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    ap.add_argument("--precision", choices=("auto", "fp32", "int8", "bf16"), default="auto",
                    help="auto: bf16 on CUDA, fp32 on the CPU")
    ap.add_argument("--prompt", type=int, help="prompt tokens")
    ap.add_argument("--new", type=int, help="tokens generated per sequence")
    ap.add_argument("--batch", type=int, help="sequences in the batched run")
    ap.add_argument("--texts", type=int, help="texts embedded")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--skip-embedding", action="store_true")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda but torch sees no CUDA GPU; use --device cpu")
    size = {k: getattr(args, k) or v for k, v in SIZES[device].items()}
    precision = args.precision
    if precision == "auto":
        precision = "bf16" if device == "cuda" else "fp32"

    report: dict[str, object] = {
        "device": device, "precision": precision, "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        report["gpu"] = {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
                         "capability": f"{props.major}.{props.minor}"}
    report["generation"] = generation(device, precision, size)
    if not args.skip_embedding:
        report["embedding"] = embedding(device, size["texts"])
    print(json.dumps(report, indent=2))


def generation(device: str, precision: str, size: dict[str, int]) -> dict[str, object]:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    t = time.perf_counter()
    config = AutoConfig.for_model(**DEFAULT_ARCH)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=dtype).eval()
    if precision == "int8":
        from llm.transformers_backend import _quantize_int8

        model = _quantize_int8(model)
    model = model.to(device)
    init_s = time.perf_counter() - t
    params = sum(p.numel() for p in model.parameters())

    def run(batch: int, prompt: int, new: int) -> float:
        ids = torch.randint(1000, 100000, (batch, prompt), device=device)
        sync(device)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                 max_new_tokens=new, min_new_tokens=new, do_sample=False,
                                 pad_token_id=0, suppress_tokens=[config.eos_token_id])
        sync(device)
        assert out.shape == (batch, prompt + new)  # (batch, prompt + new)
        return time.perf_counter() - t0

    run(1, 8, 2)  # warm up kernels and allocator
    single = run(1, size["prompt"], size["new"])
    batched = run(size["batch"], size["prompt"], size["new"])
    out: dict[str, object] = {
        "architecture": "qwen2 0.5B (weights initialised from config)",
        "parameters_m": round(params / 1e6, 1), "init_s": round(init_s, 2),
        "prompt_tokens": size["prompt"], "new_tokens": size["new"],
        "single": {"seconds": round(single, 3),
                   "tokens_per_s": round(size["new"] / single, 1)},
        "batched": {"batch": size["batch"], "seconds": round(batched, 3),
                    "tokens_per_s": round(size["batch"] * size["new"] / batched, 1)},
    }
    if device == "cuda":
        out["peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def embedding(device: str, n: int) -> dict[str, object]:
    from retrieval.embed import DEFAULT_EMBEDDER, make_embedder

    words = [
        "river", "station", "engineer", "founded", "university", "company", "product",
        "city", "river", "research", "institute", "weather", "designed", "studied",
    ]
    texts = [" ".join(words[(i + j) % len(words)] for j in range(40)) for i in range(n)]
    emb = make_embedder(DEFAULT_EMBEDDER, device=device)
    emb.embed(texts[:8])  # load and warm up
    t = time.perf_counter()
    vecs = emb.embed(texts, batch_size=256 if device == "cuda" else 64)
    dt = time.perf_counter() - t
    return {"model": DEFAULT_EMBEDDER, "texts": n, "words_per_text": 40, "dim": int(vecs.shape[1]),
            "seconds": round(dt, 3), "texts_per_s": round(n / dt, 1)}


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


if __name__ == "__main__":
    main()
