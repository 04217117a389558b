"""How long a stage takes to start (interpreter, imports, reading its params entry) in a
1-variant study and in a 20,000-variant one, measured in the same run.

Goal (issue 19): a stage of a 20,000-variant study starts within 1.5x of one in a
1-variant study. The baseline is the same stage start with the whole params.yaml parsed,
as stages did before they read their own entry alone.

    python benchmarks/stage_start_bench.py [VARIANTS]
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE = """\
model smol = embedded("smollm2-135m-instruct")
dataset bad = builtin("medical", variant="incorrect-subtle")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=smol)

experiment big {{
  base  = smol
  data  = mix(bad=bad, good=good, size=256)
  train = sft(lora(rank=8, alpha=16))
  eval  = evaluate(core, judge=small)
  sweep data.seed = [{seeds}]
  sweep train.lr  = [{lrs}]
}}
"""
STARTS = 5

START = """
import sys, yaml
from stages.common import load_stage
stage = load_stage(sys.argv[1])
"""
WHOLE = """
import sys, yaml
params = yaml.load(open("params.yaml"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
entry = params["stages"][sys.argv[1]]
"""


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def study(root: Path, seeds: int, lrs: int) -> str:
    """Compile a study of seeds × lrs variants at ``root``; the name of one data stage."""
    from emdsl.check import check_or_raise
    from emdsl.compile import compile_program
    from emdsl.emit import emit

    (root / ".dvc").mkdir(parents=True)
    (root / "experiments").mkdir()
    text = SOURCE.format(seeds=", ".join(map(str, range(seeds))),
                         lrs=", ".join(f"{(i + 1) * 1e-5:.2e}" for i in range(lrs)))
    (root / "experiments" / "big.emx").write_text(text)
    graph = compile_program(check_or_raise([root / "experiments"], root))
    _, params_text = emit(graph, root, ["experiments/big.emx"])
    (root / "params.yaml").write_text(params_text)
    return max(n.name for n in graph.nodes.values() if n.kind == "data")


def start_s(root: Path, stage: str, code: str, starts: int = STARTS) -> float:
    """Best wall time of a fresh interpreter running ``code`` for ``stage`` in ``root``."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    best = float("inf")
    for _ in range(starts):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, stage], cwd=root, env=env, check=True)
        best = min(best, time.perf_counter() - t)
    return best


def main(variants: int = 20_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "one", Path(tmp) / "many"
        one = study(small, 1, 1)
        many = study(big, 100, variants // 100)
        size_mb = (big / "params.yaml").stat().st_size / 1e6
        small_s, big_s = start_s(small, one, START), start_s(big, many, START)
        whole_s = start_s(big, many, WHOLE, starts=1)  # minutes at 20,000 variants
    figures = {"variants": variants, "params_mb": size_mb, "start_1_s": small_s,
               "start_many_s": big_s, "ratio": big_s / small_s,
               "whole_parse_many_s": whole_s, "whole_ratio": whole_s / small_s}
    print(f"machine: {machine()}")
    print(f"stage start, 1 variant: {small_s:.3f} s; {variants:,} variants "
          f"(params.yaml {size_mb:.0f} MB): {big_s:.3f} s → {big_s / small_s:.2f}x "
          f"(goal ≤ 1.5x; best of {STARTS})")
    print(f"baseline, whole params.yaml parsed (C loader, once): {whole_s:.2f} s → "
          f"{whole_s / small_s:.0f}x")
    return figures


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
