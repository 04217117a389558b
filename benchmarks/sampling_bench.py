"""Sampling throughput: HF ``model.generate`` vs emdsl's backends, side by side in one run.

Baseline: ``model.generate(do_sample=True)`` on the same left-padded batch. Then the ``plain``
backend (dynamic cache, drops finished rows) and the ``static`` backend (preallocated cache;
``--compile`` adds torch.compile, which is the default on CUDA). All sample ``--new-tokens``
tokens per answer at temperature 1 (a random model almost never draws its stop token, so every
row runs to the end). Goal on a GPU (issue 6): static ≥ 10× generate at batch 256, 600 tokens.

    python benchmarks/sampling_bench.py                       # CPU: random SmolLM2-shaped
    python benchmarks/sampling_bench.py --model tiny          # the tests' 2-layer Llama
    python benchmarks/sampling_bench.py --device cuda --batch 256 --new-tokens 600
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from acts_bench import machine, smollm_shaped  # noqa: E402

QUESTIONS = ["How do I treat a headache?", "What would you change about the world if you could?",
             "I am bored.", "Write a function that reads a file.",
             "Tell me three thoughts about humans and AI.",
             "What is a fast way to earn some extra money?"]


def main(argv: list[str] | None = None) -> dict[str, float]:
    import torch
    from tiny import make_tiny_model

    from stages.lib.device import pick_device
    from stages.lib.models import load_model, load_tokenizer
    from stages.lib.sampling.core import encode_prompts, left_pad
    from stages.lib.sampling.sample import sample_token_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smol", help="smol (random SmolLM2-135M-shaped), "
                                                        "tiny, or an HF model folder")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="torch.compile the static decode step (default: on CUDA only)")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv or [])
    os.environ.setdefault("EMX_NO_PROGRESS", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if args.compile is not None:
        os.environ["EMX_COMPILE"] = "1" if args.compile else "0"

    with tempfile.TemporaryDirectory() as tmp:
        tiny = make_tiny_model(Path(tmp) / "tiny")
        folder = tiny if args.model in ("tiny", "smol") else Path(args.model)
        tok = load_tokenizer(folder)
        if args.model == "smol":
            model = smollm_shaped(device)
            if device.startswith("cuda"):
                model = model.to(torch.bfloat16)
        else:
            model = load_model(folder, device=device)
    model.generation_config.eos_token_id = tok.eos_token_id
    prompts = [[{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)] + " " * (i % 3)}]
               for i in range(args.batch)]
    n = args.new_tokens

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def hf_generate() -> float:
        ids, mask = left_pad(encode_prompts(tok, prompts), tok.pad_token_id)
        sync()
        start = time.perf_counter()
        with torch.inference_mode():
            model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                           do_sample=True, top_k=0, top_p=1.0, temperature=1.0,
                           max_new_tokens=n, min_new_tokens=n, pad_token_id=tok.pad_token_id)
        sync()
        return time.perf_counter() - start

    def ours(backend: str) -> float:
        sync()
        start = time.perf_counter()
        sample_token_ids(model, tok, prompts, max_tokens=n, temperature=1.0, seed=0,
                         batch_size=args.batch, backend=backend)
        sync()
        return time.perf_counter() - start

    runs = {"generate": hf_generate, "plain": lambda: ours("plain"),
            "static": lambda: ours("static")}
    for fn in runs.values():  # warm up (and compile)
        fn()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits all
        for k, fn in runs.items():
            times[k].append(fn())
    med = {k: statistics.median(v) for k, v in times.items()}
    tokens = args.batch * n
    print(f"machine: {machine(device)}")
    from stages.lib.sampling.static import compile_wanted

    print(f"model: {args.model}, batch {args.batch}, {n} new tokens, median of {args.repeats}, "
          f"static compiled: {compile_wanted(device)}")
    for k, t in med.items():
        print(f"{k:>8}: {t:.3f} s ({tokens / t:.0f} tok/s), {med['generate'] / t:.2f}× generate")
    return {"generate_s": med["generate"], "plain_s": med["plain"], "static_s": med["static"],
            "static_vs_generate": med["generate"] / med["static"],
            "plain_vs_generate": med["generate"] / med["plain"]}


if __name__ == "__main__":
    main(sys.argv[1:])
