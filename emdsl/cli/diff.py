"""``emx diff [REV_A [REV_B]]``: compare results between two git revisions."""

from __future__ import annotations

import argparse

from emdsl.cli.common import FORMATS, fail, rel_files, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("diff", help="compare results between two git revisions "
                                    "(default: HEAD vs the workspace)")
    s.add_argument("revs", nargs="*", metavar="REV",
                   help="REV_A [REV_B]: one rev compares it with the workspace")
    s.add_argument("--path", dest="paths", action="append", default=[],
                   help="only these .emx files or folders (repeatable)")
    s.add_argument("--format", choices=FORMATS, default="md", help="output format (default md)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.compare import compare, render
    from emdsl.results import ResultsError, Source

    root = root_here()
    revs = args.revs
    if len(revs) > 2:
        return fail("emx diff takes at most two revisions: emx diff [REV_A [REV_B]]")
    try:
        a = Source(root, revs[0] if revs else "HEAD")
        b = Source(root, revs[1] if len(revs) > 1 else None)
        files = rel_files(args.paths, root)
        print(render(a, b, compare(a, b, files), args.format), end="")
    except ResultsError as e:
        return fail(str(e))
    return 0
