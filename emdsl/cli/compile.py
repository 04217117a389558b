"""``emx compile [PATHS]``: write dvc.yaml and params.yaml at the project root."""

from __future__ import annotations

import argparse

from emdsl.cli.common import DEFAULT_DIR, compile_and_write, paths_or_default, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("compile", help="write dvc.yaml and params.yaml at the project root")
    s.add_argument("paths", nargs="*", help=f"files or folders (default: {DEFAULT_DIR}/)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = root_here()
    _, rc = compile_and_write(paths_or_default(args.paths, root), root)
    return rc
