"""In-process generation with Hugging Face Transformers, on CPU or GPU.

>>> gen = TransformersGenerator()          # the default model; nothing loads yet
>>> gen.generate([{"role": "user", "content": "2+2?"}])   # doctest: +SKIP
'4'

The model is a local Transformers directory or a ``.gguf`` file (``None``: the
default model, see ``llm/model_files.py``). Transformers de-quantises a GGUF
file to fp32 when it loads it, which takes about two minutes on two cores
(parsing the 150k-token vocabulary three times dominates); so the first load
also saves the converted model as a plain Transformers directory under
``<cache>/converted/`` and later loads read that in a few seconds.

On the CPU it uses as many threads as other processes leave cores free
(:func:`cpu_threads`; ``$KGQA_THREADS`` or ``threads=`` sets it).

Device ``auto``: CUDA in bf16 when a GPU is present, else the CPU. On the CPU
``precision="auto"`` picks dynamic int8 (per-channel ``qint8`` Linear layers,
fp32 activations, the MLP down-projections kept in fp32; see ``INT8_SKIP``):
on a 2-core AVX-512 VNNI Xeon it gave the same answers as fp32 on 60 hotpotqa
questions in a little over half the time (see ``benchmarks/answer.py``).
``precision="fp32"`` keeps full precision.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kgqa.errors import ConfigError, ModelError
from llm.generator import (
    DEFAULT_MAX_NEW_TOKENS,
    Messages,
    check_messages,
    cut_at_stop,
    stream_until_stop,
)

log = logging.getLogger(__name__)
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "int8", "bf16", "fp16")
_MARKER = "kgqa-converted.json"


class TransformersGenerator:
    """A causal LM run in this process; thread-safe (one generation at a time)."""

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = "auto",
        precision: str = "auto",
        threads: int | None = None,
        max_batch_size: int = 8,
    ) -> None:
        if device not in DEVICES:
            raise ConfigError(f"device must be one of {DEVICES}, got {device!r}")
        if precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.model_path = Path(model).expanduser() if model is not None else None
        self.device_request = device
        self.precision_request = precision
        self.threads = threads
        self.max_batch_size = max(1, max_batch_size)
        self.name = self.model_path.name if self.model_path else "qwen2.5-coder-0.5b-instruct"
        self.device = ""  # resolved on load: "cpu" or "cuda"
        self.precision = ""  # resolved on load
        self.load_seconds = 0.0
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.RLock()
        self._prefixes: dict[str, tuple[Any, Any]] = {}  # system prompt -> (ids, KV cache)
        self._free_cores: FreeCores | None = None  # set on a CPU load without fixed threads

    # -- loading -------------------------------------------------------------
    def load(self) -> TransformersGenerator:
        """Load the model and tokenizer (once; later calls return at once)."""
        with self._lock:
            if self._model is None:
                t0 = time.perf_counter()
                self._load()
                self.load_seconds = time.perf_counter() - t0
                log.info("loaded %s on %s/%s in %.1fs (%s threads)", self.name, self.device,
                         self.precision, self.load_seconds, _threads())
        return self

    def _load(self) -> None:
        import torch

        cuda = torch.cuda.is_available()
        if self.device_request == "cuda" and not cuda:
            raise ModelError("device 'cuda' was asked for but torch sees no CUDA GPU; "
                             "use --device cpu or auto")
        self.device = "cuda" if self.device_request == "cuda" or (
            self.device_request == "auto" and cuda) else "cpu"
        precision = self.precision_request
        if precision == "auto":
            precision = "bf16" if self.device == "cuda" else "int8"
        if self.device == "cpu" and precision in ("bf16", "fp16"):
            precision = "fp32"  # no fast half-precision matmuls on most CPUs
        if self.device == "cuda" and precision == "int8":
            raise ConfigError("int8 is the CPU path; on CUDA use bf16, fp16 or fp32")
        self.precision = precision
        if self.device == "cpu":
            # $KGQA_THREADS, else the cores other processes leave free (see cpu_threads),
            # followed from one generation to the next (see FreeCores)
            fixed = self.threads or int(os.environ.get("KGQA_THREADS") or 0)
            torch.set_num_threads(max(1, fixed or cpu_threads()))
            self._free_cores = None if fixed else FreeCores()

        model_dir = self._resolve_dir()
        tok, model = _from_pretrained(model_dir)
        tok.padding_side = "left"  # batched generation appends on the right
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model.eval()
        if self.device == "cuda":
            dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
            model = model.to("cuda", dtype=dtype)
        elif precision == "int8":
            from llm.int8 import load_or_quantize

            model = load_or_quantize(model, model_dir, INT8_SKIP, _quantize_int8)
        self._tokenizer, self._model = tok, model

    def _resolve_dir(self) -> Path:
        return model_directory(self.model_path)

    @property
    def tokenizer(self) -> Any:
        return self.load()._tokenizer

    @property
    def model(self) -> Any:
        return self.load()._model

    # -- generating ----------------------------------------------------------
    def generate(self, messages: Messages, *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 stop: Sequence[str] | None = None) -> str:
        return self.generate_batch([messages], max_new_tokens=max_new_tokens, stop=stop)[0]

    def generate_batch(self, batch: Sequence[Messages], *,
                       max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                       stop: Sequence[str] | None = None) -> list[str]:
        """Greedy replies, ``max_batch_size`` conversations per forward pass.

        Conversations are sorted by prompt length so that a sub-batch needs
        little left padding; replies come back in the input order.
        """
        self.load()
        parts = [self._prompt_parts(m) for m in batch]
        prompts = [p for p, _ in parts]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[str] = [""] * len(prompts)
        for s in range(0, len(order), self.max_batch_size):
            idx = order[s:s + self.max_batch_size]
            prefix = parts[idx[0]][1] if len(idx) == 1 else None
            texts = self._run([prompts[i] for i in idx], max_new_tokens, stop, prefix)
            for i, text in zip(idx, texts, strict=True):
                out[i] = cut_at_stop(text, stop)
        return out

    def generate_avoiding(self, messages: Messages, avoid: Sequence[str], *,
                          max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                          stop: Sequence[str] | None = None) -> str:
        """The greedy reply to ``messages`` that does not open the way any of ``avoid``
        does: the first token of each (with and without a leading space) is
        suppressed at the first decoding step (Transformers' ``begin_suppress_tokens``),
        so the model gives its next choice. Used to ask again after a reply that
        cannot be an answer (the question's own subject, "Yes" to "which city?").
        """
        self.load()
        prompt, prefix = self._prompt_parts(messages)
        banned = sorted({ids[0] for text in avoid if text.strip()
                         for form in (text.strip(), " " + text.strip())
                         if (ids := self._tokenizer(form, add_special_tokens=False)["input_ids"])})
        text = self._run([prompt], max_new_tokens, stop, prefix,
                         begin_suppress_tokens=banned or None)[0]
        return cut_at_stop(text, stop)

    def stream(self, messages: Messages, *, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        """Yield text pieces as they are decoded (a TextIteratorStreamer on a thread).

        Closing the iterator early stops the generation at the next token.
        """
        import torch
        from transformers import StoppingCriteria, TextIteratorStreamer

        self.load()
        cancel = threading.Event()

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool,
                                  device=input_ids.device)

        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True,
                                        skip_special_tokens=True, timeout=600)
        prompt, prefix = self._prompt_parts(messages)
        enc = self._encode([prompt])
        kwargs = self._gen_kwargs(max_new_tokens, stop, enc["input_ids"].shape[1], _Cancel())
        errors: list[BaseException] = []

        def work() -> None:
            with self._lock, torch.inference_mode():
                self._follow_free_cores()
                try:
                    cache = self._reuse_prefix(prefix, enc["input_ids"])
                    self._model.generate(**enc, streamer=streamer, **_cache_kw(cache), **kwargs)
                except BaseException as e:  # reported in the consumer's thread
                    errors.append(e)
                    streamer.end()

        thread = threading.Thread(target=work, name="kgqa-generate", daemon=True)
        thread.start()
        try:
            yield from stream_until_stop(streamer, stop)
        finally:
            cancel.set()
            thread.join()
        if errors:
            raise ModelError(f"generation with {self.name} failed: {errors[0]}") from errors[0]

    # -- internals -----------------------------------------------------------
    def _follow_free_cores(self) -> None:
        """Generate on the cores other processes left free since the last generation
        (the load average, read once at load, lags a finished job by minutes)."""
        import torch

        free = self._free_cores.threads() if self._free_cores is not None else None
        if free is not None and free != torch.get_num_threads():
            torch.set_num_threads(free)

    def _prompt_parts(self, messages: Messages) -> tuple[str, str | None]:
        """The prompt text, and its leading system-message part when it has one."""
        return prompt_parts(self.tokenizer, messages)

    def _reuse_prefix(self, prefix: str | None, input_ids: Any) -> Any:
        """A copy of the KV cache of ``prefix`` (the system prompt) when ``input_ids`` start
        with its tokens, computed once; else None. Saves re-reading the same rules
        and examples on every question (the prefill dominates on a CPU).
        """
        if prefix is None or input_ids.shape[0] != 1:
            return None
        import copy

        if prefix not in self._prefixes:
            from transformers import DynamicCache

            ids = self._tokenizer(prefix, return_tensors="pt", add_special_tokens=False)
            ids = ids["input_ids"].to(self.device)  # (1, prefix_len)
            try:
                cache = DynamicCache(config=self._model.config)
            except TypeError:  # transformers < 4.56
                cache = DynamicCache()
            self._model(input_ids=ids, use_cache=True, logits_to_keep=1, **_cache_kw(cache))
            if len(self._prefixes) >= 4:
                self._prefixes.pop(next(iter(self._prefixes)))
            self._prefixes[prefix] = (ids, cache)
        ids, cache = self._prefixes[prefix]
        n = ids.shape[1]
        if input_ids.shape[1] <= n or not bool((input_ids[0, :n] == ids[0]).all()):
            return None
        return copy.deepcopy(cache)

    def _encode(self, prompts: list[str]) -> Any:
        enc = self._tokenizer(prompts, return_tensors="pt", padding=True,
                              add_special_tokens=False)
        return {k: v.to(self.device) for k, v in enc.items()}

    def _gen_kwargs(self, max_new_tokens: int, stop: Sequence[str] | None,
                    prompt_len: int, *extra: Any) -> dict[str, Any]:
        """Greedy decoding settings; ``extra`` stopping criteria run beside the stop strings."""
        from transformers import StoppingCriteriaList

        if max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        criteria = list(extra)
        stops = [s for s in (stop or ()) if s]
        if stops:  # stop decoding early, not only cut the text afterwards
            criteria.append(_StopOnText(self._tokenizer, stops, prompt_len))
        kw: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "do_sample": False,
            "pad_token_id": self._tokenizer.pad_token_id,
        }
        if criteria:
            kw["stopping_criteria"] = StoppingCriteriaList(criteria)
        return kw

    def _run(self, prompts: list[str], max_new_tokens: int, stop: Sequence[str] | None,
             prefix: str | None = None, begin_suppress_tokens: list[int] | None = None,
             ) -> list[str]:
        import torch

        enc = self._encode(prompts)
        n_prompt = enc["input_ids"].shape[1]  # (batch, prompt_len), left-padded
        kwargs = self._gen_kwargs(max_new_tokens, stop, n_prompt)
        if begin_suppress_tokens:
            kwargs["begin_suppress_tokens"] = begin_suppress_tokens
        with self._lock, torch.inference_mode():
            self._follow_free_cores()
            try:
                cache = self._reuse_prefix(prefix, enc["input_ids"])
                out = self._model.generate(**enc, **_cache_kw(cache), **kwargs)  # (batch, len+new)
            except (RuntimeError, ValueError) as e:
                raise ModelError(f"generation with {self.name} failed: {e}") from e
        new = out[:, n_prompt:]
        return [str(t) for t in self._tokenizer.batch_decode(new, skip_special_tokens=True)]


def model_directory(model: str | Path | None) -> Path:
    """A Transformers directory to load: ``model`` itself, or converted (once) from a GGUF file.

    ``None`` is the default model (assembled from its packages, converted once
    under the cache). A directory needs a ``config.json``; anything else is a
    ModelError that says what to give instead.
    """
    path = Path(model).expanduser() if model is not None else None
    if path is None:
        from llm.model_files import DEFAULT_MODEL_SHA256, default_model_file

        gguf = default_model_file()
        return _converted(gguf, key=DEFAULT_MODEL_SHA256[:16])
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a Transformers model directory (no config.json)")
        return path
    if path.is_file() and path.suffix.lower() == ".gguf":
        st = path.stat()
        ident = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()
        return _converted(path, key=hashlib.sha256(ident).hexdigest()[:16])
    raise ModelError(f"{path}: no such model; give a Transformers directory or a .gguf file")


def prompt_parts(tokenizer: Any, messages: Messages) -> tuple[str, str | None]:
    """The prompt text the model continues, and its leading system-message part if any.

    With a chat template: the template with the generation prompt added (for
    Qwen2.5, ``<|im_start|>system\n...<|im_end|>\n...<|im_start|>assistant\n``).
    Without one (a base model): a plain ``Role: text`` transcript ending in
    ``Assistant:``. Training (``llm/finetune_data.py``) builds its prompts here
    too, so a fine-tuned model learns exactly the text it is later given.
    """
    msgs = check_messages(messages)
    if not getattr(tokenizer, "chat_template", None):
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in msgs]
        return "\n\n".join([*lines, "Assistant:"]), None
    prompt = str(tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False))
    if msgs[0]["role"] != "system" or len(msgs) < 2:
        return prompt, None
    prefix = str(tokenizer.apply_chat_template(msgs[:1], tokenize=False))
    return prompt, prefix if prompt.startswith(prefix) else None


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def cpu_threads() -> int:
    """Threads for generation on the CPU: the cores that other processes leave free.

    All the process's cores on an idle machine, fewer as other work keeps them
    busy (the 1-minute load average, this process counted as one), at least one.
    Each generated token runs hundreds of parallel sections, each waiting for
    its slowest thread, so a thread whose core is taken by another process
    stalls them all: on 2 cores with a load average of 5-6, one thread answered
    a demo question in 1.6-3.6 s where two took 3.2-22.7 s (and 2.2 s of CPU
    where two took up to 22 s).
    """
    cores = len(os.sched_getaffinity(0))
    try:
        busy = os.getloadavg()[0] - 1.0
    except OSError:  # no load average on this platform
        return cores
    return max(1, min(cores, round(cores - busy)))


class FreeCores:
    """Threads for the next generation, from the CPU time other processes used since
    the last reading: ``/proc/stat``'s busy time less this process's own CPU time,
    over the wall time between readings (Linux; elsewhere, and over less than half
    a second, no answer). Unlike the load average, it forgets a finished job at once.
    """

    def __init__(self) -> None:
        self.cores = len(os.sched_getaffinity(0))
        self._last = self.sample()

    @staticmethod
    def sample() -> tuple[float, float, float] | None:
        """``(busy CPU seconds of the machine, of this process, wall seconds)``."""
        try:
            with open("/proc/stat", encoding="ascii") as f:
                ticks = [int(x) for x in f.readline().split()[1:8]]
        except (OSError, ValueError):
            return None
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        own = sum(os.times()[:2])
        return busy, own, time.monotonic()

    def threads(self) -> int | None:
        now = self.sample()
        last = self._last
        if now is None or last is None or now[2] - last[2] < 0.5:
            return None
        self._last = now
        others = max(0.0, (now[0] - last[0]) - (now[1] - last[1])) / (now[2] - last[2])
        return max(1, min(self.cores, round(self.cores - others)))


class _StopOnText:
    """Stops a sequence once its generated text contains a stop string.

    Decodes only the generated tokens (a few dozen) at each step. Transformers'
    own ``stop_strings`` builds a table over the whole vocabulary on every
    call, which took 0.6 s of a 3 s answer with the default model on a CPU.
    """

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_len: int) -> None:
        self.tokenizer, self.stops, self.prompt_len = tokenizer, list(stops), prompt_len

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len:],
                                            skip_special_tokens=True)
        done = [any(s in t for s in self.stops) for t in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _cache_kw(cache: Any) -> dict[str, Any]:
    """A KV cache as generate()/forward() keyword: ``cache`` (transformers 5), else
    ``past_key_values``; nothing when there is none."""
    if cache is None:
        return {}
    import transformers

    major = int(transformers.__version__.split(".")[0])
    return {"cache" if major >= 5 else "past_key_values": cache}


def _from_pretrained(model_dir: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    except (OSError, ValueError, KeyError) as e:
        raise ModelError(f"cannot load a causal language model from {model_dir}: {e}") from e
    return tok, model


# Linear layers left in fp32 by the int8 path. Dynamic quantisation uses one
# activation scale per input matrix, and the inputs of the MLP down-projections
# hold a few very large values in models of this family, which flattens every
# other token's: quantising them cost 8.6 F1 points on 60 hotpotqa questions
# (39.8 against 48.4; fp32 also 48.4). The output head runs for one position.
# One activation scale per token instead (torch._int_mm) was measured too: the
# prompt ran in 1.65 s against 2.27 s, but 24 of 80 replies changed and musique
# F1 fell from 14.9 to 13.5 on 100 questions, so these layers stay in fp32.
INT8_SKIP = ("down_proj", "lm_head")


def _quantize_int8(model: Any) -> Any:
    """Dynamic int8: Linear weights quantised per output channel, activations at run time,
    except the layers named in :data:`INT8_SKIP`."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    layers = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not name.endswith(INT8_SKIP)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice for torchao
        return quantize_dynamic(model, layers, dtype=torch.qint8, inplace=True)  # no fp32 copy


def _converted(gguf: Path, *, key: str) -> Path:
    """A Transformers directory converted from ``gguf`` (once) under the cache.

    Written into a temporary directory and renamed into place, so a killed
    conversion leaves nothing half-written; a cache that cannot be written is
    a ModelError that says so.
    """
    from llm.model_files import cache_dir

    target = cache_dir() / "converted" / f"{gguf.stem}-{key}"
    if (target / _MARKER).is_file():
        return target
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.warning("converting %s to a Transformers directory (once; takes a few minutes)", gguf)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                         dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise ModelError(f"cannot load the GGUF file {gguf}: {e}") from e
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        try:
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config  # weights are plain fp32 now
            model.config.save_pretrained(tmp)
            model.generation_config.save_pretrained(tmp)
            save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            tok.save_pretrained(tmp)
            (tmp / _MARKER).write_text(f'{{"gguf": "{gguf.name}", "key": "{key}"}}\n')
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as e:
        if (target / _MARKER).is_file():  # another process finished it first
            return target
        raise ModelError(f"cannot write the converted model to {target}: {e}; "
                         "set KGQA_CACHE to a writable directory with 3 GB free") from e
    return target
