"""``kgqa finetune``: build examples -> evaluate -> train -> save -> evaluate again.

>>> from pipelines.finetune_config import load_config                 # doctest: +SKIP
>>> report = run_finetune(load_config("examples/finetune.yaml"))      # doctest: +SKIP
>>> report.outputs["model"], report.evals["demo"]["after"]["f1"]       # doctest: +SKIP
(PosixPath('finetuned/demo/model'), 31.2)

What lands in ``output_dir``:

- ``model/``: the fine-tuned model, LoRA merged into its weights, as a
  Transformers directory with its tokenizer: ``kgqa ask/eval/ui --model``
  and ``serve-llm --model`` load it like any other;
- ``adapter/``: the LoRA adapter alone (peft's ``adapter_config.json`` and
  ``adapter_model.safetensors``), a few MB, for peft users;
- ``synthetic.jsonl``: the generated question/answer pairs (synthetic task),
  each marked ``used`` when it became a training example;
- ``initial-model/``: a model built from a config, as initialised (what the
  "before" figures were measured on);
- ``report.json``: example counts, training figures (steps, tokens/s,
  loss, seconds) and EM/F1/ROUGE-L/BLEU per eval set, before and after;
- ``checkpoint/``: only while a run is unfinished (``--resume`` continues it).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgqa.errors import ConfigError
from pipelines.finetune_config import FinetuneConfig, ModelFromConfig

if TYPE_CHECKING:
    from llm.finetune_data import Tokenized
    from llm.finetune_train import Loaded, TrainResult
    from pipelines.kb import KnowledgeBase

OpenKB = Callable[[Path, bool], "KnowledgeBase"]


@dataclass(frozen=True)
class FinetuneReport:
    task: str
    counts: dict[str, int]  # examples made, and left out with the reason as key
    train: dict[str, Any] | None  # TrainResult as a dict; None with prepare_only
    evals: dict[str, dict[str, dict[str, float]]]  # eval set -> before/after -> metrics
    outputs: dict[str, str]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_open_kb(path: Path, create: bool) -> KnowledgeBase:
    from pipelines.kb import KnowledgeBase

    return KnowledgeBase.open(path, create=create)


def run_finetune(cfg: FinetuneConfig, *, resume: bool = False, overwrite: bool = False,
                 prepare_only: bool = False, open_kb: OpenKB = default_open_kb,
                 progress: bool = False, log: Callable[[str], None] | None = None,
                 on_step: Callable[[int, float], None] | None = None) -> FinetuneReport:
    """Run one fine-tuning job as configured; see the module docstring for its outputs.

    ``open_kb(path, create)`` opens a knowledge base (tests pass one on fakes).
    Raises ConfigError for settings that cannot work (an output_dir holding a
    model, a missing checkpoint for ``resume``, no usable example).
    """
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    out = cfg.output_dir
    if (out / "model").exists() and not (overwrite or resume or prepare_only):
        raise ConfigError(f"{out} already holds a fine-tuned model; choose another output_dir "
                          "or pass --overwrite")
    out.mkdir(parents=True, exist_ok=True)
    kbs = _KBs(open_kb)
    try:
        kb = kbs.get(cfg.data.kb, cfg.data.corpus, say)  # type: ignore[arg-type]
        chat, texts, counts = _examples(cfg, kb, say)
        if prepare_only:
            return _finish(cfg, counts, None, {}, {}, t0, say)
        from llm.finetune_data import tokenize_chat, tokenize_texts
        from llm.finetune_train import load_for_training

        loaded = load_for_training(_source(cfg), device=cfg.device, seed=cfg.seed)
        tok = (tokenize_chat(loaded.tokenizer, chat, cfg.max_length) if chat is not None
               else tokenize_texts(loaded.tokenizer, texts, cfg.max_length))
        counts["too_long"] = tok.too_long
        counts["training_examples"] = len(tok.examples)
        if not tok.examples:
            raise ConfigError(f"no training example fits max_length {cfg.max_length} tokens; "
                              "raise max_length")
        evals: dict[str, dict[str, dict[str, float]]] = {}
        if cfg.eval:
            cached = cfg.output_dir / "eval-before.json"
            labels = {e.label for e in cfg.eval}
            before = json.loads(cached.read_text()) if resume and cached.is_file() else {}
            if set(before) != labels:  # not measured yet when the run started
                before = _evaluate(cfg, _before_dir(cfg, loaded), kbs, say, "before")
                cached.write_text(json.dumps(before, indent=2) + "\n")
            evals = {name: {"before": metrics} for name, metrics in before.items()}
        result, outputs = _train_and_save(cfg, loaded, tok, resume, progress, on_step, say)
        del loaded
        gc.collect()
        if cfg.eval:
            for name, metrics in _evaluate(cfg, outputs["model"], kbs, say, "after").items():
                evals[name]["after"] = metrics
        return _finish(cfg, counts, result, evals, {k: str(v) for k, v in outputs.items()}, t0,
                       say)
    finally:
        kbs.close()


def _examples(cfg: FinetuneConfig, kb: KnowledgeBase, say: Callable[[str], None]
              ) -> tuple[list[Any] | None, list[str], dict[str, int]]:
    """(chat examples, or None for the corpus task; texts; counts)."""
    from pipelines.finetune_data import corpus_texts, qa_examples

    d = cfg.data
    if cfg.task == "corpus":
        texts = corpus_texts(kb, d.max_examples)
        say(f"corpus: {len(texts)} documents from {d.kb}")
        return None, texts, {"documents": len(texts)}
    if cfg.task == "qa":
        from pipelines.evaluate import load_questions

        questions = load_questions(d.questions)  # type: ignore[arg-type]
        made = qa_examples(kb, questions, passages=d.passages, mode=d.mode, top_k=d.top_k,
                           seed=cfg.seed, limit=d.max_examples)
    else:
        from pipelines.evaluate import Question
        from pipelines.synthetic import kb_relations, make_pairs, write_pairs

        rels = kb_relations(kb)
        entities = {e.id: e for e in kb.entities(None, limit=10_000_000)}
        pairs = make_pairs(rels, entities, seed=cfg.seed)
        say(f"synthetic: {len(pairs)} question/answer pairs from {len(rels)} relations")
        questions = [Question(p.id, p.question, p.answers, p.supporting_ids) for p in pairs]
        made = qa_examples(kb, questions, passages=d.passages, mode=d.mode, top_k=d.top_k,
                           seed=cfg.seed, limit=d.max_examples)
        path = cfg.output_dir / "synthetic.jsonl"
        write_pairs(pairs[:made.tried], path, used=set(made.used_ids))
        say(f"synthetic: wrote {made.tried} pairs to {path}")
    counts = {"questions": made.tried, "examples": len(made.examples),
              "no_answer_in_passages": made.no_answer_in_passages,
              "no_answers": made.no_answers}
    say(f"{cfg.task}: {len(made.examples)} examples from {made.tried} questions "
        f"({made.no_answer_in_passages} left out: no gold answer in the shown passages)")
    return list(made.examples), [], counts


def _source(cfg: FinetuneConfig) -> Any:
    from llm.finetune_train import ModelSource

    if isinstance(cfg.model, ModelFromConfig):
        return ModelSource(config=dict(cfg.model.config), tokenizer=cfg.model.tokenizer)
    return ModelSource(path=cfg.model_path)


def _before_dir(cfg: FinetuneConfig, loaded: Loaded) -> Path | None:
    """The directory the "before" figures load: the base model's, or the initial weights
    of a model built from a config (saved once to ``initial-model/``)."""
    if not isinstance(cfg.model, ModelFromConfig):
        from llm.transformers_backend import model_directory

        return model_directory(cfg.model_path)
    from llm.finetune_train import save_model_dir

    target = cfg.output_dir / "initial-model"
    if not (target / "config.json").is_file():
        save_model_dir(loaded.model, loaded.tokenizer, target,
                       {"initialised_from": cfg.model.config, "seed": cfg.seed})
    return target


def _train_and_save(cfg: FinetuneConfig, loaded: Loaded, tok: Tokenized, resume: bool,
                    progress: bool, on_step: Callable[[int, float], None] | None,
                    say: Callable[[str], None]) -> tuple[TrainResult, dict[str, Path]]:
    import shutil

    from llm.finetune_train import LoraSpec, TrainSettings, prepare, save_outputs, train

    lora = None if cfg.method == "full" else LoraSpec(
        cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout, tuple(cfg.lora.target_modules))
    settings = TrainSettings(
        batch_size=cfg.batch_size, num_epochs=cfg.num_epochs, learning_rate=cfg.learning_rate,
        warmup_ratio=cfg.warmup_ratio, weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm, save_steps=cfg.save_steps, seed=cfg.seed, lora=lora,
        gradient_checkpointing=cfg.gradient_checkpointing)
    model = prepare(loaded, settings)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_all = sum(p.numel() for p in model.parameters())
    say(f"training {loaded.name} ({cfg.method}: {n_train:,} of {n_all:,} parameters) on "
        f"{loaded.device}/{loaded.precision}: {len(tok.examples)} examples, "
        f"{cfg.num_epochs} epoch(s), batch {cfg.batch_size}")
    checkpoint = cfg.output_dir / "checkpoint"
    result = train(model, loaded, tok.examples, settings, checkpoint_dir=checkpoint,
                   resume=resume, fingerprint=cfg.training_keys(), progress=progress,
                   on_step=on_step)
    say(f"trained {result.steps - result.resumed_at} steps in {result.seconds:.1f}s: "
        f"{result.tokens_per_s:.0f} tokens/s, loss {result.first_loss:.3f} -> "
        f"{result.last_loss:.3f}")
    info = {"base_model": str(cfg.model_path or (cfg.model if isinstance(cfg.model, str)
                                                 else "from config")),
            "task": cfg.task, "method": cfg.method, "settings": cfg.training_keys()}
    outputs = save_outputs(model, loaded, cfg.output_dir, info)
    shutil.rmtree(checkpoint, ignore_errors=True)  # the run is complete
    return result, outputs


class _KBs:
    """Knowledge bases opened once each, by resolved path, closed together."""

    def __init__(self, open_kb: OpenKB) -> None:
        self.open_kb = open_kb
        self.open: dict[Path, KnowledgeBase] = {}

    def get(self, path: Path, corpus: tuple[Path, ...], say: Callable[[str], None]
            ) -> KnowledgeBase:
        key = path.expanduser().resolve()
        if key not in self.open:
            self.open[key] = self.open_kb(path, bool(corpus))
        kb = self.open[key]
        if corpus:
            report = kb.ingest(list(corpus))
            say(f"{path}: {report.documents_added} documents added, "
                f"{report.documents_unchanged} unchanged")
        return kb

    def close(self) -> None:
        for kb in self.open.values():
            kb.close()


def _evaluate(cfg: FinetuneConfig, model_dir: Path | None, kbs: _KBs,
              say: Callable[[str], None], when: str) -> dict[str, dict[str, float]]:
    from llm.generator import open_generator
    from pipelines.evaluate import evaluate_answers, load_questions

    results: dict[str, dict[str, float]] = {}
    gens: dict[str, Any] = {}
    for e in cfg.eval_sets():
        kb = kbs.get(e.kb, e.corpus if when == "before" else (), say)  # type: ignore[arg-type]
        questions = load_questions(e.questions)
        if e.limit:
            questions = questions[: e.limit]
        if e.precision not in gens:
            gens[e.precision] = open_generator(model_dir, device=cfg.device,
                                               precision=e.precision)
        t = time.perf_counter()
        metrics = evaluate_answers(kb, questions, e.mode, gens[e.precision])
        metrics["questions"] = len(questions)
        results[e.label] = metrics
        say(f"eval {when} {e.label}: " + _metric_line(metrics) +
            f" ({len(questions)} questions, {time.perf_counter() - t:.0f}s)")
    gens.clear()
    gc.collect()
    return results


def _metric_line(m: dict[str, float]) -> str:
    return " ".join(f"{k} {m[k]:.1f}" for k in ("em", "f1", "rouge_l", "bleu") if k in m)


def _finish(cfg: FinetuneConfig, counts: dict[str, int], result: TrainResult | None,
            evals: dict[str, dict[str, dict[str, float]]], outputs: dict[str, str], t0: float,
            say: Callable[[str], None]) -> FinetuneReport:
    report = FinetuneReport(cfg.task, counts, asdict(result) if result else None, evals,
                            outputs, time.perf_counter() - t0)
    path = cfg.output_dir / "report.json"
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    return report


def format_report(report: FinetuneReport) -> str:
    """The report as a few lines of text (what ``kgqa finetune`` prints at the end)."""
    lines = [f"task {report.task}: " + ", ".join(f"{k} {v}" for k, v in report.counts.items())]
    t = report.train
    if t:
        lines.append(
            f"trained {t['steps'] - t['resumed_at']} steps on {t['device']}/{t['precision']} "
            f"in {t['seconds']:.1f}s: {t['tokens_per_s']:.0f} tokens/s, "
            f"loss {t['first_loss']:.3f} -> {t['last_loss']:.3f}")
    for name, runs in report.evals.items():
        lines.append(f"eval {name}:")
        lines.append(f"  {'':8}{'before':>9}{'after':>9}")
        for k in ("em", "f1", "rouge_l", "bleu"):
            b, a = runs.get("before", {}).get(k), runs.get("after", {}).get(k)
            lines.append(f"  {k:8}{_num(b):>9}{_num(a):>9}")
    if "model" in report.outputs:
        lines.append(f"model: {report.outputs['model']}  (use: kgqa ask --model "
                     f"{report.outputs['model']} ...)")
    if "adapter" in report.outputs:
        lines.append(f"LoRA adapter: {report.outputs['adapter']}")
    lines.append(f"total {report.seconds:.1f}s")
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


__all__ = ["FinetuneReport", "format_report", "run_finetune"]
