"""Files and scopes: which .emx files to read, and the names each one can see.

Imports are relative to the importing file and confined to the project root, unless the file
opens a folder with ``allow outside "PATH"``; data paths are held to the same confinement.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emdsl import ast
from emdsl.check.files import unusable_path
from emdsl.check.program import Diagnostics
from emdsl.diagnostics import Diagnostic, did_you_mean
from emdsl.parse import parse_file


def find_root(start: Path) -> Path:
    """The project root: the nearest folder up from ``start`` with dvc.yaml, .dvc or .git."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        if any((folder / marker).exists() for marker in ("dvc.yaml", ".dvc", ".git")):
            return folder
    return start


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to the .emx files in them, sorted, so the result ignores listing order."""
    files: set[Path] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.update(q.resolve() for q in p.rglob("*.emx"))
        else:
            files.add(p.resolve())
    return sorted(files)


@dataclass
class Scope:
    """The names visible in one file: its own statements plus those of its imports."""

    names: dict[str, tuple[ast.Declaration | ast.Experiment, Path]] = field(default_factory=dict)
    allowed: list[Path] = field(default_factory=list)  # `allow outside` folders, resolved


class Loader:
    """Parses each file once, following its imports, and builds its scope."""

    def __init__(self, root: Path, diagnostics: Diagnostics):
        self.root = root.resolve()
        self.diagnostics = diagnostics
        self.modules: dict[Path, ast.Module] = {}
        self.scopes: dict[Path, Scope] = {}
        self._loading: list[Path] = []  # the import chain being followed, to report cycles

    def load(self, path: Path, via: ast.Import | None = None) -> Scope | None:
        """The scope of ``path``; None when importing it (``via``) would close a cycle."""
        path = path.resolve()
        if path in self._loading:
            cycle = [*self._loading[self._loading.index(path):], path]
            chain = " → ".join(self.rel(p) for p in cycle)
            assert via is not None and via.pos is not None
            self.diagnostics.error(via.pos, f"import cycle: {chain}", "remove one of these imports")
            return None
        if path in self.scopes:
            return self.scopes[path]
        module, diags = parse_within_depth(path)
        self.diagnostics.extend(diags)
        scope = Scope()
        self.scopes[path] = scope
        if module is None:
            return scope
        self.modules[path] = module
        self._loading.append(path)
        try:
            for stmt in module.statements:
                if isinstance(stmt, ast.AllowOutside):
                    self._allow(stmt, scope)
            for stmt in module.statements:
                if isinstance(stmt, ast.Import):
                    self._import(stmt, path, scope)
            for stmt in module.statements:
                if isinstance(stmt, (ast.Declaration, ast.Experiment)):
                    self._define(scope, stmt, path)
        finally:
            self._loading.pop()
        return scope

    def rel(self, path: Path) -> str:
        """``path`` as diagnostics show it: relative to the root when it is inside."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def confined(self, target: Path, scope: Scope) -> bool:
        """Inside the project root, or under a folder the file allows with `allow outside`."""
        return any(target.is_relative_to(folder) for folder in [self.root, *scope.allowed])

    def _unusable(self, stmt: ast.AllowOutside | ast.Import, what: str) -> bool:
        """Report a path the OS cannot take (NUL, a name over 255 bytes); True if it is one."""
        assert stmt.pos is not None
        problem = unusable_path(stmt.path)
        if problem:
            self.diagnostics.error(stmt.pos, f"{what} path {problem[0]}", problem[1])
        return problem is not None

    def _allow(self, stmt: ast.AllowOutside, scope: Scope) -> None:
        assert stmt.pos is not None
        if self._unusable(stmt, "`allow outside`"):
            return
        folder = (self.root / stmt.path).resolve()
        if not folder.is_dir():
            self.diagnostics.error(stmt.pos, f"`allow outside` folder `{stmt.path}` does not exist",
                                   f"paths are relative to the project root ({self.root})")
            return
        scope.allowed.append(folder)

    def _import(self, stmt: ast.Import, path: Path, scope: Scope) -> None:
        assert stmt.pos is not None
        if self._unusable(stmt, "import"):
            return
        target = (path.parent / stmt.path).resolve()
        if not self.confined(target, scope):
            self.diagnostics.error(
                stmt.pos, f"import `{stmt.path}` is outside the project root {self.root}",
                outside_hint(target, self.root))
            return
        if not target.is_file():
            near = [self.rel(p) for p in path.parent.glob("*.emx")]
            self.diagnostics.error(
                stmt.pos, f"imported file `{stmt.path}` does not exist",
                did_you_mean(stmt.path, near) or "paths are relative to the importing file")
            return
        imported = self.load(target, via=stmt)
        if imported is None:
            return
        for name, (node, origin) in imported.names.items():
            existing = scope.names.get(name)
            if existing and existing[0] is not node:
                self.diagnostics.error(
                    stmt.pos, f"`{name}` is imported twice, from {self.rel(existing[1])} "
                    f"and {self.rel(origin)}", "rename one of them")
                continue
            scope.names[name] = (node, origin)

    def _define(self, scope: Scope, node: ast.Declaration | ast.Experiment, path: Path) -> None:
        pos = _name_pos(node)
        assert pos is not None
        if len(node.name) > MAX_NAME_LENGTH:
            self.diagnostics.error(pos, f"name is {len(node.name)} characters long; at most "
                                   f"{MAX_NAME_LENGTH}", "shorten it: stage names and "
                                   "params.yaml keys are made from it")
            return
        existing = scope.names.get(node.name)
        if existing is not None:
            where, other = existing[1], _name_pos(existing[0])
            at = f"{self.rel(where)}:{other.line}" if other else self.rel(where)
            self.diagnostics.error(pos, f"duplicate name `{node.name}`; it is already defined "
                                   f"at {at}", "give each declaration and experiment its own name")
            return
        scope.names[node.name] = (node, path)


