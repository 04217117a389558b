"""What checking produces: resolved experiments and their variants, plus the values shared by
every step of the checker (command-line overrides, the "already reported" marker)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emdsl import ast
from emdsl.diagnostics import Diagnostic
from emdsl.variant import Variant, show_value

__all__ = ["Variant", "show_value"]  # made here, defined in the leaf emdsl.variant

INVALID = object()  # a value that already produced a diagnostic

COMMAND_LINE = Path("<command line>")

Chain = list[tuple[ast.Experiment, Path]]  # an experiment and its ancestors, oldest first


class Diagnostics(list[Diagnostic]):
    """The diagnostics of one checking run; every step of the checker appends to the same one."""

    def error(self, pos: ast.Pos, message: str, hint: str | None = None) -> None:
        self.append(Diagnostic(pos, message, hint))

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that stop checking (warnings are reported and let it go on)."""
        return [d for d in self if d.severity == "error"]


@dataclass(frozen=True)
class Override:
    """A command-line override in Hydra syntax: ``train.lr=1e-4``, or a sweep ``data.seed=0,1``."""

    path: tuple[str, ...]
    values: tuple[Any, ...]
    sweep: bool
    text: str

    @property
    def pos(self) -> ast.Pos:
        return ast.Pos(COMMAND_LINE, 1, 1, len(self.text))


@dataclass
class ResolvedExperiment:
    name: str
    file: Path
    variants: list[Variant]


@dataclass
class Program:
    root: Path
    modules: dict[Path, ast.Module]
    experiments: list[ResolvedExperiment]
