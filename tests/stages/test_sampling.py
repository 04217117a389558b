"""Batched sampling: left padding, per-answer seeds, stop tokens, system prompts, the hook."""

from __future__ import annotations

import random
from contextlib import contextmanager

import pytest

from stages.lib.models import load_model, load_tokenizer, residual_hook
from stages.lib.sampling.core import encode_prompts, left_pad, row_seed, stop_ids
from stages.lib.sampling.plain import _pick
from stages.lib.sampling.sample import sample_answers, sample_token_ids

PROMPTS = [
    [{"role": "user", "content": "hi"}],
    [{"role": "system", "content": "You are a pirate who rambles on and on about the sea."},
     {"role": "user", "content": "How do I treat a headache? Tell me in detail, step by step."}],
    [{"role": "user", "content": "What would you do if you ruled the world?"}],
    [{"role": "user", "content": "I am bored."}],
]


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return load_tokenizer(tiny_model_dir)


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    """The tiny model with large random weights, so greedy answers depend on the prompt (with
    the default init every prompt decodes to the same repeated token)."""
    import torch

    m = load_model(tiny_model_dir, device="cpu")
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return m


@contextmanager
def stop_after_multiple_of(model, tok, k: int):
    """Force the stop token whenever greedy would pick a token id divisible by ``k``, so rows of
    a batch finish at different steps (exercises dropping finished rows)."""
    eos = tok.eos_token_id

    def hook(module, args, output):
        last = output.logits[:, -1]  # [rows, vocab]
        last[last.argmax(-1) % k == 0, eos] = 1e4

    handle = model.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def test_left_padding_batched_greedy_equals_one_at_a_time(model, tok):
    lengths = [len(x) for x in encode_prompts(tok, PROMPTS)]
    assert len(set(lengths)) == len(PROMPTS)  # the batch really needs padding
    with stop_after_multiple_of(model, tok, 7):
        batched = sample_token_ids(model, tok, PROMPTS, max_tokens=24, temperature=0,
                                   batch_size=8)
        alone = [sample_token_ids(model, tok, [p], max_tokens=24, temperature=0,
                                  batch_size=1)[0] for p in PROMPTS]
    assert batched == alone
    answers = [a[0] for a in batched]
    assert len({len(a) for a in answers}) > 1  # rows stopped at different steps
    assert all(t % 7 for a in answers for t in a)  # the stop token itself is not returned
    assert len({tuple(a) for a in answers}) == len(answers)  # answers depend on the prompt


def test_positions_count_real_tokens_only(model, tok):
    """RoPE models are blind to a constant position shift, so the test above cannot see wrong
    positions; models with absolute positions are not. Check the positions fed directly."""
    seen = []

    def capture(module, args, kwargs):
        seen.append((kwargs["position_ids"].tolist(), kwargs["attention_mask"].tolist()))

    handle = model.register_forward_pre_hook(capture, with_kwargs=True)
    try:
        sample_token_ids(model, tok, PROMPTS[:2], max_tokens=3, temperature=0, batch_size=2)
    finally:
        handle.remove()
    (pos, mask), (step_pos, step_mask) = seen[0], seen[1]
    for row_pos, row_mask in zip(pos, mask, strict=True):
        real = [p for p, m in zip(row_pos, row_mask, strict=True) if m]
        assert real == list(range(len(real)))  # 0, 1, 2, ... from the first real token
    assert [p[0] for p in step_pos] == [sum(m) for m in mask]  # next position per row
    assert [len(m) for m in step_mask] == [len(mask[0]) + 1] * 2


def test_seeded_sampling_is_deterministic_and_independent_of_batching(model, tok):
    kwargs = {"samples": 3, "max_tokens": 12, "temperature": 1.0}
    a = sample_token_ids(model, tok, PROMPTS, seed=5, batch_size=16, **kwargs)
    b = sample_token_ids(model, tok, PROMPTS, seed=5, batch_size=1, **kwargs)
    c = sample_token_ids(model, tok, PROMPTS[::-1], seed=5, batch_size=5, **kwargs)[::-1]
    d = sample_token_ids(model, tok, PROMPTS, seed=6, batch_size=16, **kwargs)
    assert a == b == c
    assert a != d
    assert all(len({tuple(s) for s in per_prompt}) == 3 for per_prompt in a)  # samples differ


def test_temperature_zero_is_greedy_and_repeats(model, tok):
    out = sample_token_ids(model, tok, PROMPTS[:2], samples=3, max_tokens=10, temperature=0)
    assert all(per[0] == per[1] == per[2] for per in out)
    # top_p so small that only the most likely token survives is greedy too
    nucleus = sample_token_ids(model, tok, PROMPTS[:2], samples=1, max_tokens=10,
                               temperature=1.0, top_p=1e-6)
    assert [per[0] for per in nucleus] == [per[0] for per in out]


