"""``emx init [DIR]``: scaffold a research repo (git, DVC, a quickstart experiment)."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from emdsl.cli.common import fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("init", help="scaffold a research repo (git + DVC + a quickstart)")
    s.add_argument("dir", nargs="?", default=".")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.scaffold import init

    try:
        init(Path(args.dir))
    except (OSError, subprocess.CalledProcessError, RuntimeError) as e:
        return fail(str(e))
    return 0
