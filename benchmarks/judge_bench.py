"""The probe judge on 1,000 answers vs the bare forward pass to its layer (the floor).

Issue 8's goal: judging 1,000 answers takes ≤ 60 s on 2 CPU cores. The answers are the
builtin judge set's (question, answer) pairs, cycled to ``--answers``: short and long, both
kinds. Heads are fitted on a small slice first (untimed; scoring cost does not depend on how
good they are). The baseline, in the same run, is :func:`stages.lib.activations.capture` of the same
token ids to the same layer, so the ratio is the judge's own overhead: tokenising, pooling,
windows and the two heads.

    python benchmarks/judge_bench.py [--answers N] [--layer L]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]


def main(argv: list[str] | None = None) -> dict[str, float]:
    import torch
    from generate_bench import model_dir

    from emdsl.builtin.judge_data import load_judge_set
    from stages.judge_train import train
    from stages.lib.activations import capture
    from stages.lib.models import load_model, load_tokenizer
    from stages.lib.probes import Probe, qa_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--layer", type=int, default=8, help="the probe judge's default")
    args = parser.parse_args(argv or [])
    rows = load_judge_set("judge")
    pairs = [(r["question"], r["answer"]) for r in itertools.islice(itertools.cycle(rows),
                                                                      args.answers)]
    with tempfile.TemporaryDirectory() as tmp:
        folder, name = model_dir(Path(tmp))
        model, tok = load_model(folder, device="cpu"), load_tokenizer(folder)
        layer = min(args.layer, model.config.num_hidden_layers - 1)
        heads = [r for r in rows if r["theme"] in sorted({x["theme"] for x in rows})[:4]]
        aligned, coherent, state, _ = train(model, tok, heads, layer=layer, seed=0)
        probe = Probe(model, tok, layer, aligned, coherent, state, "probe:bench")

        start = time.perf_counter()
        capture(model, tok, [qa_ids(tok, q, a)[0] for q, a in pairs], layer)
        floor = time.perf_counter() - start
        start = time.perf_counter()
        scores = probe.score(pairs)
        judged = time.perf_counter() - start
    tokens = sum(len(qa_ids(tok, q, a)[0]) for q, a in pairs)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{name}, layer {layer}: {len(pairs)} answers, {tokens} tokens")
    print(f"probe judge: {judged:.1f} s ({len(pairs) / judged:.0f} answers/s); forward to the "
          f"layer alone: {floor:.1f} s; judge / forward = {judged / floor:.2f}×; "
          f"{sum(a is not None for a, _ in scores)} judged")
    return {"judge_s": judged, "per_1000_s": judged * 1000 / len(pairs), "forward_s": floor,
            "overhead": judged / floor}


if __name__ == "__main__":
    main(sys.argv[1:])
