"""``emx check [PATHS]``: check .emx files and print every problem at once."""

from __future__ import annotations

import argparse

from emdsl.cli.common import DEFAULT_DIR, check_or_report, paths_or_default, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("check", help="check .emx files and print every problem")
    s.add_argument("paths", nargs="*", help=f"files or folders (default: {DEFAULT_DIR}/)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = root_here()
    program, rc = check_or_report(paths_or_default(args.paths, root), root)
    if program is None:
        return rc
    n_var = sum(len(e.variants) for e in program.experiments)
    print(f"ok: {len(program.experiments)} experiments, {n_var} variants")
    return 0
