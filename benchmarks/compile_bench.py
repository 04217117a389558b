"""Compile time for one file whose sweeps expand to 1,000 variants, and `dvc status` on it.

Goals (issue 2): compile ≤ 1 s and `dvc status` ≤ 10 s on a 2-core machine. Prints the
figures with the machine named; no timed assertions live in tests.

    python benchmarks/compile_bench.py
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

experiment big {
  base  = smol
  data  = mix(bad=bad, good=good, size=256)
  train = sft(lora(rank=8, alpha=16))
  eval  = evaluate(core, judge=small)
  sweep data.poison = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
  sweep data.seed   = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  sweep train.lr    = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 5e-3]
}
"""


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> dict[str, float]:
    from emdsl.check import check_or_raise
    from emdsl.compile import compile_program
    from emdsl.emit import emit

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
        (root / "experiments").mkdir()
        (root / "experiments" / "big.emx").write_text(SOURCE)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            program = check_or_raise([root / "experiments"], root)
            graph = compile_program(program)
            dvc_text, params_text = emit(graph, root, ["experiments/big.emx"])
            times.append(time.perf_counter() - start)
        variants = sum(len(e.variants) for e in program.experiments)
        (root / "dvc.yaml").write_text(dvc_text)
        (root / "params.yaml").write_text(params_text)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dvc", "status", "-q"], cwd=root,
                       stdout=subprocess.DEVNULL)
        status_s = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "emdsl.cli", "status"], cwd=root,
                       stdout=subprocess.DEVNULL, check=True)
        emx_status_s = time.perf_counter() - start
    figures = {"variants": variants, "stages": len(graph.nodes), "compile_s": min(times),
               "dvc_status_s": status_s, "emx_status_s": emx_status_s}
    print(f"machine: {machine()}")
    print(f"compile: {variants} variants → {len(graph.nodes)} stages in {min(times):.2f} s "
          f"(best of 3; goal ≤ 1 s)")
    print(f"dvc status on the emitted graph: {status_s:.1f} s (goal ≤ 10 s); emx status on "
          f"the same graph: {emx_status_s:.2f} s ({status_s / emx_status_s:.0f}x faster)")
    return figures


if __name__ == "__main__":
    main()
