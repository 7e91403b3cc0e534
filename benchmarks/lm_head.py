"""The default model's output head in fp32, bfloat16 or int8: same replies? how fast?

    .venv/bin/python benchmarks/lm_head.py --kb DIR [-n 36]

The head (``lm_head``, 151,936 x 896) is 545 MB in fp32 and every row of it is
read for every generated token, so its precision is a memory question. For the
first N prompts of the demo (the 24 questions of ``demo/questions.jsonl``, the
48 of ``questions_dev.jsonl``, then the 12 rewritten follow-ups of
``followups.jsonl``), with the passages hybrid retrieval gives them, the reply
is generated greedily (32 tokens at most, as ``kgqa ask`` does) with each
head in turn on the same int8 model; printed: how many replies equal the fp32
head's, seconds per reply, and the replies that differ. ``DIR`` is a base
built from ``demo/corpus``.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kb", type=Path, default=ROOT / ".kb" / "demo")
    ap.add_argument("-n", type=int, default=36, help="prompts")
    args = ap.parse_args()

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from llm.grounding import build_messages
    from llm.int8 import bf16_linear
    from llm.transformers_backend import TransformersGenerator, _from_pretrained, _quantize_int8
    from pipelines.kb import KnowledgeBase
    from pipelines.qa import QAConfig, distinct_passages

    kb = KnowledgeBase.open(args.kb, create=False)
    questions = [json.loads(x)["question"] for name in ("questions.jsonl", "questions_dev.jsonl")
                 for x in (ROOT / "demo" / name).open()]
    questions += [json.loads(x)["followup"]["rewritten"]
                  for x in (ROOT / "demo" / "followups.jsonl").open()]
    cfg = QAConfig()
    prompts = [build_messages(q, distinct_passages(kb.search(q, top_k=5), 5), cfg.prompt)
               for q in questions[: args.n]]

    gen = TransformersGenerator(precision="fp32")  # quantised here, the fp32 head kept
    tok, model = _from_pretrained(gen._resolve_dir())
    tok.padding_side = "left"
    model = _quantize_int8(model.eval())
    gen._tokenizer, gen._model, gen.device, gen.precision = tok, model, "cpu", "int8"
    fp32 = model.lm_head
    holder = torch.nn.Sequential(fp32)
    heads = {
        "fp32": fp32,
        "bf16": bf16_linear(fp32),
        "int8": quantize_dynamic(holder, {"0": per_channel_dynamic_qconfig}, dtype=torch.qint8)[0],
    }
    replies: dict[str, list[str]] = {k: [] for k in heads}
    seconds = dict.fromkeys(heads, 0.0)
    for i, messages in enumerate(prompts):
        for name, head in heads.items():
            model.lm_head = head
            t = time.perf_counter()
            replies[name].append(gen.generate(messages, max_new_tokens=cfg.max_new_tokens,
                                              stop=cfg.stop))
            seconds[name] += time.perf_counter() - t
        print(i, [replies[k][-1] for k in heads], file=sys.stderr, flush=True)
    out = {
        name: {"same_as_fp32": sum(a == b for a, b in zip(replies["fp32"], replies[name],
                                                          strict=True)),
               "seconds_per_reply": round(seconds[name] / len(prompts), 2)}
        for name in heads
    }
    out["prompts"] = len(prompts)  # type: ignore[assignment]
    out["differ"] = [  # type: ignore[assignment]
        {"question": questions[i], **{k: replies[k][i] for k in heads}}
        for i in range(len(prompts)) if len({replies[k][i] for k in heads}) > 1
    ]
    out["load_average"] = os.getloadavg()  # type: ignore[assignment]
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
