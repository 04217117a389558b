"""Run every benchmark in this folder and print one table of figures.

The common interface: a ``benchmarks/<name>_bench.py`` module with ``main() -> dict``
(figures by name) that measures its own baseline in the same run and prints its lines.
A module that sets ``FULL = True`` takes minutes and runs only with ``--full`` (or when named).
A benchmark that fails is reported in the table and the others still run. Results go in
benchmarks/RESULTS.md by hand, with the date and the machine.

    python benchmarks/run_all.py [--full] [NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def discover(names: list[str], full: bool) -> list[tuple[str, Any]]:
    """(name, module) of each ``*_bench.py`` with a ``main``; opt-in ones only when asked."""
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    found = []
    for path in sorted(HERE.glob("*_bench.py")):
        if names and not any(n in path.stem for n in names):
            continue
        module = importlib.import_module(path.stem)
        if not callable(getattr(module, "main", None)):
            print(f"skipping {path.name}: it has no main() -> dict", file=sys.stderr)
            continue
        if getattr(module, "FULL", False) and not (full or names):
            print(f"skipping {path.name}: opt-in (takes minutes); run with --full",
                  file=sys.stderr)
            continue
        found.append((path.stem, module))
    return found


def run_one(name: str, module: Any) -> tuple[dict[str, Any], float]:
    """Call ``module.main()`` with a clean argv (some parse it); a failure becomes a figure."""
    argv = sys.argv
    sys.argv = [f"{name}.py"]
    start = time.perf_counter()
    try:
        figures = module.main() or {}
    except Exception as e:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        figures = {"failed": f"{type(e).__name__}: {e}".replace("|", "/")[:120]}
    finally:
        sys.argv = argv
    return figures, time.perf_counter() - start


def show(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def main(argv: list[str] | None = None) -> list[tuple[str, dict[str, Any], float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="also run the opt-in benchmarks that take minutes (quickstart)")
    parser.add_argument("names", nargs="*", help="run only benchmarks whose name contains one")
    args = parser.parse_args(argv)
    table = []
    for name, module in discover(args.names, args.full):
        print(f"== {name}", flush=True)
        figures, wall = run_one(name, module)
        table.append((name, figures, wall))
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print("\n| benchmark | figures | wall s |\n|---|---|---|")
    for name, figures, wall in table:
        shown = ", ".join(f"{k}={show(v)}" for k, v in figures.items())
        print(f"| {name} | {shown} | {wall:.0f} |")
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
