"""``emx slurm FILE --shards N``: an sbatch array script (task i runs shard i/N) and the
gather script that runs after all of them."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from emdsl.cli.common import fail, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("slurm", help="write an sbatch array script: task i runs shard i/N")
    s.add_argument("path")
    s.add_argument("overrides", nargs="*", help="Hydra-style overrides passed to every shard")
    s.add_argument("--shards", type=int, required=True, metavar="N")
    s.add_argument("--gpus-per-task", type=int, default=1, metavar="G")
    s.add_argument("--cpus-per-task", type=int, default=8)
    s.add_argument("--time", default="04:00:00")
    s.add_argument("--partition")
    s.add_argument("--mem")
    s.add_argument("--account")
    s.add_argument("--setup", help="shell line each task runs first (default: put this "
                                   "interpreter's bin folder, with emx, first on PATH)")
    s.add_argument("--out", help="folder for the scripts (default: slurm/ at the root)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.emit import write_if_changed
    from emdsl.slurm import SlurmOptions, array_script, gather_script

    root = root_here()
    target = Path(args.path).resolve()
    if not target.is_file():
        return fail(f"no such file: {args.path}")
    rel = str(target.relative_to(root)) if target.is_relative_to(root) else str(target)
    opts = SlurmOptions(shards=args.shards, gpus_per_task=args.gpus_per_task,
                        cpus_per_task=args.cpus_per_task, time=args.time,
                        partition=args.partition, mem=args.mem, account=args.account,
                        setup=args.setup or "export PATH=" + shlex.quote(
                            str(Path(sys.executable).parent)) + ':"$PATH"')
    try:
        scripts = {"": array_script(rel, opts, str(root), args.overrides),
                   "-gather": gather_script(rel, opts, str(root))}
    except ValueError as e:
        return fail(str(e))
    out = Path(args.out or root / "slurm")
    out.mkdir(parents=True, exist_ok=True)
    (root / "slurm" / "logs").mkdir(parents=True, exist_ok=True)  # sbatch does not make it
    stem = target.stem
    for suffix, text in scripts.items():
        write_if_changed(out / f"{stem}{suffix}.sbatch", text)
    array, gather = (os.path.relpath(out / f"{stem}{s}.sbatch") for s in scripts)
    print(f"wrote {array} ({args.shards} array tasks) and {gather}; submit with\n"
          f"  jid=$(sbatch --parsable {array})\n"
          f"  sbatch --dependency=afterok:$jid {gather}")
    return 0
