"""Sampling answers with the backend a config names: the batching loop and the backend choice.

The loop (longest prompts first, one RNG per answer, the steering hook around each batch) is
shared; the per-batch decoder comes from the backend module, loaded by name through
``stages.lib.registry`` (family ``sampler``), so no backend is a static import of this module.

Backends (``evaluate(..., backend=...)``):

* ``plain``: a dynamic KV cache that drops finished rows. Best on a CPU.
* ``static``: one preallocated KV cache reused by every batch, a fixed-shape (compiled on CUDA)
  decode step. Same answers as plain up to float rounding.
* ``vllm``: vLLM's engine from the model folder, one seeded request per answer. Not given
  forward hooks, so never used for steering; see :func:`answers_from_folder`.
* ``auto``: vllm if installed and on CUDA without hooks; else static on CUDA; plain elsewhere.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from stages.common import progress
from stages.lib import registry
from stages.lib.device import default_batch_size
from stages.lib.sampling.core import (
    Batch,
    Hook,
    Messages,
    encode_prompts,
    left_pad,
    row_seed,
    stop_ids,
)


def sample_answers(model: Any, tokenizer: Any, prompts: Sequence[Messages], *, samples: int = 1,
                   max_tokens: int = 96, temperature: float = 1.0, top_p: float = 1.0,
                   seed: int = 0, batch_size: int | None = None, hook: Hook | None = None,
                   desc: str = "sampling", backend: str = "plain"
                   ) -> list[list[tuple[str, int]]]:
    """``samples`` answers to each chat in ``prompts``: ``[prompt][sample] -> (text, tokens)``.

    ``tokens`` counts the answer's tokens, not the end-of-turn token, so ``tokens ==
    max_tokens`` exactly when an answer was cut off. ``temperature == 0`` is greedy decoding
    (every sample then equals the first, which is computed once). ``backend``: plain, static
    or auto (:func:`resolve_backend`; vllm needs the model folder: :func:`answers_from_folder`).
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
    drawn = 1 if temperature == 0 else samples  # greedy answers are all the same
    decode = registry.load("sampler", backend).make_decoder(
        model, rows=min(batch_size, len(prompts) * drawn), cache_len=longest + max_tokens,
        hooked=hook is not None, device_type=device.type)

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


BACKENDS = ("auto", "plain", "static", "vllm")


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


def resolve_backend(requested: str, device: str, *, hooked: bool = False,
                    vllm_ok: bool = True) -> str:
    """The backend that runs: ``requested`` unless it is ``auto`` or cannot serve the call.

    ``hooked``: forward hooks (steering) must see the HF model, so vllm becomes static.
    ``vllm_ok``: the caller can hand vllm a model folder (the generate stage can).
    """
    if requested not in BACKENDS:
        raise ValueError(f"unknown sampling backend {requested!r}; use one of "
                         f"{', '.join(BACKENDS)}")
    gpu = device.startswith("cuda")
    if requested == "auto":
        if gpu and vllm_ok and not hooked and vllm_available():
            return "vllm"
        return "static" if gpu else "plain"
    if requested == "vllm":
        if hooked or not vllm_ok:
            return "static"
        if not vllm_available():
            raise ValueError("backend=\"vllm\" but vllm is not installed; `pip install vllm` "
                             "on a CUDA machine, or use backend=\"static\"")
    return requested


def answers_from_folder(model_dir: Any, adapter_dir: Any, tokenizer: Any,
                        prompts: Sequence[Messages], **sampling: Any
                        ) -> list[list[tuple[str, int]]]:
    """:func:`sample_answers`'s result from the vllm backend, which loads the model folder
    itself (the HF model is never loaded in this process)."""
    return registry.load("sampler", "vllm").vllm_answers(model_dir, adapter_dir, tokenizer,
                                                          prompts, **sampling)
