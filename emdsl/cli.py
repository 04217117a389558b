"""The ``emx`` command. Imports stay light here: no torch, trl or sae-lens on this path."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from emdsl.check import Override, check_files, collect_files, find_root
from emdsl.diagnostics import render_all
from emdsl.remote import dvc_env

DEFAULT_DIR = "experiments"


def _fail(message: str) -> int:
    print(f"emx: error: {message}", file=sys.stderr)
    return 1


def _paths(args_paths: list[str], root: Path) -> list[Path]:
    if args_paths:
        return [Path(p) for p in args_paths]
    return [root / DEFAULT_DIR]


def _check(paths: list[Path], root: Path, overrides=None):
    missing = [p for p in paths if not p.exists()]
    if missing:
        return None, _fail(f"no such file or folder: {', '.join(map(str, missing))}")
    if not collect_files(paths):
        return None, _fail(f"no .emx files in {', '.join(map(str, paths))}")
    program, diags = check_files(paths, root, overrides)
    if diags:
        print(render_all(diags, root), file=sys.stderr)
        n = len(diags)
        print(f"{n} error{'s' if n != 1 else ''}", file=sys.stderr)
        return None, 1
    return program, 0


# --------------------------------------------------------------------------- commands


def cmd_check(args: argparse.Namespace) -> int:
    root = find_root(Path.cwd())
    program, rc = _check(_paths(args.paths, root), root)
    if program is None:
        return rc
    n_var = sum(len(e.variants) for e in program.experiments)
    print(f"ok: {len(program.experiments)} experiments, {n_var} variants")
    return 0


def _compile(paths: list[Path], root: Path, overrides=None, sources: list[Path] | None = None):
    from emdsl.compile import CompileError, compile_program
    from emdsl.emit import emit, write_if_changed

    program, rc = _check(paths, root, overrides)
    if program is None:
        return None, rc
    try:
        graph = compile_program(program)
    except CompileError as e:
        return None, _fail(str(e))
    files = sorted(str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
                   for p in collect_files(sources or paths))
    dvc_text, params_text = emit(graph, root, files)
    changed = [name for name, text in (("dvc.yaml", dvc_text), ("params.yaml", params_text))
               if write_if_changed(root / name, text)]
    shared = sum(1 for n in graph.nodes.values() if len(n.users) > 1)
    n_var = len(graph.variants)
    print(f"{len(graph.nodes)} stages ({shared} shared) for {n_var} variants → "
          f"dvc.yaml, params.yaml" + ("" if changed else " (unchanged)"))
    return graph, 0


def cmd_compile(args: argparse.Namespace) -> int:
    root = find_root(Path.cwd())
    _, rc = _compile(_paths(args.paths, root), root)
    return rc


def _rel_files(paths: list[str], root: Path) -> list[str] | None:
    """Paths as params.yaml names files (relative to the root); None (all files) when empty."""
    if not paths:
        return None
    out = []
    for p in paths:
        full = (Path.cwd() / p).resolve()
        out.append(str(full.relative_to(root)) if full.is_relative_to(root) else p)
    return out


def cmd_show(args: argparse.Namespace) -> int:
    """The results table of every variant (or, with --stages, the stage listing)."""
    if args.stages:
        return _show_stages(args)
    from emdsl.results import ResultsError, Source, show

    root = find_root(Path.cwd())
    try:
        print(show(Source(root, args.rev), _rel_files(args.paths, root), args.format), end="")
    except ResultsError as e:
        return _fail(str(e))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from emdsl.compare import compare, render
    from emdsl.results import ResultsError, Source

    root = find_root(Path.cwd())
    revs = args.revs
    if len(revs) > 2:
        return _fail("emx diff takes at most two revisions: emx diff [REV_A [REV_B]]")
    try:
        a = Source(root, revs[0] if revs else "HEAD")
        b = Source(root, revs[1] if len(revs) > 1 else None)
        files = _rel_files(args.paths, root)
        print(render(a, b, compare(a, b, files), args.format), end="")
    except ResultsError as e:
        return _fail(str(e))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from emdsl.report import build, write
    from emdsl.results import ResultsError, Source, variants

    root = find_root(Path.cwd())
    try:
        params = Source(root).params()
    except ResultsError as e:
        return _fail(str(e))
    files = sorted({f for f, *_ in variants(params, _rel_files(args.paths, root))})
    if not files:
        where = ", ".join(args.paths) or "params.yaml"
        return _fail(f"no compiled experiments in {where}; run `emx compile` first")
    out_root = Path(args.out) if args.out else root / "reports"
    for file in files:
        page = write(build(root, file), out_root / Path(file).stem)
        print(f"{file} → {os.path.relpath(page)} (+ report.md)")
    return 0


def _show_stages(args: argparse.Namespace) -> int:
    from emdsl.compile import compile_program

    root = find_root(Path.cwd())
    program, rc = _check(_paths(args.paths, root), root)
    if program is None:
        return rc
    graph = compile_program(program)
    by_key = graph.nodes
    for (file, exp, label), (_, roles) in sorted(graph.index.items(), key=lambda i: i[0]):
        print(f"{file}  {exp}" + (f"  [{label}]" if label else ""))
        for key in sorted(set(roles.values()), key=lambda k: by_key[k].name):
            node = by_key[key]
            users = {(v.file, v.experiment, v.label) for v, _ in node.users}
            mark = f"  * shared by {len(users)} variants" if len(users) > 1 else ""
            print(f"    {node.name:<44} {node.out}{mark}")
    shared = sum(1 for n in graph.nodes.values()
                 if len({(v.file, v.experiment, v.label) for v, _ in n.users}) > 1)
    print(f"{len(graph.nodes)} stages, {shared} shared, {len(graph.variants)} variants")
    return 0


def parse_overrides(texts: list[str]) -> list[Override]:
    """Hydra's override grammar: ``a.b=1``, sweeps ``a.b=0,0.5`` or ``a.b=range(0,3)``."""
    if not texts:
        return []
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    out = []
    for text in texts:
        try:
            (ov,) = parser.parse_overrides([text])
        except Exception as e:  # hydra raises OverrideParseException with its own message
            raise ValueError(f"bad override `{text}`: {e}") from None
        if ov.is_sweep_override():
            values = tuple(ov.sweep_iterator())
        else:
            values = (ov.value(),)
        out.append(Override(tuple(ov.key_or_group.split(".")), values,
                            ov.is_sweep_override(), text))
    return out


