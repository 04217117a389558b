"""Activation capture (stages.lib.activations.iter_capture) vs a plain forward pass to the
same layer.

The baseline runs the decoder truncated to ``layer + 1`` blocks (``config.num_hidden_layers``
lowered, which Llama-family models honour) on the same right-padded batches; capture runs
the full model with the stopping hook, gathers the kept tokens and copies them to the CPU.
Goal (issue 4): capture / forward ≤ 1.1. Prints the figures with the machine named; no timed
assertions live in tests.

    python benchmarks/acts_bench.py                    # random model of SmolLM2-135M's shape
    python benchmarks/acts_bench.py --model DIR        # a real HF model folder
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def machine(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        gpu = torch.cuda.get_device_name(0)
        return f"{gpu}, {os.cpu_count()} CPU cores, torch {torch.__version__}"
    return (f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads")


def smollm_shaped(device: str):
    """A random Llama with SmolLM2-135M's shape: the same compute per token."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                         num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                         max_position_embeddings=2048, tie_word_embeddings=True)
    return LlamaForCausalLM(config).to(device).eval()


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Defaults when called without arguments (as benchmarks/run_all.py does)."""
    import torch

    from stages.lib.activations import iter_capture
    from stages.lib.device import pick_device
    from stages.lib.models import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="HF model folder (default: random "
                                                   "SmolLM2-135M-shaped Llama)")
    parser.add_argument("--layer", type=int, default=15)
    parser.add_argument("--docs", type=int, default=32)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch CPU threads (steadier timings on a "
                                                    "shared machine with 1)")
    args = parser.parse_args(argv or [])
    if args.threads:
        torch.set_num_threads(args.threads)

    device = pick_device("auto")
    model = load_model(args.model, device=device) if args.model else smollm_shaped(device)
    vocab = model.config.vocab_size
    rng = random.Random(0)
    # chat-sized documents (64-256 tokens), token 1 standing in for a BOS
    docs = [[1] + [rng.randrange(3, vocab) for _ in range(rng.randrange(64, 257))]
            for _ in range(args.docs)]
    order = sorted(range(len(docs)), key=lambda i: (-len(docs[i]), i))
    batches = []
    for i in range(0, len(order), args.batch):
        rows = [docs[j] for j in order[i:i + args.batch]]
        ids = torch.zeros((len(rows), len(rows[0])), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, d in enumerate(rows):
            ids[r, :len(d)], mask[r, :len(d)] = torch.tensor(d), 1
        batches.append((ids.to(device), mask.to(device)))

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def forward_to_layer() -> float:
        inner = model.model
        full = inner.config.num_hidden_layers
        inner.config.num_hidden_layers = args.layer + 1
        try:
            sync()
            start = time.perf_counter()
            with torch.inference_mode():
                for ids, mask in batches:
                    h = inner(input_ids=ids, attention_mask=mask, use_cache=False)
                    h.last_hidden_state.float().cpu()
            sync()
            return time.perf_counter() - start
        finally:
            inner.config.num_hidden_layers = full

    def capture() -> float:
        sync()
        start = time.perf_counter()
        n = sum(len(c) for c in iter_capture(model, docs, args.layer, drop=[1],
                                             batch_size=args.batch))
        sync()
        assert n == sum(len(d) - 1 for d in docs)
        return time.perf_counter() - start

    forward_to_layer(), capture()  # warm up
    base, cap = [], []
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both
        base.append(forward_to_layer())
        cap.append(capture())
    tokens = sum(len(d) for d in docs)
    b, c = statistics.median(base), statistics.median(cap)
    name = str(args.model) if args.model else "random SmolLM2-135M-shaped Llama (30 layers)"
    print(f"machine: {machine(device)}")
    print(f"model: {name}, layer {args.layer}, {len(docs)} docs, {tokens} tokens, "
          f"batch {args.batch}, median of {args.repeats}")
    print(f"forward to layer {args.layer}: {b * 1000:.1f} ms ({tokens / b:.0f} tokens/s)")
    print(f"capture at layer {args.layer}:  {c * 1000:.1f} ms ({tokens / c:.0f} tokens/s)")
    print(f"capture / forward = {c / b:.3f} (goal ≤ 1.1); best of each: "
          f"{min(cap) / min(base):.3f}; per pair: "
          f"{', '.join(f'{x / y:.2f}' for x, y in zip(cap, base, strict=True))}")
    return {"forward_s": b, "capture_s": c, "ratio": c / b, "ratio_best": min(cap) / min(base)}


if __name__ == "__main__":
    main(sys.argv[1:])
