"""``emx slurm``: an sbatch array script whose task i runs shard i of N, and a gather job.

Each array task is one plain command, ``emx run FILE --shard $SLURM_ARRAY_TASK_ID/N --push``,
so any scheduler that can run N numbered commands can do the same (docs/scaling.md).
Tasks are numbered 1..N, like shards.

A DVC workspace runs one ``dvc repro`` at a time (DVC holds its repo lock throughout), so tasks
that started in the same project folder would fail on the lock. Each task therefore runs in its
own ``git clone`` of the project (its committed HEAD) in a scratch folder, like the separate
machines of ``emx run --shard``, and shares its results through the default DVC remote; the
gather job runs in the project folder itself, after every task.

Pure functions from options to script text: ``emdsl.slurm_submit`` talks to Slurm.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

SCRATCH_ENV = "EMX_SCRATCH"  # where tasks clone the project (default $TMPDIR, else /tmp)


@dataclass(frozen=True)
class SlurmOptions:
    shards: int
    gpus_per_task: int = 1
    cpus_per_task: int = 8
    time: str = "04:00:00"
    partition: str | None = None
    mem: str | None = None
    account: str | None = None
    setup: str = ":"  # a shell line run before emx in each task (activate an environment)


@dataclass(frozen=True)
class Checkout:
    """Where a task clones the project from, and how its clone reaches the remote."""

    repo: str  # the git top level that holds the project root
    subdir: str = "."  # the project root inside it
    remote: tuple[str, str] | None = None  # (default remote, absolute URL) when it is relative


def _header(name: str, opts: SlurmOptions, *, array: bool, gpus: int) -> list[str]:
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}",
             f"#SBATCH --output=slurm/logs/{name}-%A_%a.log" if array
             else f"#SBATCH --output=slurm/logs/{name}-%j.log",
             f"#SBATCH --time={opts.time}", f"#SBATCH --cpus-per-task={opts.cpus_per_task}"]
    if array:
        lines.append(f"#SBATCH --array=1-{opts.shards}")
    if gpus:
        lines.append(f"#SBATCH --gpus-per-task={gpus}")
    for flag, value in (("partition", opts.partition), ("mem", opts.mem),
                        ("account", opts.account)):
        if value:
            lines.append(f"#SBATCH --{flag}={value}")
    return lines


def array_script(path: str, opts: SlurmOptions, root: str, extra: Sequence[str] = (),
                 checkout: Checkout | None = None) -> str:
    """Task i (1..N) clones the project and runs ``emx run PATH --shard i/N --push`` there."""
    if opts.shards < 1:
        raise ValueError(f"--shards must be ≥ 1, got {opts.shards}")
    co = checkout or Checkout(repo=root)
    run = shlex.join(["emx", "run", path, *extra, "--shard",
                      f"__TASK__/{opts.shards}", "--push"]).replace("__TASK__", "${I}")
    work = f'"${{{SCRATCH_ENV}:-${{TMPDIR:-/tmp}}}}/emx-${{SLURM_ARRAY_JOB_ID:-$$}}-$I"'
    body = ["set -euo pipefail", f"cd {shlex.quote(root)}", opts.setup,
            "I=${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is an array job)}",
            f'echo "shard $I/{opts.shards} on $(hostname)"',
            "# one dvc repro per workspace: this task works in its own clone of the committed",
            "# project and shares its results through the default DVC remote",
            f"WORK={work}", 'rm -rf "$WORK"', "trap 'cd / && rm -rf \"$WORK\"' EXIT",
            f'git clone -q {shlex.quote(co.repo)} "$WORK"',
            f'cd "$WORK"/{shlex.quote(co.subdir)}',
            f"if [ -f {shlex.quote(root)}/.dvc/config.local ]; then "
            f"cp {shlex.quote(root)}/.dvc/config.local .dvc/; fi"]
    if co.remote:  # a relative directory remote means another folder from the clone
        body.append(shlex.join(["emx", "remote", "add", co.remote[0], co.remote[1],
                                "--default"]) + " >/dev/null")
    body.append(run)
    head = _header(_name(path), opts, array=True, gpus=opts.gpus_per_task)
    return "\n".join([*head, "", *body]) + "\n"


def gather_script(path: str, opts: SlurmOptions, root: str, extra: Sequence[str] = ()) -> str:
    """After every shard, in the project folder: restore all from the remote, run the gather
    stages, push, print the table."""
    body = ["set -euo pipefail", f"cd {shlex.quote(root)}", opts.setup, "emx pull",
            shlex.join(["emx", "run", path, *extra, "--push"])]
    head = _header(_name(path) + "-gather", opts, array=False, gpus=0)
    return "\n".join([*head, "", *body]) + "\n"


def _name(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].removesuffix(".emx")
    return "emx-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
