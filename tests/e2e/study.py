"""A fresh study repo for end-to-end tests: `emx init`, the tiny model, one experiment, run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

EMX = [sys.executable, "-m", "emdsl.cli"]


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
