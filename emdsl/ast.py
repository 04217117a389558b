"""The syntax tree of an .emx file. Every node keeps where it came from, for diagnostics.

Equality ignores positions, so a file and its ``emx fmt`` output compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Pos:
    """1-based line and column of a node's first character, and its length on that line."""

    path: Path
    line: int
    column: int
    length: int = 1


def _pos() -> Pos | None:
    return field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Number:
    value: int | float
    text: str = field(compare=False)  # as written, so fmt keeps ``200_000`` and ``2e-4``
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class String:
    value: str
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Bool:
    value: bool
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Ref:
    """A name: a declaration (``smol``) or an experiment field in a sweep."""

    name: str
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Keyword:
    name: str
    value: Expr
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    kwargs: tuple[Keyword, ...]
    pos: Pos | None = _pos()


Expr = Number | String | Bool | Ref | ListExpr | Call


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Import:
    path: str
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class AllowOutside:
    """``allow outside "../shared"``: this file may read paths under a folder outside the
    project root (relative to the root, or absolute). Explicit, so a path cannot escape by
    accident or through a symlink."""

    path: str
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Declaration:
    kind: str  # model | dataset | questions | judge
    name: str
    value: Expr
    pos: Pos | None = _pos()
    name_pos: Pos | None = _pos()


@dataclass(frozen=True)
class Assignment:
    name: str
    value: Expr
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Sweep:
    path: tuple[str, ...]
    values: ListExpr
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Experiment:
    name: str
    extends: str | None
    members: tuple[Assignment | Sweep, ...]
    pos: Pos | None = _pos()
    extends_pos: Pos | None = _pos()
    end_line: int = field(default=0, compare=False, repr=False)  # line of the closing `}`

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return tuple(m for m in self.members if isinstance(m, Assignment))

    @property
    def sweeps(self) -> tuple[Sweep, ...]:
        return tuple(m for m in self.members if isinstance(m, Sweep))


Statement = Import | AllowOutside | Declaration | Experiment


@dataclass(frozen=True)
class Module:
    path: Path
    statements: tuple[Statement, ...]
    # (line, text, trailing): trailing comments follow code on their line.
    comments: tuple[tuple[int, str, bool], ...] = field(default=(), compare=False, repr=False)
