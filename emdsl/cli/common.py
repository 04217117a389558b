"""What several commands share: error output, the default experiments folder, checking and
compiling with diagnostics printed, Hydra overrides, and versioning the judge cache.

Imports of the checker and compiler stay inside the functions: ``emx --help`` loads neither.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emdsl.check import Override, Program
    from emdsl.compile import Graph

DEFAULT_DIR = "experiments"
FORMATS = ("md", "csv", "json")  # output formats of `emx show` and `emx diff`


def fail(message: str) -> int:
    print(f"emx: error: {message}", file=sys.stderr)
    return 1


def root_here() -> Path:
    """The project root above the working directory."""
    from emdsl.check import find_root

    return find_root(Path.cwd())


def paths_or_default(args_paths: list[str], root: Path) -> list[Path]:
    """The paths given, else the project's experiments folder."""
    if args_paths:
        return [Path(p) for p in args_paths]
    return [root / DEFAULT_DIR]


def rel_files(paths: list[str], root: Path) -> list[str] | None:
    """Paths as params.yaml names files (relative to the root); None (all files) when empty."""
    if not paths:
        return None
    out = []
    for p in paths:
        full = (Path.cwd() / p).resolve()
        out.append(str(full.relative_to(root)) if full.is_relative_to(root) else p)
    return out


def check_or_report(paths: list[Path], root: Path, overrides: dict[Path, list[Override]]
                    | None = None) -> tuple[Program | None, int]:
    """The checked program and 0, or None and the exit code after printing every problem."""
    from emdsl.check import check_files, collect_files
    from emdsl.diagnostics import render_all

    missing = [p for p in paths if not p.exists()]
    if missing:
        return None, fail(f"no such file or folder: {', '.join(map(str, missing))}")
    if not collect_files(paths):
        return None, fail(f"no .emx files in {', '.join(map(str, paths))}")
    program, diags = check_files(paths, root, overrides)
    if diags:
        print(render_all(diags, root), file=sys.stderr)
    errors = sum(d.severity == "error" for d in diags)
    if errors or program is None:
        print(f"{errors} error{'s' if errors != 1 else ''}", file=sys.stderr)
        return None, 1
    if diags:
        print(f"{len(diags)} warning{'s' if len(diags) != 1 else ''}", file=sys.stderr)
    return program, 0


def existing_names(root: Path) -> dict[str, str]:
    """The names the stages of the last compile have (key -> name), kept by the next."""
    from emdsl.graph import previous_names

    found: dict[str, str] = {}
    for name in ("params.yaml", "dvc.yaml"):  # the keys are in dvc.yaml since schema 2
        try:
            found |= previous_names((root / name).read_text(encoding="utf-8"))
        except OSError:
            continue
    return found


def compile_and_write(paths: list[Path], root: Path,
                      overrides: dict[Path, list[Override]] | None = None,
                      sources: list[Path] | None = None) -> tuple[Graph | None, int]:
    """Check and compile ``paths``, then write dvc.yaml and params.yaml at the root (only
    when they change). ``sources`` are the .emx files params.yaml lists (default: ``paths``)."""
    from emdsl.check import collect_files
    from emdsl.compile import CompileError, compile_program
    from emdsl.emit import emit, write_if_changed

    program, rc = check_or_report(paths, root, overrides)
    if program is None:
        return None, rc
    try:
        graph = compile_program(program, existing_names(root))
    except CompileError as e:
        return None, fail(str(e))
    files = sorted(str(p.relative_to(root)) if p.is_relative_to(root) else str(p)
                   for p in collect_files(sources or paths))
    dvc_text, params_text = emit(graph, root, files)
    changed = [name for name, text in (("dvc.yaml", dvc_text), ("params.yaml", params_text))
               if write_if_changed(root / name, text)]
    shared = sum(1 for n in graph.nodes.values() if len(n.users) > 1)
    n_var = len(graph.variants)
    print(f"{len(graph.nodes)} stages ({shared} shared) for {n_var} variants → "
          f"dvc.yaml, params.yaml" + ("" if changed else " (unchanged)"))
    return graph, 0


def parse_overrides(texts: list[str]) -> list[Override]:
    """Hydra's override grammar: ``a.b=1``, sweeps ``a.b=0,0.5`` or ``a.b=range(0,3)``."""
    if not texts:
        return []
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from emdsl.check import Override

    parser = OverridesParser.create()
    out = []
    for text in texts:
        try:
            (ov,) = parser.parse_overrides([text])
        except Exception as e:  # hydra raises OverrideParseException with its own message
            raise ValueError(f"bad override `{text}`: {e}") from None
        if ov.is_sweep_override():
            values = tuple(ov.sweep_iterator())
        else:
            values = (ov.value(),)
        out.append(Override(tuple(ov.key_or_group.split(".")), values,
                            ov.is_sweep_override(), text))
    return out


def track_judge_cache(root: Path) -> None:
    """Version the judge response store that all judge stages share (``dvc add``)."""
    from emdsl.remote import dvc_env

    if (root / "judge-cache").is_dir():
        subprocess.call([sys.executable, "-m", "dvc", "add", "-q", "judge-cache"], cwd=root,
                        env=dvc_env())
