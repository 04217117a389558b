"""``emx show [PATHS]``: the results table of every variant; ``--stages``: the stage listing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emdsl.cli.common import (
    DEFAULT_DIR,
    FORMATS,
    check_or_report,
    existing_names,
    fail,
    paths_or_default,
    rel_files,
    root_here,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("show", help="results of every variant (misaligned fraction with CI, "
                                    "latents, steering, re-alignment); --stages: the stages")
    s.add_argument("paths", nargs="*", help="files or folders (default: every compiled file; "
                                            f"with --stages: {DEFAULT_DIR}/)")
    s.add_argument("--rev", help="read results at this git revision (default: the workspace)")
    s.add_argument("--format", choices=FORMATS, default="md", help="output format (default md)")
    s.add_argument("--stages", action="store_true",
                   help="list each variant's stages instead, shared stages marked")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.stages:
        return show_stages(args)
    from emdsl.results import ResultsError, Source, show

    root = root_here()
    if args.rev is None:
        warn_if_edited(root)
    try:
        print(show(Source(root, args.rev), rel_files(args.paths, root), args.format), end="")
    except ResultsError as e:
        return fail(str(e))
    return 0


def warn_if_edited(root: Path) -> None:
    """Say so when an .emx file changed after params.yaml was compiled from it."""
    from emdsl.freshness import edited_since_compile

    edited = edited_since_compile(root)
    if edited:
        print(f"emx: warning: {', '.join(edited)} changed after dvc.yaml was compiled from "
              "it; these results follow the old version (`emx run` or `emx compile`)",
              file=sys.stderr)


def show_stages(args: argparse.Namespace) -> int:
    """Each variant's stages and output folders, stages shared between variants marked."""
    from emdsl.compile import CompileError, compile_program

    root = root_here()
    program, rc = check_or_report(paths_or_default(args.paths, root), root)
    if program is None:
        return rc
    try:
        graph = compile_program(program, existing_names(root))
    except CompileError as e:  # every problem compile finds, check should find first
        return fail(str(e))
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
