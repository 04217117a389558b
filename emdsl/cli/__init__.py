"""The ``emx`` command: one module per subcommand, each with ``add_parser(subparsers)`` and
the ``run(args) -> exit code`` it sets as the subcommand's ``func`` (as DVC's commands do).

Imports stay light on this path: a command imports the checker, compiler or stages inside
its ``run``, so ``emx --help`` loads no torch, trl, sae-lens, polars or matplotlib.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from emdsl.cli import (
    check,
    compile,
    diff,
    fmt,
    init,
    judge,
    pull,
    push,
    remote,
    report,
    run,
    show,
    slurm,
)

COMMANDS = [init, check, compile, show, diff, report, run, remote, push, pull, slurm, judge, fmt]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emx",
        description="Declarative emergent-misalignment experiments, compiled to DVC pipelines.",
        epilog="Typical loop: emx init study && cd study && emx run experiments/quickstart.emx")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return interrupted(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:  # `emx show | head`: the reader left; end quietly like Unix tools
        # (not SIGPIPE's default action: that would kill a host process calling main())
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def interrupted(argv: list[str]) -> int:
    """Ctrl-C: one line saying what stopped and that rerunning resumes (DVC keeps every stage
    that finished), and the shell's exit code for SIGINT."""
    print(f"emx: interrupted `{shlex.join(['emx', *argv])}`; rerun it to resume (stages that "
          "finished are kept)", file=sys.stderr)
    return 130
