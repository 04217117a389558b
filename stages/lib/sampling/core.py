"""What every sampler shares: chat prompts, left padding, one RNG per answer, the steering hook.

Why a decoding loop of our own rather than ``model.generate``:

* ``generate`` fills every option the caller leaves unset from the model's
  ``generation_config.json`` (Qwen2.5 ships ``repetition_penalty=1.05, top_k=20``), so the
  answers would depend on a file outside the experiment's config. Here the config is all.
* ``generate`` draws every row from one global RNG, so an answer changes when the batch around
  it changes. Here each answer draws from its own RNG, seeded from (seed, prompt tokens, sample
  index): the same answer comes back whatever the batch size, order or the other questions
  (up to float rounding differences between batch shapes).
* Rows that finish are dropped from the batch (and the KV cache), so long answers do not keep
  short ones' compute.

Prompts go through the tokenizer's chat template with a generation prompt; a system prompt is
sent as a system message.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

Messages = list[dict[str, str]]


@dataclass
class Batch:
    """The rows being generated, as a :data:`Hook` sees them.

    Finished rows leave the forward pass, so at any forward call the rows present are
    ``active`` (indices into this batch's rows); a per-row intervention indexes with it.
    """

    prompt_index: list[int]  # [rows] index into ``prompts``
    sample_index: list[int]  # [rows]
    input_ids: Any  # LongTensor [rows, prompt tokens], left-padded
    attention_mask: Any  # LongTensor [rows, prompt tokens], 0 on padding
    active: Any = None  # LongTensor [rows still generating]
    # BoolTensor [active rows]: the static backend keeps finished rows in the batch (for fixed
    # shapes) and marks them False here; None when every active row is generating.
    live: Any = None


# Called once per batch; the returned context manager is active while that batch generates
# (e.g. ``lambda b: residual_hook(model, layer, add_direction)`` from stages.lib.models).
Hook = Callable[[Batch], AbstractContextManager[Any]]


def encode_prompts(tokenizer: Any, prompts: Sequence[Messages]) -> list[list[int]]:
    """Token ids of each chat, rendered by the chat template up to the assistant's turn."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("the tokenizer has no chat template; use an instruct/chat model")
    ids = []
    for messages in prompts:
        text = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                             tokenize=False)
        # The template already holds any BOS/special tokens it wants; don't add more.
        ids.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    return ids


def left_pad(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """(input_ids, attention_mask), both [len(seqs), longest], padded on the left."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s):] = torch.tensor(list(s), dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids, mask


def row_seed(seed: int, prompt_ids: Sequence[int], sample: int) -> int:
    """The RNG seed of one answer: a function of the seed, the prompt's tokens and the sample."""
    text = f"{seed}|{sample}|{','.join(map(str, prompt_ids))}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """End-of-turn tokens: the tokenizer's EOS and any the model's generation config lists."""
    ids = {tokenizer.eos_token_id}
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(eos if isinstance(eos, list) else [eos])
    ids.discard(None)
    if not ids:
        raise ValueError("neither the tokenizer nor the model defines an end-of-sequence token")
    return sorted(ids)


def pick_with_uniforms(logits: Any, u: Any, temperature: float, top_p: float) -> Any:
    """Next token per row [rows] from logits [rows, vocab]: argmax when ``temperature == 0``,
    else a draw from the (top-p) softmax by inverse CDF with the uniform ``u`` [rows]."""
    import torch

    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)  # [rows, vocab]
    order = None
    if top_p < 1:
        probs, order = probs.sort(dim=-1, descending=True)
        # keep the smallest prefix whose mass reaches top_p (the first token always stays)
        probs = probs.masked_fill(probs.cumsum(-1) - probs >= top_p, 0.0)
    cdf = probs.cumsum(-1)  # [rows, vocab]
    u = u.to(cdf.device, cdf.dtype)
    idx = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True)
    idx = idx.clamp(max=cdf.shape[-1] - 1)  # [rows, 1]
    if order is not None:
        idx = order.gather(-1, idx)
    return idx.squeeze(-1)


def takes_logits_to_keep(model: Any) -> bool:
    """Whether forward() can skip the vocab projection of prompt positions (a large saving)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters
