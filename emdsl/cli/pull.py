"""``emx pull``: restore what other machines pushed (outputs and run-cache)."""

from __future__ import annotations

import argparse

from emdsl.cli.common import fail, root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("pull", help="restore what other machines pushed (outputs + run-cache)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.remote import default_remote, pull

    root = root_here()
    if not default_remote(root):
        return fail("no default remote: `emx remote add NAME URL --default` first")
    return pull(root)
