"""The int8 path's weights cache (``llm/int8.py``), on a tiny Qwen2 saved to disk.

What is read back must give the model quantised afresh, bit for bit, without
reading the fp32 weights it replaces; the output head runs in bfloat16.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from llm import int8  # noqa: E402
from llm.transformers_backend import INT8_SKIP, _quantize_int8  # noqa: E402

IDS = torch.tensor([[1, 5, 9, 14, 3, 7]])


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KGQA_CACHE", str(tmp_path / "cache"))
    config = transformers.AutoConfig.for_model(
        "qwen2", vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config).eval()
    model.save_pretrained(tmp_path / "model")
    return tmp_path / "model"


def fresh(model_dir):  # type: ignore[no-untyped-def]
    return transformers.AutoModelForCausalLM.from_pretrained(model_dir).eval()


def logits(model):  # type: ignore[no-untyped-def]
    with torch.inference_mode():
        return model(IDS).logits


def test_the_first_load_quantises_and_caches_later_loads_read_the_same_model(model_dir):
    path = int8.cache_file(model_dir, INT8_SKIP)
    assert not path.exists()
    first = int8.load_or_quantize(fresh(model_dir), model_dir, INT8_SKIP, _quantize_int8)
    assert path.is_file()

    def no_quantising(model):  # type: ignore[no-untyped-def]
        raise AssertionError("quantised again instead of reading the cache")

    again = int8.load_or_quantize(fresh(model_dir), model_dir, INT8_SKIP, no_quantising)
    assert torch.equal(logits(first), logits(again))
    assert len(int8.quantized_layers(again)) == 2 * 6  # q k v o gate up, per layer
    assert isinstance(again.model.layers[0].mlp.down_proj, torch.nn.Linear)  # kept in fp32
    assert again.lm_head.weight.dtype == torch.bfloat16


def test_the_replaced_fp32_weights_are_not_read(model_dir):
    reference = int8.load_or_quantize(fresh(model_dir), model_dir, INT8_SKIP, _quantize_int8)
    model = fresh(model_dir)
    with torch.no_grad():  # what the cache replaces may hold anything: it is never read
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and not name.endswith("down_proj"):
                module.weight.fill_(float("nan"))
    again = int8.apply(model, int8.cache_file(model_dir, INT8_SKIP))
    assert torch.equal(logits(reference), logits(again))


def test_the_bf16_head_takes_and_gives_float32_and_stays_close_to_fp32(model_dir):
    model = fresh(model_dir)
    ref = logits(model)
    got = logits(int8.to_bf16_head(model))
    assert got.dtype == torch.float32 and got.shape == ref.shape
    assert torch.allclose(got, ref, atol=0.05)
    assert torch.equal(got.argmax(-1), ref.argmax(-1))


def test_a_changed_model_or_a_damaged_file_quantises_anew(model_dir):
    path = int8.cache_file(model_dir, INT8_SKIP)
    int8.load_or_quantize(fresh(model_dir), model_dir, INT8_SKIP, _quantize_int8)
    assert int8.cache_file(model_dir, ("lm_head",)) != path  # another rule, another file
    path.write_bytes(b"not a safetensors file")
    calls = []

    def quantize(model):  # type: ignore[no-untyped-def]
        calls.append(1)
        return _quantize_int8(model)

    model = int8.load_or_quantize(fresh(model_dir), model_dir, INT8_SKIP, quantize)
    assert calls == [1] and len(int8.quantized_layers(model)) == 12
    assert int8.read_safetensors(path)  # written again, readable
