"""Run every benchmark in this folder and print one table of figures.

Each ``*_bench.py`` module has ``main() -> dict`` that measures its own baseline in the same
run and prints its lines; this script gathers them. Results go in benchmarks/RESULTS.md by
hand, with the date and the machine.

    python benchmarks/run_all.py [NAME ...]
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    modules = sorted(p.stem for p in HERE.glob("*_bench.py"))
    if names:
        modules = [m for m in modules if any(n in m for n in names)]
    table = []
    for name in modules:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        figures = importlib.import_module(name).main() or {}
        table.append((name, figures, time.perf_counter() - start))
    print("\n| benchmark | figures | wall s |\n|---|---|---|")
    for name, figures, wall in table:
        shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in figures.items())
        print(f"| {name} | {shown} | {wall:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
