"""``emx slurm FILE --shards N``: an sbatch array script (task i runs shard i/N) and the
gather script that runs after all of them; ``--submit`` submits both, ``--status`` shows them."""

from __future__ import annotations

import argparse
import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

from emdsl.cli.common import fail, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("slurm", help="write an sbatch array script: task i runs shard i/N")
    s.add_argument("path", nargs="?", help="the .emx file (optional with --status)")
    s.add_argument("overrides", nargs="*", help="Hydra-style overrides passed to every shard")
    s.add_argument("--shards", type=int, metavar="N", help="array tasks (required to write)")
    s.add_argument("--gpus-per-task", type=int, default=1, metavar="G")
    s.add_argument("--cpus-per-task", type=int, default=8)
    s.add_argument("--time", default="04:00:00")
    s.add_argument("--partition")
    s.add_argument("--mem")
    s.add_argument("--account")
    s.add_argument("--setup", help="shell line each task runs first (default: put this "
                                   "interpreter's bin folder, with emx, first on PATH)")
    s.add_argument("--out", help="folder for the scripts (default: slurm/ at the root)")
    s.add_argument("--submit", action="store_true",
                   help="sbatch the array, then the gather job after it; print the job ids")
    s.add_argument("--status", action="store_true",
                   help="the state of the jobs the last --submit started (of FILE, or all)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = root_here()
    out = Path(args.out or root / "slurm")
    if args.status:
        return _status(args, out)
    if not args.path or args.shards is None:
        return fail("emx slurm FILE --shards N (or emx slurm [FILE] --status)")
    target = Path(args.path).resolve()
    if not target.is_file():
        return fail(f"no such file: {args.path}")
    rel = str(target.relative_to(root)) if target.is_relative_to(root) else str(target)
    written = _write(args, root, out, target, rel)
    if isinstance(written, int):
        return written
    array, gather = written
    if not args.submit:
        print(f"wrote {array} ({args.shards} array tasks) and {gather}; submit with\n"
              f"  jid=$(sbatch --parsable {array})\n"
              f"  sbatch --dependency=afterok:$jid {gather}\n"
              f"(or emx slurm {args.path} --shards {args.shards} --submit)")
        return 0
    return _submit(root, out, target, rel, args.shards, array, gather)


def _write(args: argparse.Namespace, root: Path, out: Path, target: Path, rel: str
           ) -> tuple[str, str] | int:
    """Write both scripts; their paths relative to the working directory, or an exit code."""
    from emdsl.emit import write_if_changed
    from emdsl.slurm import Checkout, SlurmOptions, array_script, gather_script

    opts = SlurmOptions(shards=args.shards, gpus_per_task=args.gpus_per_task,
                        cpus_per_task=args.cpus_per_task, time=args.time,
                        partition=args.partition, mem=args.mem, account=args.account,
                        setup=args.setup or "export PATH=" + shlex.quote(
                            str(Path(sys.executable).parent)) + ':"$PATH"')
    repo = _git_top(root) or root
    checkout = Checkout(repo=str(repo), subdir=os.path.relpath(root, repo),
                        remote=_remote_for_clones(root))
    try:
        scripts = {"": array_script(rel, opts, str(root), args.overrides, checkout),
                   "-gather": gather_script(rel, opts, str(root), args.overrides)}
    except ValueError as e:
        return fail(str(e))
    out.mkdir(parents=True, exist_ok=True)
    (root / "slurm" / "logs").mkdir(parents=True, exist_ok=True)  # sbatch does not make it
    for suffix, text in scripts.items():
        write_if_changed(out / f"{target.stem}{suffix}.sbatch", text)
    from emdsl.remote import default_remote

    if not default_remote(root):
        print("emx slurm: warning: no default DVC remote; the tasks share their results "
              "through one (emx remote add NAME URL --default)", file=sys.stderr)
    array, gather = (os.path.relpath(out / f"{target.stem}{s}.sbatch") for s in scripts)
    return array, gather


def _submit(root: Path, out: Path, target: Path, rel: str, shards: int, array: str,
            gather: str) -> int:
    from emdsl.remote import default_remote
    from emdsl.slurm_submit import SlurmError, save, submit

    if not default_remote(root):
        return fail("the tasks share their results through a DVC remote: "
                    "`emx remote add NAME URL --default` first (docs/scaling.md)")
    if problem := _uncommitted(root, target):
        return fail(f"{problem}: each task clones the committed project, so commit it first")
    try:
        done = submit(Path(array).resolve(), Path(gather).resolve(), root, rel, shards)
    except SlurmError as e:
        return fail(str(e))
    save(done, out / f"{target.stem}.jobs.json")
    print(f"array job {done.array} ({shards} tasks), gather job {done.gather} after it\n"
          f"logs in {os.path.relpath(root / 'slurm' / 'logs')}/; "
          f"emx slurm {os.path.relpath(target)} --status")
    return 0


def _status(args: argparse.Namespace, out: Path) -> int:
    from emdsl.slurm_submit import job_states, load, table

    records = sorted(out.glob(f"{Path(args.path).stem if args.path else '*'}.jobs.json"))
    if not records:
        return fail(f"no submitted jobs recorded in {out} (emx slurm FILE --shards N --submit)")
    for path in records:
        rec = load(path)
        print(f"{rec.file}: {rec.shards} shards, submitted {rec.submitted}")
        print(table(job_states([rec.array, rec.gather])))
    return 0


def _git_top(root: Path) -> Path | None:
    done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root,
                          capture_output=True, text=True)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _uncommitted(root: Path, target: Path) -> str | None:
    """Why a clone of HEAD would not run ``target`` as it is here, or None."""
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(target)], cwd=root,
                             capture_output=True, text=True)
    if tracked.returncode != 0:
        return f"{os.path.relpath(target)} is not committed"
    changed = subprocess.run(["git", "status", "--porcelain", "--", str(target)], cwd=root,
                             capture_output=True, text=True).stdout.strip()
    if changed:
        return f"{os.path.relpath(target)} has uncommitted changes"
    return None


def _remote_for_clones(root: Path) -> tuple[str, str] | None:
    """(default remote, absolute URL) when its URL is a relative directory: DVC resolves it
    against ``.dvc/``, which is elsewhere in a task's scratch clone."""
    from emdsl.remote import default_remote

    name = default_remote(root)
    if not name:
        return None
    url = None
    for config in ("config", "config.local"):
        parser = configparser.ConfigParser()
        try:
            parser.read(root / ".dvc" / config, encoding="utf-8")
        except configparser.Error:
            continue
        for section in (f'remote "{name}"', f"'remote \"{name}\"'"):
            url = parser.get(section, "url", fallback=url)
    if not url or "://" in url or os.path.isabs(url):
        return None
    return name, os.path.normpath(root / ".dvc" / url)
