"""``emx status``: which stages ``dvc repro`` would run, and why, in well under a second.

Read from params.yaml, dvc.lock and the code and data files the stages depend on; no output
folder is hashed (``dvc status`` does that, which is what makes it slow in big studies).
"""

from __future__ import annotations

import argparse
import json

from emdsl.cli.common import fail, root_here

SHOWN = 20  # stages listed; the rest are counted


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("status", help="which stages dvc repro would run, and why (fast; "
                                      "outputs are not hashed: see `dvc status`)")
    s.add_argument("--json", action="store_true", help="every stage and its reason, as JSON")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emdsl.freshness import pipeline_status, read_lock, stale_stages
    from emdsl.results import ResultsError, Source

    root = root_here()
    source = Source(root)
    try:
        params = source.params()
    except ResultsError as e:
        return fail(str(e))
    lock = read_lock(source)
    todo = pipeline_status(root, params, lock, stale_stages(source, params, lock))
    if args.json:
        print(json.dumps(todo, indent=2, sort_keys=True))
        return 0
    total = len(params.get("stages") or {})
    if not todo:
        print(f"all {total} stages are up to date")
        return 0
    for name, why in sorted(todo.items())[:SHOWN]:
        print(f"  {name}: {why}")
    if len(todo) > SHOWN:
        print(f"  ... and {len(todo) - SHOWN} more (--json lists every one)")
    print(f"{len(todo)} of {total} stages would run (`dvc repro`, or `emx run`)")
    return 0
