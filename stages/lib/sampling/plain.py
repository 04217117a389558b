"""The ``plain`` sampler: a dynamic KV cache that drops finished rows (best on a CPU)."""

from __future__ import annotations

import functools
import random
from typing import Any

from stages.lib.sampling.core import Batch, pick_with_uniforms, takes_logits_to_keep


def make_decoder(model: Any, *, rows: int, cache_len: int, hooked: bool,
                 device_type: str) -> Any:
    """The registered constructor (family ``sampler``, name ``plain``): a per-batch decode
    function ``(batch, rngs, *, stops, pad_id, max_tokens, temperature, top_p)``."""
    return functools.partial(_decode, model=model)


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
