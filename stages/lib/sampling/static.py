"""The ``static`` sampler: one preallocated KV cache reused by every batch.

The cache is ``[rows, heads, cache_len, head_dim]``; the decode step has a fixed shape
(``torch.compile(mode="reduce-overhead")`` on CUDA, i.e. CUDA graphs), uniform draws made ahead
per row. Finished rows stay in the batch (their tokens are discarded), so every step has the
same shapes and nothing syncs with the host except a finished-check every ``CHECK_EVERY`` steps.

What stays identical to ``plain``: the chat template, left padding, positions counting real
tokens only, per-answer RNGs (row ``i``'s ``t``-th draw is used at step ``t`` in both, so the
streams match), stop tokens, hooks (called on every forward; ``Batch.live`` marks the rows
still generating). Greedy decoding gives ``model.generate``'s tokens; sampling gives the same
answers up to float rounding (a static cache attends over a longer, masked key range).
"""

from __future__ import annotations

import os
import random
from typing import Any

from stages.lib.sampling.core import pick_with_uniforms, takes_logits_to_keep

CHECK_EVERY = 8  # decode steps between "all rows finished?" checks (each one syncs the GPU)
CACHE_ROUND = 64  # cache lengths are rounded up to this, so batches share one compiled shape


def make_decoder(model: Any, *, rows: int, cache_len: int, hooked: bool,
                 device_type: str) -> Any:
    """The registered constructor (family ``sampler``, name ``static``): the decode function of
    a :class:`StaticDecoder` for batches of up to ``rows`` prompts."""
    return StaticDecoder(model, rows, cache_len, hooked=hooked,
                         compile=compile_wanted(device_type)).decode


def compile_wanted(device: str) -> bool:
    """torch.compile the decode step: on CUDA by default; EMX_COMPILE=1/0 forces it."""
    forced = os.environ.get("EMX_COMPILE")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return device.startswith("cuda")


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


class StaticDecoder:
    """Decodes batches of up to ``rows`` prompts into one reused static KV cache.

    ``cache_len`` bounds prompt + answer tokens. Every batch runs with ``rows`` rows (a
    smaller one is padded with copies of its rows, whose answers are dropped), so the cache is
    allocated once and, with ``compile``, the one-token decode step is compiled once.
    """

    def __init__(self, model: Any, rows: int, cache_len: int, *, compile: bool = False,
                 hooked: bool = False) -> None:
        import torch
        from transformers import StaticCache

        self.model, self.rows = model, rows
        self.cache_len = round_up(cache_len, CACHE_ROUND)
        self.device = next(model.parameters()).device
        self.cache = StaticCache(config=model.config, max_cache_len=self.cache_len)
        step = self._step
        if compile and not hooked:  # a hook may do host work (steering stats): stay eager
            mode = "reduce-overhead" if self.device.type == "cuda" else None
            step = torch.compile(step, mode=mode, dynamic=False)
        self.step = step

    def _step(self, token: Any, mask: Any, position: Any) -> Any:
        """token [rows, 1], mask [rows, cache_len], position [rows, 1] → logits [rows, vocab]."""
        out = self.model(input_ids=token, attention_mask=mask, position_ids=position,
                         cache=self.cache, use_cache=True)
        return out.logits[:, -1].float()

    def decode(self, batch: Any, rngs: list[random.Random], *, stops: Any, pad_id: int,
               max_tokens: int, temperature: float, top_p: float) -> tuple[Any, Any]:
        """Like ``plain._decode``: (tokens [rows, max_tokens] on the CPU, lengths [rows])."""
        import torch

        n, width = batch.input_ids.shape
        if width + max_tokens > self.cache_len:
            raise ValueError(f"prompt ({width}) + max_tokens ({max_tokens}) exceed the static "
                             f"cache ({self.cache_len} tokens)")
        if n > self.rows:
            raise ValueError(f"batch of {n} rows for a static cache of {self.rows}")
        rows = self.rows
        fill = torch.arange(rows) % n  # [rows] the batch row each cache row holds
        dev = self.device
        ids = batch.input_ids[fill].to(dev)
        mask = torch.zeros((rows, self.cache_len), dtype=torch.long, device=dev)
        mask[:, :width] = batch.attention_mask[fill].to(dev)
        position = (mask[:, :width].cumsum(-1) - 1).clamp(min=0)  # [rows, width]
        # The uniforms each row would draw, one per step, from its own RNG (as _pick does).
        u = None
        if temperature > 0:
            draws = [[r.random() for _ in range(max_tokens)] for r in rngs]
            u = torch.tensor(draws, dtype=torch.float32)[fill].to(dev)  # [rows, max_tokens]
        out = torch.full((rows, max_tokens), pad_id, dtype=torch.long, device=dev)
        lengths = torch.full((rows,), max_tokens, dtype=torch.long, device=dev)
        live = torch.ones(rows, dtype=torch.bool, device=dev)
        live[n:] = False  # padding rows never count
        batch.active, batch.live = fill, live
        pad = torch.tensor(pad_id, device=dev)

        extra = {"logits_to_keep": 1} if takes_logits_to_keep(self.model) else {}
        with torch.inference_mode():
            self.cache.reset()
            logits = self.model(input_ids=ids, attention_mask=mask[:, :width],
                                position_ids=position, cache=self.cache, use_cache=True,
                                **extra).logits[:, -1].float()  # [rows, vocab]
            position = position[:, -1:] + 1  # [rows, 1]
            for t in range(max_tokens):
                token = pick_with_uniforms(logits, None if u is None else u[:, t],
                                           temperature, top_p)
                token = torch.where(live, token, pad)  # [rows]
                out[:, t] = token
                done = torch.isin(token, stops) & live
                lengths.masked_fill_(done, t)
                live &= ~done
                if t == max_tokens - 1 or ((t + 1) % CHECK_EVERY == 0 and not bool(live.any())):
                    break
                mask[:, width + t] = 1
                logits = self.step(token[:, None], mask, position)
                if self.device.type == "cuda":  # CUDA graphs reuse their output buffer
                    logits = logits.clone()
                position = position + 1
        return out[:n].cpu(), lengths[:n].cpu()


