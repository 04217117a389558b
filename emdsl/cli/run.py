"""``emx run FILE [OVERRIDES]``: compile, then ``dvc repro`` the stages of one file; with
``--shard I/N`` only the I-th share of its variants, with ``--jobs N`` N stages at once."""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from emdsl.cli.common import (
    DEFAULT_DIR,
    compile_and_write,
    fail,
    parse_overrides,
    root_here,
    track_judge_cache,
)
from emdsl.lock import WAIT_HELP, WorkspaceBusy, workspace_lock

if TYPE_CHECKING:
    from emdsl.compile import Graph


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("run", help="compile, then `dvc repro` the stages of one file")
    s.add_argument("path")
    s.add_argument("overrides", nargs="*",
                   help="Hydra-style overrides: train.lr=1e-4 'data.poison=0,0.5'")
    s.add_argument("--dry", action="store_true", help="compile and list the stages, run nothing")
    s.add_argument("--shard", metavar="I/N",
                   help="run the I-th of N deterministic shares of the variants (docs/scaling.md)")
    s.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="run up to N independent variants at once on this machine")
    s.add_argument("--push", action=argparse.BooleanOptionalAction, default=None,
                   help="push outputs and run-cache when done (default: if a default remote "
                        "is configured)")
    s.add_argument("--wait", action="store_true", help=WAIT_HELP)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The run, holding the workspace lock from before it writes a file (emdsl.lock)."""
    root = root_here()
    try:
        with workspace_lock(root, "run", wait=args.wait):
            return _run(args, root)
    except WorkspaceBusy as e:
        return fail(str(e))


def _run(args: argparse.Namespace, root: Path) -> int:
    target = Path(args.path)
    try:
        overrides = parse_overrides(args.overrides)
    except ValueError as e:
        return fail(str(e))
    sources = [p for p in [root / DEFAULT_DIR] if p.exists()] + [target]
    graph, rc = compile_and_write(sources, root, {target: overrides})
    if graph is None:
        return rc
    tfile = target.resolve()  # a file, or a folder of them (`emx run experiments`)
    names = sorted({n.name for n in graph.nodes.values()
                    if any(v.file == tfile or tfile in v.file.parents for v, _ in n.users)})
    if not names:
        return fail(f"{target} defines no experiments")
    if args.shard:
        return _run_shard(args, root, graph, names)
    print(f"$ dvc repro <{len(names)} stages of {target}>", flush=True)
    if args.dry:
        print("\n".join(names))
        return 0
    rc = _repro(args, root, graph, names)
    if rc != 0:
        return rc
    track_judge_cache(root)
    if (rc := _maybe_push(args, root)) != 0:
        return rc
    from emdsl.results import results_table

    print(results_table(root, [str(tfile.relative_to(root))]))
    return 0


def _repro(args: argparse.Namespace, root: Path, graph: Graph, names: list[str]) -> int:
    """`dvc repro names`, restoring from the remote's run-cache when one is configured, with
    --jobs N independent stages at once (emdsl.parallel), its stages forked from a warm
    worker that has torch and transformers imported already (stages.lib.warm)."""
    from emdsl import remote
    from stages.lib import warm

    if remote.default_remote(root):
        remote.fetch_run_cache(root)  # stages other machines pushed are restored, not rerun
    with warm.started(root, remote.dvc_env()) as extra:
        if args.jobs > 1:
            from emdsl.parallel import run_parallel
            from emdsl.shard import graph_inputs

            return run_parallel(root, names, *graph_inputs(graph, names), args.jobs, extra)
        pull = ["--pull"] if remote.default_remote(root) else []
        # Its own session: a terminal's Ctrl-C reaches emx only, which stops dvc's stages.
        return _wait(subprocess.Popen([sys.executable, "-m", "dvc", "repro", *pull, *names],
                                      cwd=root, env=remote.dvc_env(**extra),
                                      start_new_session=True))


def _wait(proc: subprocess.Popen) -> int:
    """``proc``'s exit code. On Ctrl-C its stage commands are stopped quietly and dvc is left
    to release its locks, then the interrupt goes on to ``emx``'s main, which says so in one
    line (instead of a traceback from every process and stale-lock warnings next run)."""
    try:
        return proc.wait()
    except KeyboardInterrupt:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits too
        try:
            _stop(proc)
        finally:
            signal.signal(signal.SIGINT, previous)
        raise


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """End the commands ``proc`` (dvc) runs with SIGTERM, so dvc sees them fail and cleans
    up; dvc itself is ended only when it does not exit within ``grace`` seconds."""
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _maybe_push(args: argparse.Namespace, root: Path) -> int:
    """--push, or by default when a default remote is configured (--no-push skips it)."""
    from emdsl import remote

    if args.push is False or (args.push is None and not remote.default_remote(root)):
        return 0
    return remote.push(root)


def _run_shard(args: argparse.Namespace, root: Path, graph: Graph, names: list[str]) -> int:
    from emdsl.shard import graph_inputs, parse_shard, plan

    try:
        index, count = parse_shard(args.shard)
    except ValueError as e:
        return fail(str(e))
    p = plan(*graph_inputs(graph, names), index, count)
    print(f"shard {index}/{count}: {len(p.units)} of the variants, {len(p.targets)} stages"
          + (f" (with the {len(p.shared)} shared ones)" if index == 1 and p.shared else "")
          + (f"; {len(p.gather)} gather stages run after every shard (`emx pull`)"
             if p.gather else ""), flush=True)
    if args.dry:
        print("\n".join(p.targets))
        return 0
    if not p.targets:
        print(f"shard {index}/{count}: nothing to do (more shards than variants)")
        return 0
    if (rc := _repro(args, root, graph, p.targets)) != 0:
        return rc
    track_judge_cache(root)
    return _maybe_push(args, root)
