"""``emx slurm``: an sbatch array script whose task i runs shard i of N, and a gather job.

Each array task is one plain command, ``emx run FILE --shard $SLURM_ARRAY_TASK_ID/N --push``,
so any scheduler that can run N numbered commands can do the same (docs/scaling.md).
Tasks are numbered 1..N, like shards.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


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


def array_script(path: str, opts: SlurmOptions, root: str, extra: list[str] = ()) -> str:
    """Task i (1..N) runs ``emx run PATH --shard i/N --push`` from the project root."""
    if opts.shards < 1:
        raise ValueError(f"--shards must be ≥ 1, got {opts.shards}")
    run = shlex.join(["emx", "run", path, *extra, "--shard",
                      f"__TASK__/{opts.shards}", "--push"]).replace("__TASK__", "${I}")
    body = ["set -euo pipefail", f"cd {shlex.quote(root)}", opts.setup,
            "I=${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is an array job)}",
            f'echo "shard $I/{opts.shards} on $(hostname)"', run]
    head = _header(_name(path), opts, array=True, gpus=opts.gpus_per_task)
    return "\n".join([*head, "", *body]) + "\n"


def gather_script(path: str, opts: SlurmOptions, root: str) -> str:
    """After every shard: restore all from the remote, run the gather stages, push, table."""
    body = ["set -euo pipefail", f"cd {shlex.quote(root)}", opts.setup, "emx pull",
            shlex.join(["emx", "run", path, "--push"])]
    head = _header(_name(path) + "-gather", opts, array=False, gpus=0)
    return "\n".join([*head, "", *body]) + "\n"


def _name(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].removesuffix(".emx")
    return "emx-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)
