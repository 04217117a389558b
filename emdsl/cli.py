"""The ``emx`` command. Imports stay light here: no torch, trl or sae-lens on this path."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from emdsl.check import Override, check_files, collect_files, find_root
from emdsl.diagnostics import render_all

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


def cmd_show(args: argparse.Namespace) -> int:
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


def dvc_env() -> dict[str, str]:
    """Run DVC (and the stages it starts) with this interpreter's ``python`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


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
    cmd = [sys.executable, "-m", "dvc", "repro", *names]
    print(f"$ dvc repro <{len(names)} stages of {target}>", flush=True)
    if args.dry:
        print("\n".join(names))
        return 0
    rc = subprocess.call(cmd, cwd=root, env=dvc_env())
    if rc != 0:
        return rc
    track_judge_cache(root)
    from emdsl.results import results_table

    print(results_table(root, [str(tfile.relative_to(root))]))
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

    s = sub.add_parser("show", help="list experiments, variants and their stages")
    s.add_argument("paths", nargs="*", help=f"files or folders (default: {DEFAULT_DIR}/)")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("run", help="compile, then `dvc repro` the stages of one file")
    s.add_argument("path")
    s.add_argument("overrides", nargs="*",
                   help="Hydra-style overrides: train.lr=1e-4 'data.poison=0,0.5'")
    s.add_argument("--dry", action="store_true", help="compile and list the stages, run nothing")
    s.set_defaults(func=cmd_run)

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
    if hasattr(signal, "SIGPIPE"):  # `emx show | head` ends quietly, like other Unix tools
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
