"""`kgqa finetune` end to end on a tiny Qwen2-shaped model initialised from a config.

The config tests are fast; the training tests are marked ``slow`` (about 40 s
together on two busy cores, a quarter of it importing torch and Transformers).

The knowledge base runs on the hash embedder and the verb-relation fake
extractor; the model, tokenizer, LoRA, training loop, checkpoints, saving,
reloading through the generator factory and the evaluation are the real ones.
"""

from __future__ import annotations

import json

import pytest

from kgqa.errors import ConfigError
from pipelines.finetune_config import load_config, parse_config
from tests.conftest import ROOT
from tests.fakes_llm import TINY_CONFIG, tiny_tokenizer

DOCS = {
    "acme.md": "# Acme Robotics\n\nAda Okafor founded Acme Robotics in Porto in 2011. "
               "Acme Robotics builds weather stations for farms.",
    "kestrel.md": "# Kestrel Station\n\nBen Lund designed the Kestrel Station. "
                  "The Kestrel Station measures rain and wind on hilltops.",
    "ben.md": "# Ben Lund\n\nBen Lund joined Acme Robotics in 2014. Ben Lund studied in Oslo.",
    "chioma.md": "# Chioma Eze\n\nChioma Eze leads the Firmware team. "
                 "Chioma Eze flew to Perth for the launch.",
    "nimbus.md": "# Nimbus Cloud\n\nDmitri Volkov designed Nimbus Cloud. "
                 "Nimbus Cloud stores the readings of every station.",
}
QUESTIONS = [
    ("q1", "Who founded Acme Robotics?", ["Ada Okafor"], ["acme.md"]),
    ("q2", "Who designed the Kestrel Station?", ["Ben Lund"], ["kestrel.md"]),
    ("q3", "Where did Ben Lund study?", ["Oslo"], ["ben.md"]),
    ("q4", "Which team does Chioma Eze lead?", ["Firmware"], ["chioma.md"]),
    ("q5", "Who designed Nimbus Cloud?", ["Dmitri Volkov"], ["nimbus.md"]),
    ("q6", "What does Nimbus Cloud store?", ["the readings of every station"], ["nimbus.md"]),
]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tok")
    tiny_tokenizer(folder, list(DOCS.values()) + [q for _, q, _, _ in QUESTIONS])
    return folder


@pytest.fixture
def setup(tmp_path, tokenizer_dir):
    """A knowledge base of DOCS, a questions file, a KB opener and a config builder."""
    from pipelines.ingest import IngestOptions
    from pipelines.kb import KnowledgeBase
    from retrieval.embed import HashEmbedder
    from tests.fakes import VerbExtractor

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    kb_dir = tmp_path / "kb"

    def open_kb(path, create):
        return KnowledgeBase.open(path, embedder=HashEmbedder(64), extractor=VerbExtractor(),
                                  create=create)

    with open_kb(kb_dir, True) as kb:
        kb.ingest([docs], options=IngestOptions(progress=False))
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(
        json.dumps({"id": i, "question": q, "answers": a, "supporting_ids": s}) + "\n"
        for i, q, a, s in QUESTIONS), encoding="utf-8")

    def config(task, **over):
        raw = {"model": {"config": TINY_CONFIG, "tokenizer": str(tokenizer_dir)}, "task": task,
               "data": {"kb": str(kb_dir), "top_k": 3}, "output_dir": str(tmp_path / "out"),
               "batch_size": 2, "num_epochs": 2, "learning_rate": 1e-2, "max_length": 512,
               "warmup_ratio": 0.0, "save_steps": 0, "method": "full", "seed": 1}
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(raw.get(key), dict):
                raw[key] = {**raw[key], **value}
            else:
                raw[key] = value
        return parse_config(raw)

    return {"open_kb": open_kb, "config": config, "questions": questions, "kb": kb_dir,
            "tmp": tmp_path}


def run(setup, cfg, **kw):
    from pipelines.finetune import run_finetune

    return run_finetune(cfg, open_kb=setup["open_kb"], log=lambda m: None, **kw)


# -- config -----------------------------------------------------------------------------

BASE = {"task": "corpus", "data": {"kb": "kb"}, "output_dir": "out"}


