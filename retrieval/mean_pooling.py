"""A sentence-transformers model of the common shape, run with Transformers alone.

Most sentence-transformers models, the default all-MiniLM-L6-v2 among them,
are three modules: a Transformers encoder, mean pooling over the tokens, and
L2 normalisation (``modules.json``). :class:`MeanPoolingEncoder` runs exactly
that with ``transformers.AutoModel``, batching the texts as
``SentenceTransformer.encode`` does (longest first), so the vectors are the
same. Importing ``sentence_transformers`` pulls in scikit-learn, pandas,
pyarrow, PIL and more: 390 MB of memory and about 8 s of CPU on a small
machine, for code kgqa's queries never run. A directory of another shape
(a Dense layer, CLS pooling, a prompt) is left to sentence-transformers
(:func:`plain_mean_pooling` says which).

>>> enc = MeanPoolingEncoder.load(path, device="cpu")    # doctest: +SKIP
>>> enc.encode(["Who designed the Kestrel Station?"]).shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


def plain_mean_pooling(path: Path) -> bool:
    """Whether ``path`` is an encoder + mean pooling (+ normalisation) directory, no more."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        types = [m["type"] for m in modules]
        if types[:2] != [_TRANSFORMER, _POOLING] or types[2:] not in ([], [_NORMALIZE]):
            return False
        if modules[0].get("path", "") not in ("", "."):
            return False
        pooling = json.loads((path / modules[1]["path"] / "config.json").read_text("utf-8"))
        st_config = path / "config_sentence_transformers.json"
        if st_config.exists():
            extra = json.loads(st_config.read_text(encoding="utf-8"))
            if extra.get("prompts") or extra.get("default_prompt_name"):
                return False
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False
    modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    return set(modes) == {"pooling_mode_mean_tokens"}


class MeanPoolingEncoder:
    """Texts -> mean-pooled, L2-normalised vectors ``(n, dim)``, float32."""

    def __init__(self, tokenizer: Any, model: Any, max_seq_length: int, normalize: bool,
                 do_lower_case: bool = False) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        self.do_lower_case = do_lower_case

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> MeanPoolingEncoder:
        """Load the encoder of ``path`` (a directory :func:`plain_mean_pooling` accepts)."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        settings: dict[str, Any] = {}
        bert_config = path / "sentence_bert_config.json"
        if bert_config.exists():
            settings = json.loads(bert_config.read_text(encoding="utf-8"))
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModel.from_pretrained(path, dtype=torch.float32).to(device).eval()
        limit = settings.get("max_seq_length") or min(
            int(getattr(tokenizer, "model_max_length", 512) or 512),
            int(getattr(model.config, "max_position_embeddings", 512)))
        return cls(tokenizer, model, int(limit), normalize=len(modules) == 3,
                   do_lower_case=bool(settings.get("do_lower_case", False)))

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Vectors of ``texts`` in their order: ``(len(texts), dim)`` float32."""
        import torch

        texts = [t.strip() for t in texts]
        if self.do_lower_case:
            texts = [t.lower() for t in texts]
        order = np.argsort([-len(t) for t in texts], kind="stable")  # longest first
        out = np.zeros((len(texts), self.dim), dtype=np.float32)  # (n, dim)
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Embedding", unit="batch")
        with torch.inference_mode():
            for s in starts:
                idx = order[s : s + batch_size]
                enc = self.tokenizer([texts[i] for i in idx], padding=True,
                                     truncation="longest_first", return_tensors="pt",
                                     max_length=self.max_seq_length)
                enc = {k: v.to(self.device) for k, v in enc.items()}
                tokens = self.model(**enc).last_hidden_state  # (b, len, dim)
                mask = enc["attention_mask"].unsqueeze(-1).to(tokens.dtype)  # (b, len, 1)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (b, dim)
                if self.normalize:
                    pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.float().cpu().numpy()
        return out
