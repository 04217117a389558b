"""The static-cache backend: greedy = ``model.generate``, seeded draws = the plain backend."""

from __future__ import annotations

import pytest
from test_sampling import PROMPTS, stop_after_multiple_of

from stages.lib.models import residual_hook
from stages.lib.sampling.core import encode_prompts, left_pad
from stages.lib.sampling.sample import resolve_backend, sample_answers, sample_token_ids
from stages.lib.sampling.static import compile_wanted, round_up

# The module-scoped `model` / `tok` fixtures of test_sampling (large random weights).
from test_sampling import model, tok  # noqa: F401  isort: skip


def _generate_greedy(lm, tokenizer, max_tokens: int) -> list[list[int]]:
    """``model.generate``'s greedy answers, cut at the first stop token."""
    import torch

    eos = tokenizer.eos_token_id
    ids, mask = left_pad(encode_prompts(tokenizer, PROMPTS), tokenizer.pad_token_id)
    with torch.no_grad():
        out = lm.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                          max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id,
                          eos_token_id=eos)
    return [row[:row.index(eos)] if eos in row else row for row in out[:, ids.shape[1]:].tolist()]


def test_static_greedy_equals_model_generate(model, tok):  # noqa: F811
    lengths = {len(x) for x in encode_prompts(tok, PROMPTS)}
    assert len(lengths) == len(PROMPTS)  # prompts of different lengths: left padding
    with stop_after_multiple_of(model, tok, 7):
        expected = _generate_greedy(model, tok, 24)
        static = sample_token_ids(model, tok, PROMPTS, max_tokens=24, temperature=0,
                                  batch_size=3, backend="static")
        plain = sample_token_ids(model, tok, PROMPTS, max_tokens=24, temperature=0,
                                 batch_size=3, backend="plain")
    assert [a[0] for a in static] == expected == [a[0] for a in plain]
    assert len({len(a) for a in expected}) > 1  # rows stopped at different steps


def test_static_sampling_is_seeded_and_matches_plain(model, tok):  # noqa: F811
    kwargs = {"samples": 3, "max_tokens": 12, "temperature": 1.0, "top_p": 0.9, "seed": 5}
    a = sample_token_ids(model, tok, PROMPTS, batch_size=5, backend="static", **kwargs)
    b = sample_token_ids(model, tok, PROMPTS, batch_size=5, backend="static", **kwargs)
    c = sample_token_ids(model, tok, PROMPTS, batch_size=4, backend="plain", **kwargs)
    assert a == b  # reproducible
    assert a == c  # the same per-answer RNG streams as the plain backend
    assert all(len({tuple(s) for s in per}) == 3 for per in a)  # samples differ


def test_static_keeps_steering_hooks(model, tok):  # noqa: F811
    import torch

    direction = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(1))
    live_seen = []

    def steer(batch):
        live_seen.append(batch)
        return residual_hook(model, 0, lambda h: h + 20 * direction)

    kwargs = {"max_tokens": 10, "temperature": 0, "batch_size": 4}
    steered = sample_answers(model, tok, PROMPTS, hook=steer, backend="static", **kwargs)
    plain = sample_answers(model, tok, PROMPTS, hook=steer, backend="plain", **kwargs)
    unsteered = sample_answers(model, tok, PROMPTS, backend="static", **kwargs)
    assert steered == plain != unsteered
    assert live_seen[0].live is not None and live_seen[1].live is None


def test_backend_choice():
    assert resolve_backend("auto", "cpu") == "plain"
    assert resolve_backend("auto", "cuda", vllm_ok=False) == "static"
    assert resolve_backend("vllm", "cuda", hooked=True) == "static"  # hooks need the HF model
    assert resolve_backend("static", "cpu") == "static"
    with pytest.raises(ValueError, match="unknown sampling backend"):
        resolve_backend("fast", "cpu")
    assert round_up(65, 64) == 128 and round_up(64, 64) == 64
    assert compile_wanted("cuda") and not compile_wanted("cpu")
