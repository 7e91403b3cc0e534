"""The settings of ``kgqa finetune``: one YAML file, validated into a typed, frozen object.

A worked example with every key and its default is ``examples/finetune.yaml``;
the smallest useful file is::

    task: synthetic
    data: {kb: .kb/demo}
    output_dir: finetuned/demo

>>> cfg = parse_config({"task": "corpus", "data": {"kb": "kb"}, "output_dir": "out"})
>>> cfg.method, cfg.lora.r, cfg.batch_size, cfg.model
('lora', 8, 4, 'default')
>>> parse_config({"task": "corpus", "data": {"kb": "kb"}, "output_dir": "out", "epochs": 2})
Traceback (most recent call last):
...
kgqa.errors.ConfigError: config: unknown key 'epochs' (did you mean 'num_epochs'?)

Relative paths are relative to the current directory, as on the command line.
Every error is a :class:`ConfigError` that names the key (``data.kb``,
``lora.r``, ``eval[0].questions``) and what is wrong with it.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from kgqa.errors import ConfigError

TASKS = ("qa", "corpus", "synthetic")
# Every Linear layer of a Qwen2/Llama-style block: attention and MLP.
DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                          "down_proj")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoraSettings(_Strict):
    """LoRA (Hu et al. 2021) through the ``peft`` library: ``W + (alpha / r) * B @ A``."""

    r: Annotated[int, Field(gt=0)] = 8  # rank of the update matrices
    alpha: Annotated[int, Field(gt=0)] = 16  # the update is scaled by alpha / r
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.05  # dropout on the adapter's input
    # names of the Linear layers to adapt
    target_modules: Annotated[tuple[str, ...], Field(min_length=1)] = DEFAULT_TARGET_MODULES


class ModelFromConfig(_Strict):
    """A new model whose weights are initialised at random (from ``seed``) from a config.

    ``config`` holds Transformers config keys, ``model_type`` among them (e.g.
    ``qwen2``); ``vocab_size`` defaults to the tokenizer's size. ``tokenizer``
    is ``default`` (the default model's) or a tokenizer or model directory.
    """

    config: dict[str, Any]
    tokenizer: str = "default"

    @model_validator(mode="after")
    def _has_model_type(self) -> ModelFromConfig:
        if not isinstance(self.config.get("model_type"), str):
            raise ValueError("model.config needs a model_type, e.g. qwen2")
        return self


def _model_kind(value: Any) -> str:
    return "config" if isinstance(value, dict | ModelFromConfig) else "path"


# ``default``, a path, or a {config, tokenizer} mapping; errors come from the one form given
ModelSpec = Annotated[
    Annotated[str, Tag("path")] | Annotated[ModelFromConfig, Tag("config")],
    Discriminator(_model_kind),
]


class _WithCorpus(_Strict):
    """A section with a ``corpus`` key: one path is read as a list of one."""

    @model_validator(mode="before")
    @classmethod
    def _one_corpus(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("corpus"), str):
            return {**data, "corpus": [data["corpus"]]}
        return data


class DataSettings(_WithCorpus):
    """Where the training examples come from (see the tasks in ``pipelines/finetune_data.py``)."""

    kb: Path | None = None
    corpus: tuple[Path, ...] = ()
    questions: Path | None = None
    passages: Literal["retrieved", "gold"] = "retrieved"
    mode: Literal["vector", "lexical", "graph", "hybrid"] = "hybrid"
    top_k: Annotated[int, Field(gt=0)] = 5
    max_examples: Annotated[int, Field(ge=0)] = 0


class EvalSet(_WithCorpus):
    """Questions with gold ``answers`` to score the model on, before and after training."""

    questions: Path
    kb: Path | None = None  # default: data.kb
    corpus: tuple[Path, ...] = ()  # ingested into kb first, as `kgqa eval --corpus` does
    name: str | None = None  # default: the questions path
    mode: Literal["vector", "lexical", "graph", "hybrid"] = "hybrid"
    limit: Annotated[int, Field(ge=0)] = 0
    precision: Literal["auto", "fp32", "int8", "bf16"] = "auto"

    @property
    def label(self) -> str:
        return self.name or str(self.questions)


class FinetuneConfig(_Strict):
    """Every setting of one fine-tuning run (see ``examples/finetune.yaml``)."""

    model: ModelSpec = "default"
    task: Literal["qa", "corpus", "synthetic"]
    data: DataSettings = DataSettings()
    output_dir: Path
    batch_size: Annotated[int, Field(gt=0)] = 4
    num_epochs: Annotated[int, Field(gt=0)] = 1
    learning_rate: Annotated[float, Field(gt=0)] = 2e-4
    max_length: Annotated[int, Field(ge=16)] = 512
    method: Literal["lora", "full"] = "lora"
    lora: LoraSettings = LoraSettings()
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.1
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    max_grad_norm: Annotated[float, Field(ge=0)] = 1.0
    save_steps: Annotated[int, Field(ge=0)] = 50
    gradient_checkpointing: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"
    seed: int = 0
    eval: tuple[EvalSet, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _one_eval_set(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("eval"), dict):
            return {**data, "eval": [data["eval"]]}
        return data

    @model_validator(mode="after")
    def _task_needs(self) -> FinetuneConfig:
        if self.data.kb is None:
            raise _KeyError("data.kb", f"the {self.task} task needs a knowledge base")
        if self.task == "qa" and self.data.questions is None:
            raise _KeyError("data.questions", "the qa task needs a questions JSONL with answers")
        if self.task != "qa" and self.data.questions is not None:
            raise _KeyError("data.questions", f"only the qa task reads questions, not {self.task}")
        return self

    @property
    def model_path(self) -> Path | None:
        """The model directory or ``.gguf`` file; None for the default or a config model."""
        if isinstance(self.model, ModelFromConfig) or self.model == "default":
            return None
        return Path(self.model).expanduser()

    def eval_sets(self) -> list[EvalSet]:
        """The eval sets with ``kb`` filled in from ``data.kb`` where left out."""
        return [e if e.kb is not None else e.model_copy(update={"kb": self.data.kb})
                for e in self.eval]

    def training_keys(self) -> dict[str, Any]:
        """The settings a checkpoint must share with the run that resumes it."""
        keys = ("model", "task", "data", "batch_size", "num_epochs", "learning_rate",
                "max_length", "method", "lora", "warmup_ratio", "weight_decay", "max_grad_norm",
                "seed")
        dumped = self.model_dump(mode="json")
        return {k: dumped[k] for k in keys}


class _KeyError(ValueError):
    """A cross-key problem, raised inside validation and reported with its key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def parse_config(raw: Any, source: str = "config") -> FinetuneConfig:
    """Validate a mapping (parsed YAML) into a :class:`FinetuneConfig`; ConfigError if bad."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        return FinetuneConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{source}: " + "; ".join(_describe(err) for err in e.errors())) from e


def load_config(path: str | Path) -> FinetuneConfig:
    """Read and validate a YAML config file (PyYAML's safe loader)."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config ({e.strerror or e})") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from e
    return parse_config(raw, source=str(path))


def _describe(err: Any) -> str:
    """One pydantic error as ``'key.path': message``, with a did-you-mean for unknown keys."""
    loc = [str(p) for p in err.get("loc", ())]
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), _KeyError):
        return f"{ctx['error'].key}: {str(ctx['error']).split(': ', 1)[1]}"
    key = _dotted(loc)
    if isinstance(ctx.get("error"), ValueError):
        return f"{key}: {ctx['error']}"
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(known)})"
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return f"missing key {key!r}"
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"{key}: {err.get('msg', 'invalid')}{shown}"


def _dotted(loc: list[str]) -> str:
    """``['eval', '0', 'questions']`` -> ``eval[0].questions``; union branches dropped."""
    if loc[:1] == ["model"] and len(loc) > 1 and loc[1] in ("path", "config"):
        loc = ["model", *loc[2:]]  # drop the tag of the form of `model` given
    out = ""
    for part in loc:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


_NESTED: dict[str, type[BaseModel]] = {
    "data": DataSettings, "lora": LoraSettings, "eval": EvalSet, "model": ModelFromConfig,
}


def _known_keys(loc: list[str]) -> list[str]:
    """The keys allowed at ``loc`` (a path of field names and list indices)."""
    model: type[BaseModel] = FinetuneConfig
    if loc[:1] == ["model"] and len(loc) > 1 and loc[1] in ("path", "config"):
        loc = ["model", *loc[2:]]
    for part in loc:
        if part.isdigit():
            continue
        nested = _NESTED.get(part)
        if nested is None:
            break
        model = nested
    return list(model.model_fields)
