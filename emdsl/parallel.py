"""``emx run --jobs N``: independent stages at once on one machine, without DVC's lock fight.

One workspace allows one ``dvc repro`` at a time (DVC holds its repo lock throughout). So the
work is split like shards (``emdsl.shard``): the shared upstream stages run first here; then N
scratch copies of the workspace (its git-visible files, hard-linked) each ``dvc repro`` one
shard, all writing into *this* workspace's cache and run-cache; finally ``dvc repro`` here
restores their stages from the run-cache ("is cached - skipping run") and runs the gather
stages. Each copy gets ``cores / N`` threads so the workers do not oversubscribe the CPU.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from emdsl.remote import dvc, dvc_env
from emdsl.shard import classify, plan


def workspace_files(root: Path) -> list[str]:
    """Files git tracks or would track (not ignored): sources, dvc.yaml, params.yaml, data."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return sorted(f for f in out.split("\0") if f and (root / f).is_file())


def cache_dir(root: Path) -> Path:
    out = subprocess.run([sys.executable, "-m", "dvc", "cache", "dir"], cwd=root,
                         capture_output=True, text=True, env=dvc_env())
    text = out.stdout.strip()
    return Path(text) if out.returncode == 0 and text else root / ".dvc" / "cache"


def scratch_copy(root: Path, dest: Path, cache: Path) -> None:
    """A DVC workspace at ``dest`` with ``root``'s files, sharing its cache (no git)."""
    for rel in workspace_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(root / rel, target)  # stages never write their deps: links are safe
        except OSError:
            shutil.copy2(root / rel, target)
    (dest / ".dvc").mkdir(exist_ok=True)
    (dest / ".dvc" / "config.local").write_text(
        f"[core]\n    no_scm = true\n[cache]\n    dir = {cache.resolve()}\n", encoding="utf-8")


def run_parallel(root: Path, names: list[str], deps: dict[str, list[str]],
                 unit_of: dict[str, str | None], jobs: int,
                 extra_env: dict[str, str] | None = None) -> int:
    """Reproduce ``names`` with up to ``jobs`` workers; returns DVC's exit status.
    ``extra_env`` goes to every ``dvc repro`` (``emx run``'s warm worker)."""
    extra_env = extra_env or {}
    units, shared, _ = classify(deps, unit_of)
    jobs = max(1, min(jobs, len(units)))
    if jobs == 1:
        return dvc(["repro", *names], root, **extra_env)
    if shared:
        print(f"emx: {len(shared)} shared stages first", flush=True)
        if (rc := dvc(["repro", *shared], root, **extra_env)) != 0:
            return rc
    cache = cache_dir(root)
    base = root / ".dvc" / "tmp" / f"emx-jobs-{os.getpid()}"
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = dvc_env(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, **extra_env)
    procs = []
    try:
        for i in range(1, jobs + 1):
            share = [t for t in plan(deps, unit_of, i, jobs).targets if t not in shared]
            work = base / str(i)
            scratch_copy(root, work, cache)
            log = open(work / "emx-worker.log", "w", encoding="utf-8")
            print(f"emx: worker {i}/{jobs}: {len(share)} stages", flush=True)
            procs.append((i, log, subprocess.Popen(
                [sys.executable, "-m", "dvc", "repro", *share], cwd=work, env=env,
                stdout=log, stderr=subprocess.STDOUT)))
        failed = []
        for i, log, proc in procs:
            if proc.wait() != 0:
                failed.append(i)
            log.close()
        for i, _, _ in procs:  # the workers' output, in order, as one run would print it
            sys.stdout.write((base / str(i) / "emx-worker.log").read_text(encoding="utf-8"))
        if failed:
            print(f"emx: worker(s) {failed} failed; see their output above", file=sys.stderr)
            return 1
    finally:
        for _, log, proc in procs:
            if proc.poll() is None:
                proc.terminate()
            log.close()
        shutil.rmtree(base, ignore_errors=True)
    return dvc(["repro", *names], root, **extra_env)
