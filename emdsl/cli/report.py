"""``emx report [PATHS]``: an HTML + Markdown report per compiled experiment file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from emdsl.cli.common import fail, rel_files, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("report", help="write an HTML + Markdown report per experiment file "
                                      "to reports/<file-stem>/")
    s.add_argument("paths", nargs="*", help="files or folders (default: every compiled file)")
    s.add_argument("--out", help="folder for the reports (default: reports/ at the root)")
    s.add_argument("--rev", action="append", metavar="REV",
                   help="report this git revision's results; twice or more: overlaid "
                        "(e.g. --rev HEAD~1 --rev HEAD)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.report import build, write
    from emdsl.results import ResultsError, Source, variants

    root = root_here()
    try:
        params = Source(root, (args.rev or [None])[-1]).params()
    except ResultsError as e:
        return fail(str(e))
    files = sorted({f for f, *_ in variants(params, rel_files(args.paths, root))})
    if not files:
        where = ", ".join(args.paths) or "params.yaml"
        return fail(f"no compiled experiments in {where}; run `emx compile` first")
    out_root = Path(args.out) if args.out else root / "reports"
    for file in files:
        try:
            report = build(root, file, args.rev)
        except ResultsError as e:
            return fail(str(e))
        page = write(report, out_root / Path(file).stem)
        print(f"{file} → {os.path.relpath(page)} (+ report.md)")
    return 0
