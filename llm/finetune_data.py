"""Training examples for a causal LM, tokenised: chat replies and plain text blocks.

Two kinds of example:

- :class:`ChatExample`: chat messages and the reply to learn. The prompt is
  built by :func:`llm.transformers_backend.prompt_parts`, the function
  generation uses, so the model learns exactly the text it is later given;
  the loss covers only the reply and its end-of-turn token::

      tokens  <|im_start|>system ... <|im_start|>assistant\\n  Kraków  <|im_end|>
      labels  -100 ...                                 -100  Kraków  <|im_end|>

- plain text (a corpus): documents joined with the end-of-text token and cut
  into blocks of ``max_length`` tokens, every token a target (continued
  pre-training, as in Transformers' ``run_clm.py``).

>>> ex = ChatExample(({"role": "user", "content": "2+2?"},), "4")   # doctest: +SKIP
>>> [t] = tokenize_chat(tokenizer, [ex], max_length=64).examples     # doctest: +SKIP
>>> sum(label != IGNORE for label in t.labels)   # "4" and the end-of-turn token  # doctest: +SKIP
2
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kgqa.errors import ConfigError
from llm.generator import ChatMessage

IGNORE = -100  # label of a position without loss (PyTorch cross_entropy's ignore_index)


@dataclass(frozen=True)
class ChatExample:
    """Chat messages (as ``build_messages`` makes them) and the assistant reply to learn."""

    messages: tuple[ChatMessage, ...]
    reply: str


@dataclass(frozen=True)
class TokenizedExample:
    """Token ids and their labels, same length; a label is the id itself or :data:`IGNORE`."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]

    @property
    def n_targets(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


@dataclass(frozen=True)
class Tokenized:
    """Tokenised examples, and how many examples were too long for ``max_length``."""

    examples: tuple[TokenizedExample, ...]
    too_long: int = 0


def end_token(tokenizer: Any) -> str:
    """The text that ends a reply: the tokenizer's end-of-sequence token (``<|im_end|>``)."""
    eos = tokenizer.eos_token
    if not eos:
        raise ConfigError("the tokenizer has no end-of-sequence token; give it one "
                          "(eos_token in tokenizer_config.json)")
    return str(eos)


def tokenize_chat(tokenizer: Any, examples: Iterable[ChatExample], max_length: int) -> Tokenized:
    """Prompt tokens (no loss) + reply tokens + end token (loss), per example.

    An example longer than ``max_length`` tokens is left out and counted in
    ``too_long``: cutting the prompt would teach answers from passages the
    model never saw.
    """
    from llm.transformers_backend import prompt_parts

    end = end_token(tokenizer)
    out: list[TokenizedExample] = []
    too_long = 0
    for ex in examples:
        prompt, _ = prompt_parts(tokenizer, ex.messages)
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        r_ids = tokenizer(ex.reply.strip() + end, add_special_tokens=False)["input_ids"]
        if len(p_ids) + len(r_ids) > max_length:
            too_long += 1
            continue
        out.append(TokenizedExample(tuple(p_ids) + tuple(r_ids),
                                    (IGNORE,) * len(p_ids) + tuple(r_ids)))
    return Tokenized(tuple(out), too_long)


def tokenize_texts(tokenizer: Any, texts: Iterable[str], max_length: int,
                   min_block: int = 16) -> Tokenized:
    """Texts joined by the end token and cut into blocks of ``max_length`` tokens.

    The last block may be shorter (it is kept when it has ``min_block`` tokens).
    Every token is a target.
    """
    end = end_token(tokenizer)
    stream: list[int] = []
    for text in texts:
        if text.strip():
            stream.extend(tokenizer(text.strip() + end, add_special_tokens=False)["input_ids"])
    blocks = [tuple(stream[i:i + max_length]) for i in range(0, len(stream), max_length)]
    return Tokenized(tuple(TokenizedExample(b, b) for b in blocks if len(b) >= min_block))


def collate(batch: Sequence[TokenizedExample], pad_id: int) -> dict[str, Any]:
    """Right-padded ``input_ids``, ``attention_mask``, ``labels``: each (batch, longest)."""
    import torch

    longest = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    labels = torch.full((len(batch), longest), IGNORE, dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        mask[i, :n] = 1
        labels[i, :n] = torch.tensor(e.labels)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
