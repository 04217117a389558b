"""``emx remote add NAME URL [--default]``: a DVC remote that shares cache and run-cache."""

from __future__ import annotations

import argparse

from emdsl.cli.common import root_here


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("remote", help="add a DVC remote that shares cache and run-cache")
    s.add_argument("action", choices=["add"])
    s.add_argument("name")
    s.add_argument("url", help="a directory, s3://..., ssh://..., gs://... (any DVC remote)")
    s.add_argument("--default", "-d", action="store_true", help="make it the default remote")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.remote import add_remote

    rc = add_remote(root_here(), args.name, args.url, args.default)
    if rc == 0:
        print(f"remote {args.name} → {args.url}" + (" (default)" if args.default else "")
              + "; commit .dvc/config so every clone shares it")
    return rc