def track_judge_cache(root: Path) -> None:
    """Version the judge response store that all judge stages share (``dvc add``)."""
    if (root / "judge-cache").is_dir():
        subprocess.call([sys.executable, "-m", "dvc", "add", "-q", "judge-cache"], cwd=root,
                        env=dvc_env())


def cmd_run(args: argparse.Namespace) -> int:
    root = find_root(Path.cwd())
    target = Path(args.path)
    try:
        overrides = parse_overrides(args.overrides)
    except ValueError as e:
        return _fail(str(e))
    sources = [p for p in [root / DEFAULT_DIR] if p.exists()] + [target]
    graph, rc = _compile(sources, root, {target: overrides})
    if graph is None:
        return rc
    tfile = target.resolve()
    names = sorted({n.name for n in graph.nodes.values()
                    if any(v.file == tfile for v, _ in n.users)})
    if not names:
        return _fail(f"{target} defines no experiments")
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


def _repro(args: argparse.Namespace, root: Path, graph, names: list[str]) -> int:
    """`dvc repro names`, restoring from the remote's run-cache when one is configured, with
    --jobs N independent stages at once (emdsl.parallel)."""
    from emdsl import remote

    if remote.default_remote(root):
        remote.fetch_run_cache(root)  # stages other machines pushed are restored, not rerun
    if args.jobs > 1:
        from emdsl.parallel import run_parallel
        from emdsl.shard import graph_inputs

        return run_parallel(root, names, *graph_inputs(graph, names), args.jobs)
    pull = ["--pull"] if remote.default_remote(root) else []
    return subprocess.call([sys.executable, "-m", "dvc", "repro", *pull, *names], cwd=root,
                           env=dvc_env())


def _maybe_push(args: argparse.Namespace, root: Path) -> int:
    """--push, or by default when a default remote is configured (--no-push skips it)."""
    from emdsl import remote

    if args.push is False or (args.push is None and not remote.default_remote(root)):
        return 0
    return remote.push(root)


def _run_shard(args: argparse.Namespace, root: Path, graph, names: list[str]) -> int:
    from emdsl.shard import graph_inputs, parse_shard, plan

    try:
        index, count = parse_shard(args.shard)
    except ValueError as e:
        return _fail(str(e))
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


def cmd_remote(args: argparse.Namespace) -> int:
    from emdsl.remote import add_remote

    root = find_root(Path.cwd())
    rc = add_remote(root, args.name, args.url, args.default)
    if rc == 0:
        print(f"remote {args.name} → {args.url}" + (" (default)" if args.default else "")
              + "; commit .dvc/config so every clone shares it")
    return rc


def cmd_push(args: argparse.Namespace) -> int:
    from emdsl.remote import default_remote, push

    root = find_root(Path.cwd())
    if not (args.remote or default_remote(root)):
        return _fail("no remote: `emx remote add NAME URL --default` first, or --remote NAME")
    track_judge_cache(root)
    return push(root, args.remote)


def cmd_pull(args: argparse.Namespace) -> int:
    from emdsl.remote import default_remote, pull

    root = find_root(Path.cwd())
    if not default_remote(root):
        return _fail("no default remote: `emx remote add NAME URL --default` first")
    return pull(root)


