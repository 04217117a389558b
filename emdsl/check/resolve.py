"""Expressions → config values: plain data with a ``type`` key, checked against the typed
configs in ``emdsl.configs`` and filled with their defaults.

A name resolves to its declaration's value (each declaration is resolved once); a call to the
config it names, argument by argument; a literal to the type its field expects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import Field
from pathlib import Path
from typing import Any

from emdsl import ast, configs
from emdsl.check.calls import call_problem
from emdsl.check.loader import Loader, Scope
from emdsl.check.program import INVALID, Diagnostics
from emdsl.diagnostics import did_you_mean

Positions = dict[str, ast.Pos]  # dotted path of a value -> where it is written


class Resolver:
    """Resolves expressions in a scope the loader built; reports into the run's diagnostics."""

    def __init__(self, loader: Loader, diagnostics: Diagnostics):
        self.loader = loader
        self.diagnostics = diagnostics
        self._values: dict[int, Any] = {}  # id(declaration) -> its value
        self._resolving: set[int] = set()  # declarations being resolved, to report self-reference

    def resolve(self, expr: ast.Expr, role: str, scope: Scope, path: str,
                positions: Positions) -> Any:
        """Resolve an expression expected to produce a value of ``role``."""
        assert expr.pos is not None
        positions[path] = expr.pos
        roles = (role, *configs.ROLE_ACCEPTS.get(role, ()))
        if isinstance(expr, ast.Ref):
            return self._reference(expr, role, roles, scope)
        if isinstance(expr, ast.Call):
            return self._call(expr, role, scope, path, positions)
        if role == "latents" and isinstance(expr, ast.ListExpr):
            return self.literal(expr, list[int])
        if role in configs.LIST_ROLES and isinstance(expr, ast.ListExpr):
            return self._list(expr, role, scope, path, positions)
        self.diagnostics.error(expr.pos, f"expected a {role}, got {_describe_expr(expr)}",
                               _examples_hint(role))
        return INVALID

    def _list(self, expr: ast.ListExpr, role: str, scope: Scope, path: str,
              positions: Positions) -> Any:
        """``eval = [evaluate(...), ...]``: each element resolved as one value of ``role``
        (its problems located at the element); the first at ``path``, the others at
        ``path[i]``. Empty lists and repeated elements are errors."""
        assert expr.pos is not None
        if not expr.items:
            self.diagnostics.error(expr.pos, f"`{path}` is an empty list",
                                   f"list at least one {role}, or leave `{path}` out")
            return INVALID
        items = [self.resolve(item, role, scope, path if i == 0 else f"{path}[{i}]", positions)
                 for i, item in enumerate(expr.items)]
        if any(i is INVALID for i in items):
            return INVALID
        seen: list[Any] = []
        for item, value in zip(expr.items, items, strict=True):
            if value in seen:
                assert item.pos is not None
                self.diagnostics.error(item.pos, f"`{path}` lists the same {role} twice",
                                       "list each once; change a setting to make them differ")
                return INVALID
            seen.append(value)
        return items

    def declaration(self, decl: ast.Declaration, path: Path) -> Any:
        """The value of ``decl``, declared in file ``path``; resolved once, then remembered."""
        if id(decl) in self._values:
            return self._values[id(decl)]
        if id(decl) in self._resolving:
            assert decl.name_pos is not None
            self.diagnostics.error(decl.name_pos, f"`{decl.name}` refers to itself")
            return INVALID
        self._resolving.add(id(decl))
        value = self.resolve(decl.value, decl.kind, self.loader.scopes[path], decl.name, {})
        if decl.kind == "direction" and isinstance(value, dict) and not value.get("name"):
            value = {**value, "name": decl.name}  # labels its stages and columns
        self._resolving.discard(id(decl))
        self._values[id(decl)] = value
        return value

    def literal(self, expr: ast.Expr, tp: Any) -> Any:
        """A literal (number, string, bool, list of those) as plain data."""
        assert expr.pos is not None
        if isinstance(expr, (ast.Number, ast.String, ast.Bool)):
            problem = coerce_problem(tp, expr.value)
            if problem:
                self.diagnostics.error(expr.pos, problem, "write a smaller number")
                return INVALID
            return configs.coerce(tp, expr.value)
        if isinstance(expr, ast.ListExpr):
            items = [self.literal(item, configs.item_type(tp)) for item in expr.items]
            return INVALID if any(i is INVALID for i in items) else items
        if isinstance(expr, ast.Ref):
            self.diagnostics.error(
                expr.pos, f"expected {configs.type_name(tp)}, got the name `{expr.name}`",
                "write a literal value here; names refer to declarations")
        else:
            self.diagnostics.error(expr.pos,
                                   f"expected {configs.type_name(tp)}, got {_describe_expr(expr)}")
        return INVALID

    def _reference(self, expr: ast.Ref, role: str, roles: tuple[str, ...], scope: Scope) -> Any:
        assert expr.pos is not None
        entry = scope.names.get(expr.name)
        if entry is None or not isinstance(entry[0], ast.Declaration):
            kinds = [r for r in roles if r in configs.DECLARABLE]
            noun = " or ".join(kinds) if kinds else role
            self.diagnostics.error(expr.pos, f"unknown {noun} `{expr.name}`",
                                   did_you_mean(expr.name, _names_of_kind(scope, roles)))
            return INVALID
        decl = entry[0]
        if decl.kind not in roles:
            self.diagnostics.error(
                expr.pos, f"`{expr.name}` is a {decl.kind}, but a {role} is expected here",
                did_you_mean(expr.name, _names_of_kind(scope, roles)))
            return INVALID
        return self.declaration(decl, entry[1])

    def _call(self, expr: ast.Call, role: str, scope: Scope, path: str,
              positions: Positions) -> Any:
        assert expr.pos is not None
        candidates = configs.calls_for(role)
        cls = candidates.get(expr.name)
        if cls is None:
            owner = [r for r, calls in configs.REGISTRY.items() if expr.name in calls]
            hint = did_you_mean(expr.name, candidates)
            if owner and not hint:
                hint = f"`{expr.name}(...)` makes a {owner[0]}; a {role} is expected here"
            self.diagnostics.error(expr.pos, f"unknown {role} `{expr.name}`", hint)
            return INVALID
        given, fits = self._bind(expr, configs.config_fields(cls))
        values = self._arguments(expr, cls, given, scope, path, positions)
        if not fits or values is None:
            return INVALID
        problem = call_problem(cls, values, scope, self.loader)
        if problem:
            self.diagnostics.error(given.get(problem.arg, expr).pos or expr.pos,
                                   problem.message, problem.hint)
            return INVALID
        try:
            return configs.build(cls, values)
        except ValueError as e:
            self.diagnostics.error(expr.pos, str(e))
            return INVALID

    def _bind(self, expr: ast.Call, fields: list[Field]) -> tuple[dict[str, ast.Expr], bool]:
        """Each argument's expression by field name, and whether the arguments fit the fields
        (what did fit is still resolved, so its problems are reported too)."""
        names = [f.name for f in fields]
        given: dict[str, ast.Expr] = {}
        fits = True
        if len(expr.args) > len(fields):
            extra = expr.args[len(fields)]
            assert extra.pos is not None
            self.diagnostics.error(
                extra.pos, f"`{expr.name}` takes at most {len(fields)} positional "
                f"argument{'s' if len(fields) != 1 else ''}",
                f"its arguments are: {', '.join(names) or 'none'}")
            fits = False
        for f, arg in zip(fields, expr.args, strict=False):  # extra args reported above
            given[f.name] = arg
        for kw in expr.kwargs:
            assert kw.pos is not None
            if kw.name not in names:
                self.diagnostics.error(
                    kw.pos, f"`{expr.name}` has no argument `{kw.name}`",
                    did_you_mean(kw.name, names) or f"its arguments are: {', '.join(names)}")
                fits = False
            elif kw.name in given:
                self.diagnostics.error(kw.pos,
                                       f"argument `{kw.name}` given twice to `{expr.name}`")
                fits = False
            else:
                given[kw.name] = kw.value
        return given, fits

    def _arguments(self, expr: ast.Call, cls: type, given: dict[str, ast.Expr], scope: Scope,
                   path: str, positions: Positions) -> dict[str, Any] | None:
        """Each given argument's value, checked against its field; None when any is missing
        or bad (every problem reported)."""
        assert expr.pos is not None
        values: dict[str, Any] = {}
        ok = True
        for f in configs.config_fields(cls):
            if f.name not in given:
                if configs.is_required(f):
                    self.diagnostics.error(expr.pos, f"`{expr.name}(...)` is missing argument "
                                           f"`{f.name}`", f"write `{expr.name}({f.name}=...)`")
                    ok = False
                continue
            arg = given[f.name]
            assert arg.pos is not None
            sub = f"{path}.{f.name}"
            if f.metadata.get("many") and isinstance(arg, ast.ListExpr):
                positions[sub] = arg.pos
                items = [self.resolve(item, f.metadata["role"], scope, f"{sub}.{i}", positions)
                         for i, item in enumerate(arg.items)]
                value = INVALID if any(v is INVALID for v in items) else items
            elif f.metadata.get("role"):
                value = self.resolve(arg, f.metadata["role"], scope, sub, positions)
            else:
                positions[sub] = arg.pos
                value = self.literal(arg, configs.field_type(cls, f))
            if value is INVALID:
                ok = False
                continue
            problem = configs.check_value(cls, f, value)
            if problem:
                self.diagnostics.error(arg.pos, f"`{expr.name}(...)` argument `{f.name}`: "
                                       f"{problem}", range_hint(f))
                ok = False
                continue
            values[f.name] = value
        return values if ok else None


