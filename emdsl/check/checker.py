"""One checking run: load the files, resolve every experiment and declaration, and return the
program or every diagnostic at once. Never raises on bad input."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from emdsl import ast
from emdsl.check.experiments import Experiments
from emdsl.check.loader import Loader, collect_files, find_root
from emdsl.check.program import Diagnostics, Override, Program, ResolvedExperiment
from emdsl.check.resolve import Resolver
from emdsl.diagnostics import Diagnostic, EmxError, sort_key
from emdsl.kinds import discover
from emdsl.kinds.model import PROJECT_ROOT


class Checker:
    """The steps of a run, sharing one diagnostics list: files and scopes (``loader``),
    expressions (``resolver``), experiments and their variants (``experiments``)."""

    def __init__(self, root: Path, overrides: dict[Path, list[Override]] | None = None):
        discover()  # every stage kind, an installed package's too, registers its calls first
        self.diagnostics = Diagnostics()
        self.loader = Loader(root, self.diagnostics)
        self.resolver = Resolver(self.loader, self.diagnostics)
        self.experiments = Experiments(self.resolver, overrides or {}, self.diagnostics)

    def run(self, files: list[Path]) -> Program | None:
        """The program of ``files``; None when there is any diagnostic."""
        token = PROJECT_ROOT.set(self.loader.root)  # local models' depths (model_depth)
        try:
            return self._run(files)
        finally:
            PROJECT_ROOT.reset(token)

    def _run(self, files: list[Path]) -> Program | None:
        for f in files:
            if not f.exists():
                self.diagnostics.error(ast.Pos(f, 1, 1), "file not found")
                continue
            self.loader.load(f)
        resolved: list[ResolvedExperiment] = []
        for f in files:
            module = self.loader.modules.get(f)
            if module is None:
                continue
            for stmt in module.statements:
                if isinstance(stmt, ast.Experiment):
                    experiment = self.experiments.resolve(stmt, f)
                    if experiment is not None:
                        resolved.append(experiment)
        # Every declaration is checked, used or not, imported or not (their errors are real).
        for path, module in self.loader.modules.items():
            for stmt in module.statements:
                if isinstance(stmt, ast.Declaration):
                    self.resolver.declaration(stmt, path)
        if self.diagnostics.errors:
            return None
        return Program(self.loader.root, self.loader.modules, resolved)

    def sorted_diagnostics(self) -> list[Diagnostic]:
        """The diagnostics in file order, each reported once."""
        return sorted(_dedupe(self.diagnostics), key=sort_key)


def check_files(paths: Iterable[Path], root: Path | None = None,
                overrides: dict[Path, list[Override]] | None = None,
                ) -> tuple[Program | None, list[Diagnostic]]:
    """Load, resolve and validate ``paths`` (files or folders). Never raises on bad input.

    ``overrides`` maps a file to the command-line overrides for its experiments.
    """
    files = collect_files(paths)
    if not files:
        return None, []
    root = (root or find_root(files[0].parent)).resolve()
    checker = Checker(root, {p.resolve(): o for p, o in (overrides or {}).items()})
    program = checker.run(files)
    return program, checker.sorted_diagnostics()


def check_or_raise(paths: Iterable[Path], root: Path | None = None,
                   overrides: dict[Path, list[Override]] | None = None) -> Program:
    program, diags = check_files(paths, root, overrides)
    if any(d.severity == "error" for d in diags):
        raise EmxError(diags)
    if program is None:
        raise EmxError([])
    return program


def resolve_declaration(path: Path, name: str, root: Path
                        ) -> tuple[ast.Declaration | None, Any, list[Diagnostic]]:
    """Declaration ``name`` as file ``path`` sees it (its own or imported), its resolved value,
    and the diagnostics of loading ``path`` and resolving it, in the order found.
    (None, None, ...) when ``path`` sees no declaration of that name."""
    checker = Checker(root)
    scope = checker.loader.load(path)
    entry = scope.names.get(name) if scope else None
    if entry is None or not isinstance(entry[0], ast.Declaration):
        return None, None, list(checker.diagnostics)
    value = checker.resolver.declaration(entry[0], entry[1])
    return entry[0], value, list(checker.diagnostics)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.pos.path, d.pos.line, d.pos.column, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
