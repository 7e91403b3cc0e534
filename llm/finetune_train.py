"""Fine-tune a causal LM on tokenised examples: LoRA (peft) or all weights, resumable.

>>> loaded = load_for_training(ModelSource(), device="auto", seed=0)   # doctest: +SKIP
>>> model = prepare(loaded, settings)              # LoRA adapters on, base frozen  # doctest: +SKIP
>>> result = train(model, loaded, examples, settings, checkpoint_dir=out / "checkpoint")
...                                                                   # doctest: +SKIP
>>> save_outputs(model, loaded, out)   # out/adapter (LoRA) and out/model (merged)  # doctest: +SKIP

The loop is plain PyTorch (AdamW, linear warm-up then decay from
Transformers' ``get_linear_schedule_with_warmup``) rather than Transformers'
``Trainer``: it is short, its progress bar shows the loss and tokens/s, it
computes the output layer only where a label is (a 151,936-word output layer
on every prompt token would cost a quarter of the compute for a reply of a
few tokens), and its checkpoint holds exactly what resuming needs.

Device ``auto``: CUDA when present, bf16 autocast over fp32 weights (mixed
precision); else the CPU in fp32. A checkpoint (``checkpoint_dir``: the
trainable weights, optimizer and scheduler state, RNG state, the step) is
written every ``save_steps`` steps and on Ctrl-C, atomically; ``resume``
continues from it at the same step, batch order and random state, so an
interrupted run ends with the weights an uninterrupted one would have.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgqa.errors import ConfigError, ModelError
from llm.finetune_data import IGNORE, TokenizedExample, collate

STATE_FILE = "state.json"


@dataclass(frozen=True)
class LoraSpec:
    """LoRA settings (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models")."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                       "up_proj", "down_proj")


@dataclass(frozen=True)
class ModelSource:
    """The model to start from: ``path`` (a Transformers directory or ``.gguf``), or a new
    model from ``config`` (Transformers config keys with ``model_type``) and ``tokenizer``
    (``default``: the default model's; or a directory); neither: the default model."""

    path: Path | None = None
    config: Mapping[str, Any] | None = None
    tokenizer: str = "default"


@dataclass(frozen=True)
class TrainSettings:
    batch_size: int = 4
    num_epochs: int = 1
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0  # 0: no clipping
    save_steps: int = 50  # 0: only on Ctrl-C
    seed: int = 0
    lora: LoraSpec | None = field(default_factory=LoraSpec)  # None: all weights
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class Loaded:
    """A tokenizer and a model ready to train, and where they run."""

    tokenizer: Any
    model: Any
    device: str  # "cpu" | "cuda"
    precision: str  # "fp32" | "bf16-mixed"
    name: str


@dataclass(frozen=True)
class TrainResult:
    steps: int
    examples: int
    tokens: int  # input tokens processed (padding excluded), this session
    target_tokens: int  # tokens with a loss, this session
    seconds: float  # wall time of the steps, this session
    tokens_per_s: float
    first_loss: float  # mean loss of the first k steps trained this session, k = min(10, n/2)
    last_loss: float  # mean loss of the last k steps
    losses: tuple[float, ...]  # loss of each step trained this session
    resumed_at: int  # step the run continued from (0: a fresh run)
    trainable_params: int
    total_params: int
    device: str
    precision: str


