"""`emx slurm --submit` on a real one-node Slurm (tests/slurm_cluster.py).

The study of test_shards (the tiny model, 2 variants, a directory remote), committed; the array
job's two tasks each clone it and run their shard at the same time, then the gather job, in the
project folder, restores everything from the remote and recomputes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slurm_cluster import REQUIRE_ENV, logs, missing, slurm_cluster
from study import EMX, GIT, ran_stages, run

from emdsl.slurm_submit import finished, job_states

EXPERIMENT = """\
model tiny = path("models/tiny")
questions core = builtin("core")
judge small = local(model=tiny)

experiment shard {
  base = tiny
  eval = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
  sweep eval.seed = [0, 1]
}
"""  # test_shards' study: the shared model stage, then 2 stages per variant
WAIT_S = 8 * 60


@pytest.fixture
def cluster(tmp_path_factory):
    if reason := missing():
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but {reason}")
        pytest.skip(reason)
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as c:
        yield c


def _study(root: Path, tiny_model_dir: Path, remote: Path) -> None:
    run([*EMX, "init", str(root)], cwd=root.parent)
    shutil.copytree(tiny_model_dir, root / "models" / "tiny")
    (root / "experiments" / "quickstart.emx").unlink()
    (root / "experiments" / "shard.emx").write_text(EXPERIMENT)
    run([*EMX, "remote", "add", "shared", str(remote), "--default"], cwd=root)
    run([*EMX, "compile"], cwd=root)
    run(["git", "add", "-A"], cwd=root)
    run([*GIT, "commit", "-qm", "study"], cwd=root)


def _wait(ids: list[str], folder: Path, root: Path) -> list:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        rows = job_states(ids)
        if finished(rows) and len(rows) == 3:  # two array tasks and the gather job
            return rows
        time.sleep(2)
    job_logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                         for p in sorted((root / "slurm" / "logs").glob("*.log")))
    pytest.fail(f"jobs not done after {WAIT_S} s: {rows}\n{job_logs}\n{logs(folder)}")


@pytest.mark.slow
def test_submit_runs_both_shards_then_a_gather_that_recomputes_nothing(
        tmp_path, tiny_model_dir, cluster, monkeypatch):
    root, scratch = tmp_path / "study", tmp_path / "scratch"
    root.mkdir()
    scratch.mkdir()
    _study(root, tiny_model_dir, tmp_path / "remote")
    monkeypatch.setenv("EMX_SCRATCH", str(scratch))  # the tasks' clones; sbatch passes it on
    out = run([*EMX, "slurm", "experiments/shard.emx", "--shards", "2", "--submit",
               "--gpus-per-task", "0", "--cpus-per-task", "1", "--time", "00:20:00"],
              cwd=root)
    m = re.search(r"array job (\d+) \(2 tasks\), gather job (\d+) after it", out.stdout)
    assert m, out.stdout
    array, gather = m.groups()
    rows = _wait([array, gather], cluster.folder, root)

    log_dir = root / "slurm" / "logs"
    shard_logs = [log_dir / f"emx-shard-{array}_{i}.log" for i in (1, 2)]
    gather_log = log_dir / f"emx-shard-gather-{gather}.log"
    texts = {p: p.read_text() if p.exists() else "(no log)" for p in [*shard_logs, gather_log]}
    assert [r.state for r in rows] == ["COMPLETED"] * 3, (rows, texts)
    assert [r.exit_code for r in rows] == ["0:0"] * 3

    one, two = (ran_stages(texts[p]) for p in shard_logs)
    assert "shard 1/2 on " in texts[shard_logs[0]] and "shard 2/2 on " in texts[shard_logs[1]]
    assert "model-models_tiny" in one and len(one) == 3  # the shared model + one variant's 2
    # shard 2 ran at the same time: it restored the model from shard 1's push, or computed it
    variant_two = two - {"model-models_tiny"}
    assert len(variant_two) == 2 and not variant_two & one
    assert ran_stages(texts[gather_log]) == set(), texts[gather_log]  # no gather stages here
    assert "is cached - skipping run" in texts[gather_log]  # restored from the remote
    assert list(scratch.iterdir()) == []  # each task removed its clone

    status = run([sys.executable, "-m", "dvc", "status"], cwd=root)
    assert "Data and pipelines are up to date" in status.stdout
    for name in one | two:
        assert (root / "results" / name).exists() or not name.startswith("judge")

    shown = run([*EMX, "slurm", "--status"], cwd=root).stdout
    assert f"{array}_1" in shown and f"{array}_2" in shown and gather in shown
    assert shown.count("COMPLETED") == 3, shown


def test_submit_without_sbatch_says_what_to_do(tmp_path, tiny_model_dir):
    root = tmp_path / "study"
    root.mkdir()
    _study(root, tiny_model_dir, tmp_path / "remote")
    bin_dir = tmp_path / "bin"  # git, but no sbatch
    bin_dir.mkdir()
    os.symlink(shutil.which("git"), bin_dir / "git")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{bin_dir}")
    done = subprocess.run([*EMX, "slurm", "experiments/shard.emx", "--shards", "2", "--submit"],
                          cwd=root, capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "sbatch not found: run on a Slurm login node, or submit" in done.stderr
    assert (root / "slurm" / "shard.sbatch").is_file()  # the scripts are written all the same


def test_scripts_clone_per_task_and_pass_overrides_to_the_gather():
    from emdsl.slurm import Checkout, SlurmOptions, array_script, gather_script

    opts = SlurmOptions(shards=2)
    co = Checkout(repo="/p", subdir="study", remote=("shared", "/mnt/remote"))
    text = array_script("experiments/a.emx", opts, "/p/study", ["eval.seed=3"], co)
    assert 'git clone -q /p "$WORK"' in text and 'cd "$WORK"/study' in text
    assert "emx remote add shared /mnt/remote --default" in text
    assert text.index("git clone") < text.index("emx run experiments/a.emx eval.seed=3 --shard")
    gather = gather_script("experiments/a.emx", opts, "/p/study", ["eval.seed=3"])
    assert "emx run experiments/a.emx eval.seed=3 --push" in gather


def test_status_rows_from_scontrol_records(monkeypatch):
    from emdsl import slurm_submit

    records = {"12": "JobId=14 ArrayJobId=12 ArrayTaskId=2 JobName=emx-a JobState=RUNNING "
                     "Reason=None ExitCode=0:0 RunTime=00:00:05\n"
                     "JobId=12 ArrayJobId=12 ArrayTaskId=1 JobName=emx-a JobState=COMPLETED "
                     "Reason=None ExitCode=0:0 RunTime=00:01:00\n",
               "13": "JobId=13 JobName=emx-a-gather JobState=PENDING Reason=Dependency "
                     "ExitCode=0:0 RunTime=00:00:00\n"}

    def fake_run(cmd, **_):
        job = cmd[-1]
        return subprocess.CompletedProcess(cmd, 0 if job in records else 1,
                                           records.get(job, ""), "")

    monkeypatch.setattr(slurm_submit.shutil, "which", lambda name: name)
    monkeypatch.setattr(slurm_submit.subprocess, "run", fake_run)
    rows = slurm_submit.job_states(["12", "13", "99"])
    assert [(r.job, r.state) for r in rows] == [("12_1", "COMPLETED"), ("12_2", "RUNNING"),
                                                ("13", "PENDING"), ("99", "GONE")]
    assert rows[2].reason == "Dependency" and not slurm_submit.finished(rows)
    assert slurm_submit.table(rows).splitlines()[0].split() == ["JOB", "NAME", "STATE", "EXIT",
                                                                "TIME", "REASON"]
