"""Quickstart wall time after setup for a first and a second study on one machine, and the
share spent in imports, model loading, training, generation and judging. Opt-in (``FULL``):
it runs the whole quickstart twice (~10 min idle).

`emx init` makes a fresh study in a temporary folder; `emx run experiments/quickstart.emx`
then runs every stage under DVC. Each stage logs ``done in T s (startup s, imports i,
load l, run r)`` (stages.common.run_stage); this sums those by phase and by stage kind. What
remains of the wall time is DVC's own work (hashing, locking, starting processes) and, under
`emx run`'s warm worker (stages.lib.warm), the worker's one-off imports, which overlap DVC's
start. ``--cold`` adds a third study beside the second with the worker off (``EMX_WARM=0``,
each stage a fresh process): the baseline for the worker's ratio, measured in the same run.

    python benchmarks/quickstart_bench.py [--cold]
    python benchmarks/run_all.py --full
"""

from __future__ import annotations

import json
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


def forked(folder: Path) -> int:
    """How many stages ran in a process forked from the warm worker (their run records)."""
    return sum(bool(json.loads(p.read_text()).get("warm"))
               for p in (folder / ".emx" / "runs").glob("*.json"))


def run_study(folder: Path, env: dict[str, str]) -> tuple[float, dict[str, dict[str, float]]]:
    """`emx init` + `emx run` of the quickstart in ``folder``: (wall seconds, phases)."""
    script = Path(sys.executable).parent / "emx"  # as a user runs it (a console script)
    emx = [str(script)] if script.exists() else [sys.executable, "-m", "emdsl.cli"]
    subprocess.run([*emx, "init", str(folder)], check=True, env=env, capture_output=True)
    start = time.perf_counter()
    run = subprocess.run([*emx, "run", "experiments/quickstart.emx"], cwd=folder, env=env,
                         capture_output=True, text=True)
    wall = time.perf_counter() - start
    log = run.stdout + run.stderr
    if run.returncode != 0:
        raise RuntimeError(f"quickstart failed in {folder}:\n{log[-3000:]}")
    return wall, phases(log)


def report(label: str, wall: float, stages: dict[str, dict[str, float]], goal: int | None,
           warm: int) -> None:
    print(f"{label}: {wall:.0f} s wall for {len(stages)} stages, {warm} of them forked from "
          "the warm worker" + (f" (goal ≤ {goal} s)" if goal else ""))
    for what, seconds in sorted(shares(stages, wall).items(), key=lambda kv: -kv[1]):
        print(f"  {what:<28} {seconds:6.1f} s  {100 * seconds / wall:4.1f}%")


def main(argv: list[str] | None = None) -> dict[str, float]:
    """A first study on a machine with empty caches, then a second study beside it: the
    second restores what is shared across studies (the trained probe judge, from
    ``$EMX_CACHE``) and computes the rest. All in fresh folders of a temporary directory,
    with their own ``$EMX_CACHE``, so a user's caches are neither read nor written."""
    cold = "--cold" in (argv or [])
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, EMX_NO_PROGRESS="1", HF_HUB_OFFLINE="1",
                   TRANSFORMERS_OFFLINE="1", EMX_CACHE=str(Path(tmp) / "machine-cache"),
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        env.pop("EMX_WARM", None)
        load = os.getloadavg()[0]
        studies = [("first study (empty machine caches)", "first", env, 240),
                   ("second study (same machine)", "second", env, 180)]
        if cold:
            studies.append(("second study again, worker off (EMX_WARM=0)", "cold",
                            {**env, "EMX_WARM": "0"}, None))
        results = []
        for label, name, study_env, goal in studies:
            wall, stages = run_study(Path(tmp) / name, study_env)
            results.append((label, name, wall, stages, goal, forked(Path(tmp) / name)))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at "
          f"the start, {os.getloadavg()[0]:.1f} at the end (figures under load are slower; "
          "compare the shares and the ratio)")
    for label, _, wall, stages, goal, warm in results:
        report(label, wall, stages, goal, warm)
    walls = {name: wall for _, name, wall, _, _, _ in results}
    print(f"second / first: {walls['second'] / walls['first']:.2f}")
    out = {"first_wall_s": walls["first"], "second_wall_s": walls["second"],
           "second_over_first": walls["second"] / walls["first"], "stages": len(results[0][3])}
    if cold:
        print(f"second, warm / cold: {walls['second'] / walls['cold']:.2f} "
              f"({walls['second']:.0f} s vs {walls['cold']:.0f} s)")
        out |= {"cold_wall_s": walls["cold"], "warm_over_cold": walls["second"] / walls["cold"]}
    for _, name, wall, stages, _, _ in results:
        out |= {f"{name}_{k.split()[0]}_pct": 100 * v / wall
                for k, v in shares(stages, wall).items() if not k.startswith("other")}
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
