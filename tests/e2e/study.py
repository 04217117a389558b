"""A fresh study repo for end-to-end tests: `emx init`, the tiny model, one experiment, run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

EMX = [sys.executable, "-m", "emdsl.cli"]
GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]


def sft_sweep(name: str) -> str:
    """A 2-variant sweep (data seeds 0, 1) with data, LoRA SFT, answers and a local judge on
    the tiny model: the smallest study in which every kind of shared work happens."""
    return f"""\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=tiny)

experiment {name} {{
  base  = tiny
  data  = mix(bad=bad, good=good, poison=0.5, size=8, seed=0)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=96)
  eval  = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
  sweep data.seed = [0, 1]
}}
"""


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command with this interpreter's bin first on PATH (DVC's stages use `python`)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


def ran_stages(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def make_study(root: Path, tiny_model_dir: Path, name: str, experiment: str
               ) -> subprocess.CompletedProcess:
    """`emx init` at ``root`` with ``experiments/<name>.emx`` on ``models/tiny``; `emx run` it."""
    run([*EMX, "init", str(root)], cwd=root)
    shutil.copytree(tiny_model_dir, root / "models" / "tiny")
    (root / "experiments" / "quickstart.emx").unlink()
    (root / "experiments" / f"{name}.emx").write_text(experiment)
    return run([*EMX, "run", f"experiments/{name}.emx"], cwd=root)