@pytest.mark.parametrize(("raw", "message"), [
    ({**BASE, "epochs": 2}, "unknown key 'epochs' (did you mean 'num_epochs'?)"),
    ({**BASE, "lora": {"rank": 4}}, "unknown key 'lora.rank' (known keys: r, alpha"),
    ({**BASE, "data": {"kb": "kb", "topk": 3}}, "unknown key 'data.topk' (did you mean 'top_k'?)"),
    ({"task": "corpus", "data": {"kb": "kb"}}, "missing key 'output_dir'"),
    ({**BASE, "lora": {"r": 0}}, "lora.r: Input should be greater than 0 (got 0)"),
    ({**BASE, "task": "summarise"}, "task: Input should be 'qa', 'corpus' or 'synthetic'"),
    ({**BASE, "method": "qlora"}, "method: Input should be 'lora' or 'full'"),
    ({**BASE, "task": "qa"}, "data.questions: the qa task needs a questions JSONL"),
    ({**BASE, "data": {}}, "data.kb: the corpus task needs a knowledge base"),
    ({**BASE, "model": {"config": {"hidden_size": 8}}}, "model.config needs a model_type"),
    ({**BASE, "model": {"config": {"model_type": "qwen2"}, "tokenzier": "x"}},
     "unknown key 'model.tokenzier' (did you mean 'tokenizer'?)"),
    ({**BASE, "eval": [{"question": "q.jsonl"}]},
     "unknown key 'eval[0].question' (did you mean 'questions'?)"),
    ([1, 2], "expected a mapping of keys"),
])
def test_config_errors_name_the_key(raw, message):
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert message in str(e.value)


