"""``emx run --jobs N`` vs ``--jobs 1`` on the tiny model, in one run, from fresh studies.

Each timing starts from its own new study (``emx init``, the tests' tiny Llama, a sweep of
``--variants`` evaluation seeds: per variant a generate and a judge stage, one shared model
stage), so neither run restores the other's stages. Takes minutes: opt-in in run_all.

    python benchmarks/jobs_bench.py [--jobs 2] [--variants 4]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]
FULL = True

EXPERIMENT = """\
model tiny = path("models/tiny")
questions core = builtin("core")
judge small = local(model=tiny)

experiment jobs {{
  base = tiny
  eval = evaluate(core, samples=1, paraphrases=1, max_tokens=8, judge=small)
  sweep eval.seed = [{seeds}]
}}
"""


def study(root: Path, tiny: Path, variants: int, env: dict[str, str]) -> None:
    emx = [sys.executable, "-m", "emdsl.cli"]
    subprocess.run([*emx, "init", str(root)], check=True, env=env, stdout=subprocess.DEVNULL)
    shutil.copytree(tiny, root / "models" / "tiny")
    (root / "experiments" / "quickstart.emx").unlink()
    (root / "experiments" / "jobs.emx").write_text(
        EXPERIMENT.format(seeds=", ".join(map(str, range(variants)))))


def timed_run(root: Path, jobs: int, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "emdsl.cli", "run", "experiments/jobs.emx",
                           "--jobs", str(jobs)], cwd=root, env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
    return seconds


def main(argv: list[str] | None = None) -> dict[str, float]:
    from tiny import make_tiny_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--variants", type=int, default=4)
    args = parser.parse_args(argv or [])
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", EMX_NO_PROGRESS="1",
               DVC_NO_ANALYTICS="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with tempfile.TemporaryDirectory() as tmp:
        tiny = make_tiny_model(Path(tmp) / "tiny")
        times = {}
        for jobs in (1, args.jobs):
            root = Path(tmp) / f"study-{jobs}"
            study(root, tiny, args.variants, env)
            times[jobs] = timed_run(root, jobs, env)
    one, many = times[1], times[args.jobs]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{args.variants} variants × (generate + judge) + 1 shared model stage")
    print(f"--jobs 1: {one:.1f} s; --jobs {args.jobs}: {many:.1f} s; "
          f"speed-up {one / many:.2f}×")
    return {"jobs1_s": one, f"jobs{args.jobs}_s": many, "speedup": one / many}


if __name__ == "__main__":
    main(sys.argv[1:])