def load_for_training(source: ModelSource, *, device: str = "auto", seed: int = 0) -> Loaded:
    """Load (or initialise) the model and tokenizer in fp32 on the chosen device."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from llm.transformers_backend import model_directory

    cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        raise ModelError("device 'cuda' was asked for but torch sees no CUDA GPU; use cpu or auto")
    dev = "cuda" if device == "cuda" or (device == "auto" and cuda) else "cpu"
    if dev == "cpu":
        n = int(os.environ.get("KGQA_THREADS") or 0) or len(os.sched_getaffinity(0))
        torch.set_num_threads(max(1, n))
    if source.config is not None:
        tok_dir = model_directory(None) if source.tokenizer == "default" else Path(
            source.tokenizer).expanduser()
        try:
            tok = AutoTokenizer.from_pretrained(tok_dir)
        except (OSError, ValueError) as e:
            raise ModelError(f"cannot load a tokenizer from {tok_dir}: {e}") from e
        keys = dict(source.config)
        model_type = str(keys.pop("model_type"))
        keys.setdefault("vocab_size", len(tok))
        if keys["vocab_size"] < len(tok):
            raise ConfigError(f"model.config.vocab_size is {keys['vocab_size']} but the "
                              f"tokenizer has {len(tok)} tokens")
        for role in ("bos", "eos", "pad"):
            tid = getattr(tok, f"{role}_token_id", None)
            if tid is not None:
                keys.setdefault(f"{role}_token_id", tid)
        try:
            config = AutoConfig.for_model(model_type, **keys)
            torch.manual_seed(seed)
            model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"model.config: cannot build a {model_type} model: {e}") from e
        model.generation_config.eos_token_id = tok.eos_token_id
        model.generation_config.pad_token_id = tok.pad_token_id or tok.eos_token_id
        name = f"{model_type} from config"
    else:
        model_dir = model_directory(source.path)
        try:
            tok = AutoTokenizer.from_pretrained(model_dir)
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"cannot load a causal language model from {model_dir}: {e}") from e
        name = model_dir.name
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    precision = "bf16-mixed" if dev == "cuda" else "fp32"
    return Loaded(tok, model.to(dev), dev, precision, name)


def prepare(loaded: Loaded, settings: TrainSettings) -> Any:
    """The model to train: LoRA adapters over a frozen base (peft), or every weight.

    Seeds torch's generator first, so the adapters' initial weights and the
    dropout masks of training follow from ``settings.seed``.
    """
    import torch

    torch.manual_seed(settings.seed)
    model = loaded.model
    model.config.use_cache = False
    if settings.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if settings.lora is None:
        model.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    spec = settings.lora
    try:
        with warnings.catch_warnings():  # peft asks Transformers a deprecated question
            warnings.simplefilter("ignore", FutureWarning)
            return get_peft_model(model, LoraConfig(
                r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout,
                target_modules=list(spec.target_modules), bias="none", task_type="CAUSAL_LM"))
    except ValueError as e:
        raise ConfigError(f"lora.target_modules {list(spec.target_modules)}: {e}") from e


def train(model: Any, loaded: Loaded, examples: Sequence[TokenizedExample],
          settings: TrainSettings, *, checkpoint_dir: Path, resume: bool = False,
          fingerprint: Mapping[str, Any] | None = None, progress: bool = True,
          on_step: Callable[[int, float], None] | None = None) -> TrainResult:
    """Train for ``num_epochs`` over ``examples`` in seeded random order, ``batch_size`` each.

    ``fingerprint`` (the settings that define the run) is stored in each
    checkpoint; resuming from a checkpoint with another fingerprint is a
    ConfigError naming the keys that differ. ``on_step(step, loss)`` runs after
    each optimizer step. Ctrl-C saves a checkpoint, then re-raises.
    """
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    if not examples:
        raise ConfigError("no training examples (see the counts above)")
    per_epoch = math.ceil(len(examples) / settings.batch_size)
    total = per_epoch * settings.num_epochs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate,
                                  weight_decay=settings.weight_decay)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, math.ceil(total * settings.warmup_ratio), total)
    fp = dict(fingerprint or {}, examples=len(examples))
    start = _load_checkpoint(checkpoint_dir, model, optimizer, scheduler, fp) if resume else 0
    if not resume and (checkpoint_dir / STATE_FILE).is_file():
        raise ConfigError(f"{checkpoint_dir} holds the checkpoint of an unfinished run; "
                          "continue it with --resume, or remove it to start over")
    pad_id = loaded.tokenizer.pad_token_id
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if loaded.device == "cuda"
                else torch.autocast("cpu", enabled=False))
    model.train()
    losses: list[float] = []
    tokens = targets = 0
    seconds = 0.0
    order: list[int] = []
    bar = tqdm(total=total, initial=start, desc="finetune", unit="step", disable=not progress,
               dynamic_ncols=True)
    step = start
    try:
        for step in range(start, total):
            epoch, i = divmod(step, per_epoch)
            if i == 0 or not order:
                gen = torch.Generator().manual_seed(settings.seed * 1000 + epoch)
                order = torch.randperm(len(examples), generator=gen).tolist()
            t0 = time.perf_counter()
            batch = collate([examples[j] for j in order[i * settings.batch_size:
                                                         (i + 1) * settings.batch_size]], pad_id)
            batch = {k: v.to(loaded.device) for k, v in batch.items()}
            with autocast:
                loss, n_targets = _loss(model, batch)
            loss.backward()
            if settings.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(params, settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            seconds += time.perf_counter() - t0
            losses.append(float(loss.detach()))
            tokens += int(batch["attention_mask"].sum())
            targets += n_targets
            bar.update(1)
            bar.set_postfix(loss=f"{sum(losses[-10:]) / len(losses[-10:]):.3f}",
                            tok_s=f"{tokens / max(seconds, 1e-9):.0f}", epoch=epoch + 1)
            done = step + 1
            if settings.save_steps and done % settings.save_steps == 0 and done < total:
                _save_checkpoint(checkpoint_dir, model, optimizer, scheduler, fp, done)
            if on_step is not None:
                on_step(done, losses[-1])
    except KeyboardInterrupt:
        done = start + len(losses)
        if done > start:
            _save_checkpoint(checkpoint_dir, model, optimizer, scheduler, fp, done)
        raise
    finally:
        bar.close()
    model.eval()
    k = min(10, max(1, len(losses) // 2))
    return TrainResult(
        steps=total, examples=len(examples), tokens=tokens, target_tokens=targets,
        seconds=seconds, tokens_per_s=tokens / seconds if seconds else 0.0,
        first_loss=_mean(losses[:k]), last_loss=_mean(losses[-k:]),
        losses=tuple(round(x, 4) for x in losses), resumed_at=start,
        trainable_params=sum(p.numel() for p in params),
        total_params=sum(p.numel() for p in model.parameters()),
        device=loaded.device, precision=loaded.precision)


def _loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Mean cross-entropy over the labelled next tokens, and their count.

    The output layer runs only at positions whose next token has a label
    (``logits_to_keep``, the union over the batch).
    """
    import torch.nn.functional as F

    labels = batch["labels"]
    target = labels[:, 1:]  # (B, T-1): the token each position predicts
    wanted = (target != IGNORE).any(0)  # (T-1,)
    if bool(wanted.all()):
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                       use_cache=False).logits[:, :-1]  # (B, T-1, V)
    else:
        keep = wanted.nonzero().squeeze(1)  # (K,)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                       use_cache=False, logits_to_keep=keep).logits  # (B, K, V)
        target = target[:, keep]  # (B, K)
    n = int((target != IGNORE).sum())
    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1),
                           ignore_index=IGNORE, reduction="sum") / max(n, 1)
    return loss, n


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def _trainable_state(model: Any) -> dict[str, Any]:
    return {n: p.detach().contiguous().cpu() for n, p in model.named_parameters()
            if p.requires_grad}


