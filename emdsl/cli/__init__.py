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
    export,
    fmt,
    init,
    judge,
    plots,
    pull,
    push,
    remote,
    report,
    run,
    show,
    slurm,
    status,
)

COMMANDS = [init, check, compile, show, status, diff, report, export, plots, run, remote,
            push, pull, slurm, judge, fmt]


def version() -> str:
    """The installed emdsl's version (the package metadata; a plain checkout says so)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("emdsl")
    except PackageNotFoundError:
        return "(not installed: a source checkout)"


class _Version(argparse.Action):
    """``--version``, read from the package metadata only when asked (it costs an import)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"emx {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="emx",
        description="Declarative emergent-misalignment experiments, compiled to DVC pipelines.",
        epilog="Typical loop: emx init study && cd study && emx run experiments/quickstart.emx")
    p.add_argument("--version", action=_Version, nargs=0, help="print emx's version and exit")
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
    except OSError as e:  # a path the OS refuses (too long, unreadable): say so, in one line
        print(f"emx: error: {e}", file=sys.stderr)
        return 1


# What a rerun of an interrupted command starts from, for the commands that resume.
RESUMES = {"run": "stages that finished are kept", "judge": "judged answers are cached"}


def interrupted(argv: list[str]) -> int:
    """Ctrl-C: one line saying what stopped (and, where a rerun resumes, from what), and the
    shell's exit code for SIGINT, instead of a traceback."""
    command = shlex.join(["emx", *argv])
    kept = RESUMES.get(argv[0]) if argv else None
    print(f"emx: interrupted `{command}`"
          + (f"; rerun it to resume ({kept})" if kept else ""), file=sys.stderr)
    return 130
