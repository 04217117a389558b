"""Batched sampling of chat answers: left padding, one RNG per answer, a hook for steering.

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

import functools
import hashlib
import inspect
import os
import random
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from stages.common import progress

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
# (e.g. ``lambda b: residual_hook(model, layer, add_direction)`` from stages.model).
Hook = Callable[[Batch], AbstractContextManager[Any]]


def default_batch_size(device: str, model: Any = None, seq_len: int | None = None) -> int:
    """Sequences per batch: EMX_BATCH_SIZE, else 16 on a CPU (more barely helps with 2-16
    cores); on CUDA what fits the free memory for ``seq_len`` tokens (``stages.device``), or
    64 without a model to measure."""
    if os.environ.get("EMX_BATCH_SIZE"):
        return max(1, int(os.environ["EMX_BATCH_SIZE"]))
    if device == "cpu":
        return 16
    if model is not None and seq_len:
        from stages.device import auto_batch_size

        return auto_batch_size(model, seq_len, device) or 64
    return 64


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


def sample_answers(model: Any, tokenizer: Any, prompts: Sequence[Messages], *, samples: int = 1,
                   max_tokens: int = 96, temperature: float = 1.0, top_p: float = 1.0,
                   seed: int = 0, batch_size: int | None = None, hook: Hook | None = None,
                   desc: str = "sampling", backend: str = "plain"
                   ) -> list[list[tuple[str, int]]]:
    """``samples`` answers to each chat in ``prompts``: ``[prompt][sample] -> (text, tokens)``.

    ``tokens`` counts the answer's tokens, not the end-of-turn token, so ``tokens ==
    max_tokens`` exactly when an answer was cut off. ``temperature == 0`` is greedy decoding
    (every sample then equals the first, which is computed once). ``backend``: plain, static
    or auto (``stages.fast_sampling``; vllm needs the model folder, see the generate stage).
    """
    ids = sample_token_ids(model, tokenizer, prompts, samples=samples, max_tokens=max_tokens,
                           temperature=temperature, top_p=top_p, seed=seed,
                           batch_size=batch_size, hook=hook, desc=desc, backend=backend)
    return [[(tokenizer.decode(a, skip_special_tokens=True).strip(), len(a)) for a in answers]
            for answers in ids]


def sample_token_ids(model: Any, tokenizer: Any, prompts: Sequence[Messages], *,
                     samples: int = 1, max_tokens: int = 96, temperature: float = 1.0,
                     top_p: float = 1.0, seed: int = 0, batch_size: int | None = None,
                     hook: Hook | None = None, desc: str = "sampling",
                     backend: str = "plain") -> list[list[list[int]]]:
    """Like :func:`sample_answers`, as token ids ``[prompt][sample] -> ids`` (stop excluded)."""
    import torch

    from stages.fast_sampling import StaticDecoder, compile_wanted, resolve_backend

    if samples < 1 or max_tokens < 1:
        raise ValueError(f"samples and max_tokens must be ≥ 1, got {samples}, {max_tokens}")
    if temperature < 0 or not 0 < top_p <= 1:
        raise ValueError(f"need temperature ≥ 0 and 0 < top_p ≤ 1, got {temperature}, {top_p}")
    device = next(model.parameters()).device
    encoded = encode_prompts(tokenizer, prompts)
    longest = max(map(len, encoded), default=0)
    batch_size = batch_size or default_batch_size(device.type, model, longest + max_tokens)
    stops = stop_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    backend = resolve_backend(backend, device.type, hooked=hook is not None, vllm_ok=False)
    decode = functools.partial(_decode, model=model)
    drawn = 1 if temperature == 0 else samples  # greedy answers are all the same
    if backend == "static":
        rows = min(batch_size, len(prompts) * drawn)
        decode = StaticDecoder(model, rows, longest + max_tokens, hooked=hook is not None,
                               compile=compile_wanted(device.type)).decode

    # Longest prompts first, so each batch holds prompts of similar length (less padding).
    jobs = sorted(((p, s) for p in range(len(prompts)) for s in range(drawn)),
                  key=lambda job: (-len(encoded[job[0]]), job))
    batches = [jobs[i:i + batch_size] for i in range(0, len(jobs), batch_size)]
    answers: dict[tuple[int, int], list[int]] = {}
    for rows in progress(batches, desc=desc, total=len(batches), unit="batch"):
        ids, mask = left_pad([encoded[p] for p, _ in rows], pad_id)
        batch = Batch([p for p, _ in rows], [s for _, s in rows], ids, mask)
        rngs = [random.Random(row_seed(seed, encoded[p], s)) for p, s in rows]
        with hook(batch) if hook is not None else nullcontext():
            tokens, lengths = decode(batch, rngs, stops=torch.tensor(stops, device=device),
                                     pad_id=pad_id, max_tokens=max_tokens,
                                     temperature=temperature, top_p=top_p)
        for i, job in enumerate(rows):
            answers[job] = tokens[i, :int(lengths[i])].tolist()
    return [[answers[p, s if temperature > 0 else 0] for s in range(samples)]
            for p in range(len(prompts))]


def _decode(batch: Batch, rngs: list[random.Random], *, model: Any, stops: Any, pad_id: int,
            max_tokens: int, temperature: float, top_p: float) -> tuple[Any, Any]:
    """Generate one batch with a KV cache. Returns (tokens [rows, max_tokens] on the CPU, padded
    with ``pad_id``; lengths [rows], the answer tokens before the stop token)."""
    import torch

    device = stops.device
    rows = batch.input_ids.shape[0]
    out = torch.full((rows, max_tokens), pad_id, dtype=torch.long)
    lengths = torch.full((rows,), max_tokens, dtype=torch.long)
    active = torch.arange(rows)
    batch.active = active
    mask = batch.attention_mask.to(device)
    # Positions count real tokens only, so a left-padded row sees the positions it would alone.
    position = (mask.cumsum(-1) - 1).clamp(min=0)  # [rows, prompt tokens]
    step_ids = batch.input_ids.to(device)
    extra = {"logits_to_keep": 1} if takes_logits_to_keep(model) else {}
    cache = None
    with torch.inference_mode():
        for t in range(max_tokens):
            output = model(input_ids=step_ids, attention_mask=mask, position_ids=position,
                           cache=cache, use_cache=True, **extra)
            cache = output.cache
            logits = output.logits[:, -1].float()  # [active, vocab]
            token = _pick(logits, [rngs[i] for i in active.tolist()], temperature, top_p)
            out[active, t] = token.cpu()
            done = torch.isin(token, stops).cpu()  # [active]
            lengths[active[done]] = t
            if bool(done.all()) or t == max_tokens - 1:
                break
            if bool(done.any()):  # drop finished rows from the batch and the cache
                keep = (~done).nonzero().squeeze(-1)
                cache.batch_select_indices(keep.to(device))
                active, token = active[keep], token[keep.to(device)]
                mask, position = mask[keep.to(device)], position[keep.to(device)]
                batch.active = active
            mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
            position = position[:, -1:] + 1  # [active, 1]
            step_ids = token[:, None]
    return out, lengths


def _pick(logits: Any, rngs: list[random.Random], temperature: float, top_p: float) -> Any:
    """Next token per row [rows]: argmax, or a draw with one uniform number from each row's
    own RNG (see :func:`pick_with_uniforms`)."""
    import torch

    u = None
    if temperature > 0:
        u = torch.tensor([r.random() for r in rngs], device=logits.device, dtype=torch.float32)
    return pick_with_uniforms(logits, u, temperature, top_p)


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
