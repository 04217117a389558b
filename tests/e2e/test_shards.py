"""Two clones as two machines: shards share a directory remote; a third clone recomputes nothing,
training included.

Origin: `emx init`, the tiny model (committed), a 2-variant experiment, `emx remote add`.
Clone A runs shard 1/2 (the shared model stage + one variant) and pushes; clone B runs shard
2/2, restoring the model stage from A's run-cache instead of recomputing it, and pushes; clone
C runs `emx pull`, after which `dvc repro` runs nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from study import EMX, GIT, ran_stages, run, sft_sweep

EXPERIMENT = sft_sweep("shard")


@pytest.mark.slow
def test_shards_on_two_clones_then_a_third_pulls_everything(tmp_path, tiny_model_dir):
    origin, remote = tmp_path / "origin", tmp_path / "remote"
    run([*EMX, "init", str(origin)], cwd=tmp_path)
    shutil.copytree(tiny_model_dir, origin / "models" / "tiny")
    (origin / "experiments" / "quickstart.emx").unlink()
    (origin / "experiments" / "shard.emx").write_text(EXPERIMENT)
    run([*EMX, "remote", "add", "shared", str(remote), "--default"], cwd=origin)
    run([*EMX, "compile"], cwd=origin)
    run(["git", "add", "-A"], cwd=origin)
    run([*GIT, "commit", "-qm", "study"], cwd=origin)
    clones = {}
    for name in "ABC":
        clones[name] = tmp_path / name
        run(["git", "clone", "-q", str(origin), str(clones[name])], cwd=tmp_path)

    a = run([*EMX, "run", "experiments/shard.emx", "--shard", "1/2"], cwd=clones["A"])
    a_ran = ran_stages(a.stdout)
    # the shared stages (model, base answers and their judge) + one variant's data, training,
    # answers and judge
    assert "model-models_tiny" in a_ran and len(a_ran) == 7, a_ran
    assert sum(s.startswith("train-") for s in a_ran) == 1

    b = run([*EMX, "run", "experiments/shard.emx", "--shard", "2/2"], cwd=clones["B"])
    b_ran = ran_stages(b.stdout)
    assert len(b_ran) == 4 and not b_ran & a_ran, b_ran  # the other variant only
    assert sum(s.startswith("train-") for s in b_ran) == 1
    assert "Stage 'model-models_tiny' is cached - skipping run" in b.stdout  # restored from A's push

    run([*EMX, "pull"], cwd=clones["C"])
    repro = run([sys.executable, "-m", "dvc", "repro"], cwd=clones["C"])
    assert ran_stages(repro.stdout) == set()
    status = run([sys.executable, "-m", "dvc", "status"], cwd=clones["C"])
    assert "Data and pipelines are up to date" in status.stdout
    for name in a_ran | b_ran:  # every stage's results arrived, e.g. the judges' metrics
        assert (clones["C"] / "results" / name).exists() or not name.startswith("judge")


def test_slurm_script_runs_one_shard_per_array_task(tmp_path):
    root = tmp_path / "study"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "experiments").mkdir()
    (root / "experiments" / "shard.emx").write_text(EXPERIMENT)
    out = run([*EMX, "slurm", "experiments/shard.emx", "--shards", "3", "--partition", "gpu",
               "--time", "01:00:00", "--setup", "module load cuda || true"], cwd=root)
    script = root / "slurm" / "shard.sbatch"
    text = script.read_text()
    assert "#SBATCH --array=1-3" in text and "#SBATCH --partition=gpu" in text
    assert "#SBATCH --gpus-per-task=1" in text
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert subprocess.run(["bash", "-n", str(root / "slurm" / "shard-gather.sbatch")]
                          ).returncode == 0
    assert "sbatch --dependency=afterok:$jid" in out.stdout
    assert "module load cuda || true" in text
    # Each task's command: run the script body with a stub `emx` and the task id set.
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "emx").write_text('#!/bin/sh\necho "emx $*"\n')
    (stub / "emx").chmod(0o755)
    for task in (1, 2, 3):
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                              env={"PATH": f"{stub}:/usr/bin:/bin", "SLURM_ARRAY_TASK_ID":
                                   str(task)}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"emx run experiments/shard.emx --shard {task}/3 --push" in done.stdout