def _save_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any,
                     fingerprint: Mapping[str, Any], step: int) -> None:
    """Write the checkpoint into a temporary folder, then swap it in (never half-written)."""
    import torch
    from safetensors.torch import save_file

    def write(tmp: Path) -> None:
        save_file(_trainable_state(model), str(tmp / "trainable.safetensors"))
        rng = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state()
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "rng": rng}, tmp / "trainer.pt")
        (tmp / STATE_FILE).write_text(json.dumps(
            {"step": step, "fingerprint": fingerprint}, indent=2, default=str))

    _atomic_dir(folder, write)


def _load_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any,
                     fingerprint: Mapping[str, Any]) -> int:
    """Restore a checkpoint into the model, optimizer, scheduler and RNG; the step it holds."""
    import torch
    from safetensors.torch import load_file

    state_file = folder / STATE_FILE
    if not state_file.is_file():
        raise ConfigError(f"--resume: no checkpoint in {folder} (nothing to resume)")
    state = json.loads(state_file.read_text())
    saved = json.loads(json.dumps(state["fingerprint"], default=str))
    current = json.loads(json.dumps(dict(fingerprint), default=str))
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if changed:
        raise ConfigError(f"--resume: the checkpoint in {folder} was made with other settings "
                          f"({', '.join(changed)} differ); restore them or start a new run")
    weights = load_file(str(folder / "trainable.safetensors"))
    missing = set(_trainable_state(model)) - set(weights)
    if missing:
        raise ConfigError(f"--resume: the checkpoint lacks {len(missing)} trainable tensors "
                          f"(e.g. {sorted(missing)[0]})")
    model.load_state_dict(weights, strict=False)
    rest = torch.load(folder / "trainer.pt", weights_only=True)
    optimizer.load_state_dict(rest["optimizer"])
    scheduler.load_state_dict(rest["scheduler"])
    torch.set_rng_state(rest["rng"]["cpu"])
    if "cuda" in rest["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state(rest["rng"]["cuda"])
    return int(state["step"])


def save_outputs(model: Any, loaded: Loaded, out_dir: Path,
                 info: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Save ``out_dir/adapter`` (LoRA only: the peft adapter) and ``out_dir/model``.

    ``model`` is a Transformers directory (LoRA merged into the weights, fp32)
    with the tokenizer and chat template: what ``kgqa ask --model`` and
    ``open_generator`` load. ``info`` is written beside it as
    ``kgqa-finetune.json``. Each folder is written aside and renamed into place.
    """
    out: dict[str, Path] = {}
    merged = model
    if hasattr(model, "merge_and_unload"):  # a peft model
        out["adapter"] = _atomic_dir(out_dir / "adapter", model.save_pretrained)
        merged = model.merge_and_unload()
    out["model"] = save_model_dir(merged, loaded.tokenizer, out_dir / "model", info)
    return out


def save_model_dir(model: Any, tokenizer: Any, target: Path,
                   info: Mapping[str, Any] | None = None) -> Path:
    """``model`` and ``tokenizer`` as one Transformers directory (safetensors, fp32 as
    trained), with ``info`` as ``kgqa-finetune.json``; written aside, renamed into place."""
    model.config.use_cache = True

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "kgqa-finetune.json").write_text(json.dumps(dict(info or {}), indent=2,
                                                           default=str) + "\n")

    return _atomic_dir(target, write)


def _atomic_dir(target: Path, write: Callable[[Path], Any]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        write(tmp)
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
