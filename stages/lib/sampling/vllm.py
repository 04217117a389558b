"""The ``vllm`` sampler: vLLM's engine from the model folder, one seeded request per answer.

LoRA adapters are served through ``LoRARequest``. vLLM's own RNG stream, so answers differ from
the other backends but are reproducible. Not given forward hooks, so never used for steering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stages.lib.sampling.core import encode_prompts, row_seed, stop_ids


def vllm_token_ids(model_dir: str, adapter_dir: str | None, encoded: Sequence[Sequence[int]],
                   *, samples: int, max_tokens: int, temperature: float, top_p: float,
                   seed: int, stops: list[int]) -> list[list[list[int]]]:
    """``[prompt][sample] -> ids`` from vLLM, one request per answer seeded like
    ``core.row_seed`` (vLLM's own RNG stream, so answers differ from the other backends
    but are reproducible). A LoRA adapter is served with ``LoRARequest``; a full checkpoint
    is loaded as the model."""
    from pathlib import Path

    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    lora = None
    if adapter_dir is not None and (Path(adapter_dir) / "adapter_config.json").exists():
        from vllm.lora.request import LoRARequest

        lora = LoRARequest("adapter", 1, str(adapter_dir))
    elif adapter_dir is not None:
        model_dir = str(adapter_dir)  # a full fine-tuned checkpoint
    llm = LLM(model=str(model_dir), enable_lora=lora is not None, dtype="auto", seed=seed)
    drawn = 1 if temperature == 0 else samples
    prompts, params = [], []
    for ids in encoded:
        for s in range(drawn):
            prompts.append(TokensPrompt(prompt_token_ids=list(ids)))
            params.append(SamplingParams(
                n=1, max_tokens=max_tokens, temperature=temperature, top_p=top_p,
                seed=row_seed(seed, ids, s), stop_token_ids=stops, skip_special_tokens=False))
    results = llm.generate(prompts, params, lora_request=lora)
    flat = [[t for t in r.outputs[0].token_ids if t not in stops] for r in results]
    return [[flat[p * drawn + (s if temperature > 0 else 0)] for s in range(samples)]
            for p in range(len(encoded))]


def vllm_answers(model_dir: Any, adapter_dir: Any, tokenizer: Any, prompts: Sequence[Any], *,
                 samples: int, max_tokens: int, temperature: float, top_p: float,
                 seed: int) -> list[list[tuple[str, int]]]:
    """``sample.sample_answers``'s result, sampled by vLLM from the model folder (the HF
    model is never loaded in this process)."""
    from types import SimpleNamespace

    from transformers import GenerationConfig

    try:
        generation = GenerationConfig.from_pretrained(model_dir)
    except OSError:  # no generation_config.json: the tokenizer's EOS alone
        generation = None
    stops = stop_ids(SimpleNamespace(generation_config=generation), tokenizer)
    ids = vllm_token_ids(str(model_dir), None if adapter_dir is None else str(adapter_dir),
                         encode_prompts(tokenizer, prompts), samples=samples,
                         max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed,
                         stops=stops)
    return [[(tokenizer.decode(a, skip_special_tokens=True).strip(), len(a)) for a in answers]
            for answers in ids]
