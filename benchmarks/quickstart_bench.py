"""Quickstart wall time after setup, and the share spent in imports, model loading,
training, generation and judging. Opt-in (``FULL``): it runs the whole quickstart (~5 min).

`emx init` makes a fresh study in a temporary folder; `emx run experiments/quickstart.emx`
then runs every stage under DVC. Each stage logs ``done in T s (startup s, imports i,
load l, run r)`` (stages.common.run_stage); this sums those by phase and by stage kind. What
remains of the wall time is DVC's own work (hashing, locking, starting processes).

    python benchmarks/quickstart_bench.py
    python benchmarks/run_all.py --full
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

FULL = True  # takes minutes: run_all.py runs it only with --full
ROOT = Path(__file__).resolve().parent.parent
DONE = re.compile(r"\] (\S+): done in ([\d.]+)s \(([^)]*)\)")


def phases(log: str) -> dict[str, dict[str, float]]:
    """stage name -> {phase: seconds}, from the stages' `done in` lines."""
    found = {}
    for name, total, parts in DONE.findall(log):
        spent = {k: float(v.rstrip("s")) for k, v in (p.split() for p in parts.split(", "))}
        spent["total"] = float(total) + spent.get("startup", 0.0)
        found[name] = spent
    return found


def shares(stages: dict[str, dict[str, float]], wall: float) -> dict[str, float]:
    """Seconds per category: imports (+interpreter startup), model loading, and each
    stage kind's own work; ``dvc`` is the rest of the wall time."""
    out: dict[str, float] = defaultdict(float)
    for name, spent in stages.items():
        kind = name.split("-")[0]
        out["imports"] += spent.get("imports", 0.0) + spent.get("startup", 0.0)
        out["model loading"] += spent.get("load", 0.0)
        work = {"train": "training", "generate": "generation", "judge": "judging",
                "judge_train": "judging"}.get(kind, f"other ({kind})")
        out[work] += spent.get("run", 0.0)
    out["dvc and process start"] = max(0.0, wall - sum(s["total"] for s in stages.values()))
    return dict(out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    env = dict(os.environ, EMX_NO_PROGRESS="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    emx = [sys.executable, "-m", "emdsl.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "study"
        subprocess.run([*emx, "init", str(study)], check=True, env=env, capture_output=True)
        start = time.perf_counter()
        run = subprocess.run([*emx, "run", "experiments/quickstart.emx"], cwd=study, env=env,
                             capture_output=True, text=True)
        wall = time.perf_counter() - start
    log = run.stdout + run.stderr
    if run.returncode != 0:
        raise RuntimeError(f"quickstart failed:\n{log[-3000:]}")
    stages = phases(log)
    split = shares(stages, wall)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"quickstart after setup: {wall:.0f} s wall for {len(stages)} stages (goal ≤ 300 s)")
    for what, seconds in sorted(split.items(), key=lambda kv: -kv[1]):
        print(f"  {what:<28} {seconds:6.1f} s  {100 * seconds / wall:4.1f}%")
    return {"wall_s": wall, "stages": len(stages),
            **{f"{k.split()[0]}_pct": 100 * v / wall for k, v in split.items()
               if not k.startswith("other")}}


if __name__ == "__main__":
    main(sys.argv[1:])
