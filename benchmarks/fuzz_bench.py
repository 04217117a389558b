"""The long fuzz campaign of issue 15: at least 10,000 inputs through parse, check, compile
and emit, each either diagnosed (located errors) or compiled to dvc.yaml and params.yaml that
PyYAML and ruamel read alike; never a traceback or a hang.

Inputs are mutations of the real example files with hostile literals (unicode, control
characters, huge and tiny numbers) and random text, from a fixed seed so a run can be
repeated. The fast subset is tests/robustness/test_fuzz.py, whose ``fuzz_one`` this runs.
Prints the counts: inputs, diagnosed, compiled, failures (with the first few failures).

    python benchmarks/fuzz_bench.py [N] [SEED]
"""

from __future__ import annotations

import random
import shutil
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FULL = True  # minutes: benchmarks/run_all.py runs it only with --full
INPUTS = 10_000


def random_text(rng: random.Random) -> str:
    """Text from the language's own characters and a few hostile ones."""
    alphabet = 'abemxdlsuwpotij_019.=,()[]{}"#\n -+é\x00\u2028😀'
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 160)))


def campaign(n: int, seed: int) -> dict[str, int | float]:
    """Run ``n`` inputs; the counts, with each failure's input and traceback printed."""
    sys.path.insert(0, str(REPO / "tests" / "robustness"))
    import test_fuzz as fuzz

    rng = random.Random(seed)
    root = fuzz.make_root()
    counts = {"inputs": 0, "diagnostics": 0, "compiled": 0, "failures": 0}
    start = time.perf_counter()
    try:
        for _ in range(n):
            text = (random_text(rng) if rng.random() < 0.1
                    else fuzz.hostile_mutation(rng, rng.choice(fuzz.SOURCES)))
            name = fuzz.hostile_file_name(rng) if rng.random() < 0.05 else "fuzz.emx"
            counts["inputs"] += 1
            try:
                counts[fuzz.fuzz_one(root, text, name=name)] += 1
            except Exception:  # a defect: show the input and where it broke
                counts["failures"] += 1
                if counts["failures"] <= 5:
                    print(f"--- failure on input {text[:300]!r}\n{traceback.format_exc()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {**counts, "seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> dict[str, int | float]:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else INPUTS
    seed = int(args[1]) if len(args) > 1 else 15
    figures = campaign(n, seed)
    print(f"fuzz: {figures['inputs']} inputs, {figures['diagnostics']} diagnosed, "
          f"{figures['compiled']} compiled, {figures['failures']} failures "
          f"in {figures['seconds']} s (seed {seed})")
    return figures


if __name__ == "__main__":
    sys.exit(1 if main()["failures"] else 0)