def cmd_slurm(args: argparse.Namespace) -> int:
    from emdsl.emit import write_if_changed
    from emdsl.slurm import SlurmOptions, array_script, gather_script

    root = find_root(Path.cwd())
    target = Path(args.path).resolve()
    if not target.is_file():
        return _fail(f"no such file: {args.path}")
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
        return _fail(str(e))
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


def cmd_fmt(args: argparse.Namespace) -> int:
    from emdsl.fmt import format_module
    from emdsl.parse import parse_file

    status = 0
    for path in collect_files([Path(p) for p in args.paths]):
        module, diags = parse_file(path)
        if module is None:
            print(render_all(diags), file=sys.stderr)
            status = 1
            continue
        text = format_module(module)
        if path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            print(f"would reformat {path}")
            status = 1
        else:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            print(f"formatted {path}")
    return status


def cmd_judge(args: argparse.Namespace) -> int:
    from emdsl.judge_cli import run

    root = find_root(Path.cwd())
    return run(args.judge, Path(args.answers), Path(args.out),
               Path(args.cache) if args.cache else None, root)


def cmd_init(args: argparse.Namespace) -> int:
    from emdsl.scaffold import init

    try:
        init(Path(args.dir))
    except (OSError, subprocess.CalledProcessError, RuntimeError) as e:
        return _fail(str(e))
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emx",
        description="Declarative emergent-misalignment experiments, compiled to DVC pipelines.",
        epilog="Typical loop: emx init study && cd study && emx run experiments/quickstart.emx")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("init", help="scaffold a research repo (git + DVC + a quickstart)")
    s.add_argument("dir", nargs="?", default=".")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("check", help="check .emx files and print every problem")
    s.add_argument("paths", nargs="*", help=f"files or folders (default: {DEFAULT_DIR}/)")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("compile", help="write dvc.yaml and params.yaml at the project root")
    s.add_argument("paths", nargs="*", help=f"files or folders (default: {DEFAULT_DIR}/)")
    s.set_defaults(func=cmd_compile)

    formats = ("md", "csv", "json")
    s = sub.add_parser("show", help="results of every variant (misaligned fraction with CI, "
                                    "latents, steering, re-alignment); --stages: the stages")
    s.add_argument("paths", nargs="*", help="files or folders (default: every compiled file; "
                                            f"with --stages: {DEFAULT_DIR}/)")
    s.add_argument("--rev", help="read results at this git revision (default: the workspace)")
    s.add_argument("--format", choices=formats, default="md", help="output format (default md)")
    s.add_argument("--stages", action="store_true",
                   help="list each variant's stages instead, shared stages marked")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("diff", help="compare results between two git revisions "
                                    "(default: HEAD vs the workspace)")
    s.add_argument("revs", nargs="*", metavar="REV",
                   help="REV_A [REV_B]: one rev compares it with the workspace")
    s.add_argument("--path", dest="paths", action="append", default=[],
                   help="only these .emx files or folders (repeatable)")
    s.add_argument("--format", choices=formats, default="md", help="output format (default md)")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser("report", help="write an HTML + Markdown report per experiment file "
                                      "to reports/<file-stem>/")
    s.add_argument("paths", nargs="*", help="files or folders (default: every compiled file)")
    s.add_argument("--out", help="folder for the reports (default: reports/ at the root)")
    s.set_defaults(func=cmd_report)

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
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("remote", help="add a DVC remote that shares cache and run-cache")
    s.add_argument("action", choices=["add"])
    s.add_argument("name")
    s.add_argument("url", help="a directory, s3://..., ssh://..., gs://... (any DVC remote)")
    s.add_argument("--default", "-d", action="store_true", help="make it the default remote")
    s.set_defaults(func=cmd_remote)

    s = sub.add_parser("push", help="push outputs, judge cache and run-cache to the remote")
    s.add_argument("--remote", "-r", help="remote name (default: the default remote)")
    s.set_defaults(func=cmd_push)

    s = sub.add_parser("pull", help="restore what other machines pushed (outputs + run-cache)")
    s.set_defaults(func=cmd_pull)

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
    s.set_defaults(func=cmd_slurm)

    s = sub.add_parser("judge", help="judge a JSONL of {question, answer} with a declared judge")
    s.add_argument("judge", metavar="FILE.emx:NAME")
    s.add_argument("--answers", required=True, help="input JSONL, one record per line")
    s.add_argument("--out", required=True, help="output JSONL: one {aligned, coherent} per line")
    s.add_argument("--cache", help="where judge models and trained probes are kept "
                                   "(default: .emx/judges under the project root)")
    s.set_defaults(func=cmd_judge)

    s = sub.add_parser("fmt", help="format .emx files canonically (idempotent)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--check", action="store_true", help="only report files that would change")
    s.set_defaults(func=cmd_fmt)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # `emx show | head`: the reader left; end quietly like Unix tools
        # (not SIGPIPE's default action: that would kill a host process calling main())
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
