"""A scripted generator and hit builders for fast tests of the answering layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from kgqa.types import Chunk, Hit
from llm.generator import Messages, check_messages, cut_at_stop, stream_until_stop

Reply = str | Sequence[str] | Callable[[list[dict[str, str]]], str]


class ScriptedGenerator:
    """Replies from a script: one fixed string, a list used in turn, or a function.

    Every call's messages are kept in ``calls``; ``stream`` yields the reply in
    pieces of ``piece`` characters, so stop strings straddle pieces.
    """

    name = "fake:scripted"

    def __init__(self, reply: Reply = "NOT FOUND", piece: int = 3) -> None:
        self.reply = reply
        self.piece = piece
        self.calls: list[list[dict[str, str]]] = []
        self._turn = 0

    def _next(self, messages: Messages) -> str:
        msgs = [dict(m) for m in check_messages(messages)]
        self.calls.append(msgs)
        if callable(self.reply):
            return self.reply(msgs)
        if isinstance(self.reply, str):
            return self.reply
        text = self.reply[min(self._turn, len(self.reply) - 1)]
        self._turn += 1
        return text

    def generate(self, messages: Messages, *, max_new_tokens: int = 48,
                 stop: Sequence[str] | None = None) -> str:
        return cut_at_stop(self._next(messages), stop)

    def stream(self, messages: Messages, *, max_new_tokens: int = 48,
               stop: Sequence[str] | None = None) -> Iterator[str]:
        text = self._next(messages)
        pieces = (text[i:i + self.piece] for i in range(0, len(text), self.piece))
        yield from stream_until_stop(pieces, stop)

    def generate_batch(self, batch: Sequence[Messages], *, max_new_tokens: int = 48,
                       stop: Sequence[str] | None = None) -> list[str]:
        return [self.generate(m, max_new_tokens=max_new_tokens, stop=stop) for m in batch]


def make_hit(doc_text: str, chunk_text: str | None = None, *, doc_id: str = "doc.md",
             title: str = "Doc", rank: int = 1, index: int = 0) -> Hit:
    """A hit on ``chunk_text``, a slice of ``doc_text`` (the whole text by default)."""
    chunk_text = doc_text if chunk_text is None else chunk_text
    start = doc_text.index(chunk_text)
    chunk = Chunk(id=Chunk.make_id(doc_id, index), doc_id=doc_id, index=index, text=chunk_text,
                  start=start, end=start + len(chunk_text))
    return Hit(key=rank, chunk=chunk, title=title, score=1.0 / rank, rank=rank,
               scores={"vector": 1.0 / rank})


# A Qwen2-shaped model small enough to train in a second on a CPU (about 70k parameters
# with the tokenizer below); `model: {config: TINY_CONFIG, tokenizer: <dir>}` in a config.
TINY_CONFIG = {
    "model_type": "qwen2", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
}
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_tokenizer(folder, texts, vocab_size: int = 600):
    """Train a byte-level BPE tokenizer on ``texts`` (well under a second) and save it to
    ``folder`` with a ChatML template and ``<|im_end|>`` as its end token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = CHATML
    fast.save_pretrained(folder)
    return fast