# Names and sweep values become DVC stage names and params.yaml keys, which YAML limits to
# 1,024 characters: these bounds keep every key made of them under it.
MAX_NAME_LENGTH = 100
MAX_NESTING = 100  # brackets deep; far beyond any real file, well within Python's stack


def parse_within_depth(path: Path) -> tuple[ast.Module | None, list[Diagnostic]]:
    """``parse_file``, with nesting the recursive parser cannot follow a located error."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    deep = _too_deep(text)
    if deep is not None:
        return None, [Diagnostic(ast.Pos(path, *deep),
                                 f"lists and calls are nested too deeply (over {MAX_NESTING} "
                                 "levels)", "flatten the expression")]
    return parse_file(path)


_BRACKET_OR_SKIPPED = re.compile(r'"(?:\\.|[^"\\\n])*"|#[^\n]*|[\[(]|[\])]|\n')


def _too_deep(text: str) -> tuple[int, int] | None:
    """(line, column) of the first bracket nested more than ``MAX_NESTING`` deep, if any;
    strings and comments skipped."""
    depth, line, line_start = 0, 1, 0
    for m in _BRACKET_OR_SKIPPED.finditer(text):
        token = m.group()
        if token == "\n":
            line, line_start = line + 1, m.end()
        elif token in ("[", "("):
            depth += 1
            if depth > MAX_NESTING:
                return line, m.start() - line_start + 1
        elif token in ("]", ")"):
            depth = max(0, depth - 1)
    return None


def _name_pos(node: ast.Declaration | ast.Experiment) -> ast.Pos | None:
    return node.name_pos if isinstance(node, ast.Declaration) else node.pos


def outside_hint(target: Path, root: Path) -> str:
    """How to read a file outside the project root: copy it in, or allow its folder."""
    folder = os.path.relpath(target.parent, root)
    return (f"copy the file into the project, or, to read it in place, add "
            f'`allow outside "{folder}"` at the top of this file')
