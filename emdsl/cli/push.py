"""``emx push``: outputs, the judge cache and the run-cache, to the remote."""

from __future__ import annotations

import argparse

from emdsl.cli.common import fail, root_here, track_judge_cache


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("push", help="push outputs, judge cache and run-cache to the remote")
    s.add_argument("--remote", "-r", help="remote name (default: the default remote)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.remote import default_remote, push

    root = root_here()
    if not (args.remote or default_remote(root)):
        return fail("no remote: `emx remote add NAME URL --default` first, or --remote NAME")
    track_judge_cache(root)
    return push(root, args.remote)
