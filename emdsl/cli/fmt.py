"""``emx fmt PATHS [--check]``: format .emx files canonically (idempotent)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("fmt", help="format .emx files canonically (idempotent)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--check", action="store_true", help="only report files that would change")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.check import collect_files
    from emdsl.check.loader import parse_within_depth
    from emdsl.diagnostics import render_all
    from emdsl.emit import write_if_changed
    from emdsl.fmt import format_module

    status = 0
    for path in collect_files([Path(p) for p in args.paths]):
        module, diags = parse_within_depth(path)
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
            write_if_changed(path, text)  # a unique temp file: never a planted symlink
            print(f"formatted {path}")
    return status