def test_config_file_errors_and_the_examples(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: qa\n  data: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    example = load_config(ROOT / "examples" / "finetune.yaml")
    assert example.method == "lora" and example.lora.r > 0 and example.eval
    tiny = load_config(ROOT / "examples" / "finetune-tiny.yaml")
    assert tiny.model.config["model_type"] == "qwen2" and tiny.task == "corpus"


def test_cli_reports_a_bad_config_with_its_key(tmp_path, capsys):
    from pipelines.cli import main

    cfg = tmp_path / "ft.yaml"
    cfg.write_text("task: corpus\ndata: {kb: kb}\noutput_dir: out\nlearning_rat: 0.1\n")
    assert main(["finetune", "--config", str(cfg)]) == 1
    assert "unknown key 'learning_rat' (did you mean 'learning_rate'?)" in capsys.readouterr().err


# -- prompts and labels ---------------------------------------------------------------------


@pytest.mark.slow  # loads torch and Transformers: ~10 s for the first
def test_qa_prompt_is_the_ask_prompt_and_only_the_answer_has_loss(tokenizer_dir):
    from transformers import AutoTokenizer

    from llm.finetune_data import IGNORE, ChatExample, tokenize_chat
    from llm.grounding import build_messages
    from llm.transformers_backend import prompt_parts
    from tests.fakes_llm import make_hit

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    hits = [make_hit(DOCS["acme.md"], doc_id="acme.md", title="Acme Robotics")]
    messages = build_messages("Who founded Acme Robotics?", hits)
    [ex] = tokenize_chat(tok, [ChatExample(tuple(messages), "Ada Okafor")], 512).examples
    n_prompt = ex.labels.index(next(x for x in ex.labels if x != IGNORE))
    assert tok.decode(ex.input_ids[:n_prompt]) == prompt_parts(tok, messages)[0]
    assert all(x == IGNORE for x in ex.labels[:n_prompt])
    assert tok.decode([x for x in ex.labels if x != IGNORE]) == "Ada Okafor<|im_end|>"
    short = tokenize_chat(tok, [ChatExample(tuple(messages), "Ada Okafor")], n_prompt)
    assert short.examples == () and short.too_long == 1


# -- the three tasks ------------------------------------------------------------------------


@pytest.mark.slow
def test_qa_task_trains_saves_and_the_model_loads_through_the_factory(setup):
    from llm.generator import open_generator

    cfg = setup["config"]("qa", data={"questions": str(setup["questions"]), "passages": "gold"},
                          num_epochs=6,
                          eval=[{"questions": str(setup["questions"]), "limit": 3,
                                 "precision": "fp32", "name": "demo"}])
    report = run(setup, cfg)
    assert report.counts["examples"] == 6 and report.counts["no_answer_in_passages"] == 0
    train = report.train
    assert train["steps"] == 18 and train["tokens"] > 0 and train["tokens_per_s"] > 0
    assert train["last_loss"] < train["first_loss"] - 1.0  # it learns the six answers
    for when in ("before", "after"):
        assert {"em", "f1", "rouge_l", "bleu"} <= set(report.evals["demo"][when])
    out = cfg.output_dir
    saved = json.loads((out / "report.json").read_text())
    assert saved["evals"]["demo"]["after"]["questions"] == 3
    assert not (out / "checkpoint").exists()  # a finished run keeps no checkpoint
    gen = open_generator(out / "model", precision="fp32")
    text = gen.generate([{"role": "user", "content": "Who founded Acme Robotics?"}],
                        max_new_tokens=4)
    assert isinstance(text, str) and gen.device == "cpu"
    with pytest.raises(ConfigError, match="already holds a fine-tuned model"):
        run(setup, cfg)


@pytest.mark.slow
def test_corpus_task_with_lora_saves_an_adapter_that_matches_the_merged_model(setup):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    cfg = setup["config"]("corpus", method="lora", max_length=32,
                          lora={"r": 4, "alpha": 8, "dropout": 0.0,
                                "target_modules": ["q_proj", "v_proj", "down_proj"]},
                          eval=[{"questions": str(setup["questions"]), "limit": 1,
                                 "precision": "fp32"}])
    report = run(setup, cfg)
    assert report.counts["documents"] == len(DOCS)
    assert report.train["trainable_params"] < report.train["total_params"] / 10
    out = cfg.output_dir
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["r"] == 4
    base = AutoModelForCausalLM.from_pretrained(out / "initial-model")
    with_adapter = PeftModel.from_pretrained(base, out / "adapter").eval()
    merged = AutoModelForCausalLM.from_pretrained(out / "model").eval()
    ids = torch.tensor([[5, 17, 42, 99, 7, 300]])
    with torch.no_grad():
        a, b = with_adapter(input_ids=ids).logits, merged(input_ids=ids).logits
        initial = AutoModelForCausalLM.from_pretrained(out / "initial-model")(input_ids=ids).logits
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(initial, b, atol=1e-3)  # training changed the model


@pytest.mark.slow
def test_synthetic_task_writes_natural_questions_for_a_person_to_read(setup):
    cfg = setup["config"]("synthetic", data={"passages": "gold"}, num_epochs=1)
    report = run(setup, cfg)
    rows = [json.loads(x) for x in (cfg.output_dir / "synthetic.jsonl").open()]
    by_question = {r["question"]: r for r in rows}
    assert by_question["Who founded Acme Robotics?"]["answers"] == ["Ada Okafor"]
    assert by_question["Which organisation did Ada Okafor found?"]["answers"] == ["Acme Robotics"]
    assert by_question["Who leads Firmware?"]["answers"] == ["Chioma Eze"]
    assert by_question["Where did Chioma Eze fly?"]["relation"] == ["Chioma Eze", "fly to",
                                                                    "Perth"]
    assert all(set(r) >= {"id", "question", "answers", "supporting_ids", "evidence", "used"}
               for r in rows)
    assert report.counts["examples"] == sum(r["used"] for r in rows) > 0
    assert report.train["steps"] > 0


@pytest.mark.slow
def test_prepare_only_writes_the_pairs_and_trains_nothing(setup):
    cfg = setup["config"]("synthetic", data={"max_examples": 2})
    report = run(setup, cfg, prepare_only=True)
    assert report.train is None and report.counts["examples"] == 2
    assert (cfg.output_dir / "synthetic.jsonl").is_file()
    assert not (cfg.output_dir / "model").exists()


# -- resume ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_weights(setup):
    from safetensors.torch import load_file

    def cfg(name, **over):
        return setup["config"]("qa", data={"questions": str(setup["questions"]),
                                           "passages": "gold"},
                               output_dir=str(setup["tmp"] / name), num_epochs=2,
                               method="lora", lora={"dropout": 0.1}, save_steps=2, **over)

    run(setup, cfg("straight"))

    def stop_at_3(step, loss):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(setup, cfg("resumed"), on_step=stop_at_3)
    state = json.loads((setup["tmp"] / "resumed" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 3
    with pytest.raises(ConfigError, match="--resume"):
        run(setup, cfg("resumed"))
    with pytest.raises(ConfigError, match="learning_rate differ"):
        run(setup, cfg("resumed", learning_rate=0.5), resume=True)
    report = run(setup, cfg("resumed"), resume=True)
    assert report.train["resumed_at"] == 3 and report.train["steps"] == 6
    a = load_file(str(setup["tmp"] / "straight" / "model" / "model.safetensors"))
    b = load_file(str(setup["tmp"] / "resumed" / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all((a[k] - b[k]).abs().max() < 1e-6 for k in a)
    with pytest.raises(ConfigError, match="no checkpoint"):
        run(setup, cfg("never-started"), resume=True)


def test_the_base_answers_with_kgqa_model_as_ask_and_ui_do(fake_kb, tmp_path, monkeypatch):
    monkeypatch.setenv("KGQA_MODEL", str(tmp_path / "finetuned" / "model"))
    gen = fake_kb.generator  # nothing loads until the first answer
    assert gen.model_path == tmp_path / "finetuned" / "model"
