"""``emx compile [PATHS]``: write dvc.yaml and params.yaml at the project root."""

from __future__ import annotations

import argparse

from emdsl.cli.common import DEFAULT_DIR, compile_and_write, fail, paths_or_default, root_here
from emdsl.lock import WAIT_HELP, WorkspaceBusy, workspace_lock


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("compile", help="write dvc.yaml and params.yaml at the project root")
    s.add_argument("paths", nargs="*", help=f"files or folders (default: {DEFAULT_DIR}/)")
    s.add_argument("--wait", action="store_true", help=WAIT_HELP)
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = root_here()
    try:
        with workspace_lock(root, "compile", wait=args.wait):
            _, rc = compile_and_write(paths_or_default(args.paths, root), root)
    except WorkspaceBusy as e:
        return fail(str(e))
    return rc
