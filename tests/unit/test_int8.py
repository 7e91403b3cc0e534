"""The CPU int8 path: which Linear layers are quantised (a tiny Qwen2 from its config)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from llm.transformers_backend import INT8_SKIP, _quantize_int8  # noqa: E402


def tiny_qwen2():
    config = transformers.AutoConfig.for_model(
        "qwen2", vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    torch.manual_seed(0)
    return transformers.AutoModelForCausalLM.from_config(config).eval()


def test_down_projections_and_head_stay_fp32_the_rest_is_int8():
    model = _quantize_int8(tiny_qwen2())
    kinds = {name: type(m) for name, m in model.named_modules()
             if isinstance(m, torch.nn.Linear)
             or (type(m).__name__ == "Linear" and "quantized" in type(m).__module__)}
    kept = sorted(n for n, t in kinds.items() if t is torch.nn.Linear)
    quantized = sorted(n for n, t in kinds.items() if t is not torch.nn.Linear)
    assert kept == sorted(n for n in kinds if n.endswith(INT8_SKIP))
    assert "lm_head" in kept and "model.layers.0.mlp.down_proj" in kept
    assert "model.layers.1.self_attn.q_proj" in quantized
    assert len(quantized) == 2 * 6  # q k v o, gate, up per layer


def test_int8_model_still_generates_like_fp32_on_a_short_prompt():
    ids = torch.tensor([[1, 5, 9, 14, 3]])
    with torch.inference_mode():
        ref = tiny_qwen2()(ids).logits
        got = _quantize_int8(tiny_qwen2())(ids).logits
    assert got.shape == ref.shape
    assert torch.nn.functional.cosine_similarity(got.flatten(), ref.flatten(), dim=0) > 0.99