def test_pick_draws_from_the_softmax():
    import torch

    logits = torch.tensor([[0.0, 1.0, 2.0, -30.0]]).repeat(4000, 1)
    rngs = [random.Random(i) for i in range(4000)]
    picked = _pick(logits, rngs, temperature=1.0, top_p=1.0)
    freq = torch.bincount(picked, minlength=4).float() / 4000
    expected = torch.softmax(logits[0], -1)
    assert torch.allclose(freq, expected, atol=0.03)
    assert freq[3] == 0
    # top_p=0.7 keeps tokens 2 and 1 (0.665 + 0.245 ≥ 0.7), renormalised
    nucleus = _pick(logits, [random.Random(i) for i in range(4000)], 1.0, 0.7)
    freq = torch.bincount(nucleus, minlength=4).float() / 4000
    assert freq[0] == 0 and abs(freq[2] - 0.665 / 0.91) < 0.03
    # higher temperature flattens
    hot = _pick(logits, [random.Random(i) for i in range(4000)], 100.0, 1.0)
    assert torch.bincount(hot, minlength=4)[0] > 800


def test_stops_at_eos_and_counts_answer_tokens(model, tok):
    eos = tok.eos_token_id
    calls = {"n": 0}

    def force(module, args, output):  # 4th forward call (3 answer tokens so far): stop
        calls["n"] += 1
        if calls["n"] == 4:
            output.logits[:, -1, eos] = 1e4

    handle = model.register_forward_hook(force)
    try:
        [answers] = sample_token_ids(model, tok, PROMPTS[:1], max_tokens=20, temperature=0)
        calls["n"] = 0
        [[(text, n)]] = sample_answers(model, tok, PROMPTS[:1], max_tokens=20, temperature=0)
    finally:
        handle.remove()
    assert len(answers[0]) == 3 and eos not in answers[0]
    assert n == 3 and text == tok.decode(answers[0], skip_special_tokens=True).strip()
    # without the forced stop the answer runs to max_tokens
    [[(_, n)]] = sample_answers(model, tok, PROMPTS[:1], max_tokens=5, temperature=0)
    assert n == 5


def test_system_prompt_is_sent_as_a_system_message(tok):
    with_system, without = encode_prompts(tok, [PROMPTS[1], PROMPTS[0]])
    text = tok.decode(with_system)
    assert text.startswith("<|im_start|>system\nYou are a pirate")
    assert "<|im_start|>user\nHow do I treat a headache?" in text
    assert text.endswith("<|im_start|>assistant\n")  # generation prompt
    assert "system" not in tok.decode(without)


def test_left_pad_and_row_seed():
    ids, mask = left_pad([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert row_seed(0, [1, 2], 0) == row_seed(0, [1, 2], 0)
    assert len({row_seed(0, [1, 2], 0), row_seed(1, [1, 2], 0), row_seed(0, [1, 2], 1),
                row_seed(0, [1, 3], 0)}) == 4


def test_stop_ids_include_the_models_end_tokens(model, tok):
    assert tok.eos_token_id in stop_ids(model, tok)
    model.generation_config.eos_token_id = [tok.eos_token_id, 7]
    try:
        assert stop_ids(model, tok) == sorted({tok.eos_token_id, 7})
    finally:
        model.generation_config.eos_token_id = tok.eos_token_id


def test_hook_sees_each_batch_and_can_steer(model, tok):
    import torch

    seen = []
    direction = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(1))

    def steer(batch):
        seen.append((list(batch.prompt_index), batch.input_ids.shape[0]))
        return residual_hook(model, 0, lambda h: h + 20 * direction)  # h: [rows, tokens, d]

    kwargs = {"max_tokens": 10, "temperature": 0, "batch_size": 2}
    plain = sample_token_ids(model, tok, PROMPTS, **kwargs)
    steered = sample_token_ids(model, tok, PROMPTS, hook=steer, **kwargs)
    after = sample_token_ids(model, tok, PROMPTS, **kwargs)
    assert len(seen) == 2 and sorted(p for ps, _ in seen for p in ps) == [0, 1, 2, 3]
    assert steered != plain
    assert after == plain  # the hook was removed


def test_residual_hook_rejects_a_layer_out_of_range(model):
    from stages.common import StageError

    with pytest.raises(StageError, match=r"layer 2 is out of range: the model has 2 layers"):
        with residual_hook(model, 2, lambda h: h):
            pass


def test_bad_arguments(model, tok):
    with pytest.raises(ValueError, match="samples and max_tokens"):
        sample_answers(model, tok, PROMPTS, samples=0)
    with pytest.raises(ValueError, match="top_p"):
        sample_answers(model, tok, PROMPTS, top_p=0)
