"""Training is shared like every other stage (issue 13): `--jobs 2` trains each variant once,
and a fresh clone without the producer's dvc.lock restores everything from the remote's
run-cache: no stage runs, no judge is asked."""

from __future__ import annotations

import re
import shutil
import sys

import pytest
from study import EMX, GIT, run, sft_sweep

pytestmark = pytest.mark.slow

EXPERIMENT = sft_sweep("sweep")


def runs_of(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def judge_calls(output: str) -> int:
    return sum(int(n) for n in re.findall(r"judge: calls (\d+)", output))


def test_jobs_train_once_and_a_clone_without_the_lock_recomputes_nothing(tmp_path,
                                                                        tiny_model_dir):
    origin, remote, clone = tmp_path / "origin", tmp_path / "remote", tmp_path / "clone"
    run([*EMX, "init", str(origin)], cwd=tmp_path)
    shutil.copytree(tiny_model_dir, origin / "models" / "tiny")
    (origin / "experiments" / "quickstart.emx").unlink()
    (origin / "experiments" / "sweep.emx").write_text(EXPERIMENT)
    run([*EMX, "remote", "add", "shared", str(remote), "--default"], cwd=origin)

    first = run([*EMX, "run", "experiments/sweep.emx", "--jobs", "2"], cwd=origin)
    trained = [s for s in runs_of(first.stdout) if s.startswith("train-")]
    assert sorted(trained) == ["train-sweep-seed_0", "train-sweep-seed_1"]  # once each
    assert "Stage 'train-sweep-seed_0' is cached - skipping run" in first.stdout

    # Commit the study but not dvc.lock: every shard's situation.
    run(["git", "add", "-A"], cwd=origin)
    run(["git", "rm", "-q", "--cached", "dvc.lock"], cwd=origin)
    run([*GIT, "commit", "-qm", "study"], cwd=origin)
    run(["git", "clone", "-q", str(origin), str(clone)], cwd=tmp_path)
    assert not (clone / "dvc.lock").exists()
    pulled = run([*EMX, "pull"], cwd=clone)
    assert "not in the run-cache" not in pulled.stdout + pulled.stderr
    repro = run([sys.executable, "-m", "dvc", "repro"], cwd=clone)
    assert runs_of(repro.stdout) == [] and judge_calls(repro.stdout + repro.stderr) == 0
    status = run([sys.executable, "-m", "dvc", "status"], cwd=clone)
    assert "Data and pipelines are up to date" in status.stdout
    shown = run([*EMX, "show"], cwd=clone).stdout
    assert "| sweep | seed=1 |" in shown and "not current" not in shown