def coerce_problem(tp: Any, value: Any) -> str | None:
    """Why ``value`` cannot become a value of ``tp``: an integer too large for a float."""
    try:
        configs.coerce(tp, value)
    except OverflowError:
        digits = str(value)
        shown = digits if len(digits) <= 20 else f"{digits[:8]}…({len(digits)} digits)"
        return f"number `{shown}` is too large for a float"
    return None


def _names_of_kind(scope: Scope, roles: Iterable[str]) -> list[str]:
    roles = set(roles)
    return [n for n, (node, _) in scope.names.items()
            if isinstance(node, ast.Declaration) and node.kind in roles]


def _describe_expr(expr: ast.Expr) -> str:
    """How a diagnostic names an expression that is not what was expected."""
    if isinstance(expr, ast.Number):
        return f"the number {expr.text}"
    if isinstance(expr, ast.String):
        return f'the string "{expr.value}"'
    if isinstance(expr, ast.Bool):
        return "a boolean"
    if isinstance(expr, ast.ListExpr):
        return "a list"
    if isinstance(expr, ast.Ref):
        return f"the name `{expr.name}`"
    return f"`{expr.name}(...)`"


def _examples_hint(role: str) -> str | None:
    calls = sorted(configs.calls_for(role))
    return f"write one of: {', '.join(c + '(...)' for c in calls)}" if calls else None


def range_hint(f: Field) -> str | None:
    """The range a numeric field accepts, as a hint for a value outside it."""
    ge, gt, le = (f.metadata.get(k) for k in ("ge", "gt", "le"))
    if ge is not None and le is not None:
        return f"`{f.name}` must be between {ge:g} and {le:g}"
    if gt is not None:
        return f"`{f.name}` must be greater than {gt:g}"
    if ge is not None:
        return f"`{f.name}` must be at least {ge:g}"
    return None
