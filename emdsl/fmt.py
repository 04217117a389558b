"""Canonical formatting of an .emx file (``emx fmt``). Idempotent; keeps every comment.

Layout: one statement or member per line, two-space indent in experiments, a blank line
around each experiment and between groups of declarations. Calls longer than the line limit
put one argument per line. Numbers keep the spelling they were written with (``2e-4``).
"""

from __future__ import annotations

from emdsl import ast

LINE_LIMIT = 92


def format_expr(expr: ast.Expr, column: int = 0, indent: int = 0) -> str:
    """``expr`` starting at ``column`` on a line indented by ``indent``; breaks when too long."""
    flat = _flat(expr)
    if column + len(flat) <= LINE_LIMIT or not isinstance(expr, (ast.Call, ast.ListExpr)):
        return flat
    step = indent + 4
    pad = " " * step
    if isinstance(expr, ast.Call):
        parts = [format_expr(a, step, step) for a in expr.args]
        parts += [f"{k.name}={format_expr(k.value, step + len(k.name) + 1, step)}"
                  for k in expr.kwargs]
        opener, closer = f"{expr.name}(", ")"
    else:
        parts = [format_expr(i, step, step) for i in expr.items]
        opener, closer = "[", "]"
    body = ",\n".join(pad + p for p in parts)
    return f"{opener}\n{body},\n{' ' * indent}{closer}"


def _flat(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Number):
        return expr.text
    if isinstance(expr, ast.String):
        return '"' + expr.value.replace("\\", "\\\\").replace('"', '\\"') \
            .replace("\n", "\\n").replace("\t", "\\t") + '"'
    if isinstance(expr, ast.Bool):
        return "true" if expr.value else "false"
    if isinstance(expr, ast.Ref):
        return expr.name
    if isinstance(expr, ast.ListExpr):
        return "[" + ", ".join(_flat(i) for i in expr.items) + "]"
    args = [_flat(a) for a in expr.args] + [f"{k.name}={_flat(k.value)}" for k in expr.kwargs]
    return f"{expr.name}({', '.join(args)})"


def _line(node: ast.Statement | ast.Assignment | ast.Sweep) -> int:
    pos = node.name_pos if isinstance(node, ast.Declaration) else node.pos
    return pos.line if pos else 0


class _Comments:
    """Hands out each comment once: leading ones before a line, trailing ones on it."""

    def __init__(self, comments: tuple[tuple[int, str, bool], ...]):
        self.pending = sorted(comments)

    def leading(self, before_line: int) -> list[str]:
        out = [c for c in self.pending if c[0] < before_line]
        self.pending = [c for c in self.pending if c[0] >= before_line]
        return [text for _, text, _ in out]

    def trailing(self, start: int, end: int) -> list[str]:
        out = [c for c in self.pending if start <= c[0] <= end and c[2]]
        self.pending = [c for c in self.pending if c not in out]
        return [text for _, text, _ in out]


def _with_comments(code: str, trailing: list[str], indent: str) -> list[str]:
    lines = code.split("\n")
    if trailing:
        lines[0] += "  " + trailing[0]
        lines[1:1] = [indent + t for t in trailing[1:]]
    return lines


def format_module(module: ast.Module) -> str:
    comments = _Comments(module.comments)
    out: list[str] = []
    prev_group: str | None = None
    statements = module.statements
    for i, stmt in enumerate(statements):
        next_line = _line(statements[i + 1]) if i + 1 < len(statements) else 10**9
        group = ("import" if isinstance(stmt, (ast.Import, ast.AllowOutside)) else
                 f"decl:{stmt.kind}" if isinstance(stmt, ast.Declaration) else "experiment")
        if out and (group != prev_group or group == "experiment"):
            out.append("")
        prev_group = group
        out.extend(comments.leading(_line(stmt)))
        if isinstance(stmt, ast.Import):
            code = f'import {_flat(ast.String(stmt.path))}'
            out.extend(_with_comments(code, comments.trailing(_line(stmt), _line(stmt)), ""))
        elif isinstance(stmt, ast.AllowOutside):
            code = f'allow outside {_flat(ast.String(stmt.path))}'
            out.extend(_with_comments(code, comments.trailing(_line(stmt), _line(stmt)), ""))
        elif isinstance(stmt, ast.Declaration):
            head = f"{stmt.kind} {stmt.name} = "
            code = head + format_expr(stmt.value, len(head), 0)
            out.extend(_with_comments(code, comments.trailing(_line(stmt), next_line - 1), ""))
        else:
            out.extend(_format_experiment(stmt, comments))
    out.extend(comments.leading(10**9))
    return "\n".join(out).rstrip() + "\n"


def _format_experiment(exp: ast.Experiment, comments: _Comments) -> list[str]:
    head = f"experiment {exp.name}" + (f" extends {exp.extends}" if exp.extends else "") + " {"
    shares_line = bool(exp.members) and _line(exp.members[0]) == _line(exp)
    out = _with_comments(head, [] if shares_line else comments.trailing(_line(exp), _line(exp)),
                         "  ")
    width = max((len(m.name) for m in exp.assignments), default=0)
    members = exp.members
    for i, m in enumerate(members):
        next_line = _line(members[i + 1]) if i + 1 < len(members) else exp.end_line
        out.extend("  " + c for c in comments.leading(_line(m)))
        if isinstance(m, ast.Assignment):
            head = f"  {m.name.ljust(width)} = "
            code = head + format_expr(m.value, len(head), 2)
        else:
            head = f"  sweep {'.'.join(m.path)} = "
            code = head + format_expr(m.values, len(head), 2)
        last = next_line - 1 if next_line > _line(m) else _line(m)
        out.extend(_with_comments(code, comments.trailing(_line(m), last), "  "))
    out.extend("  " + c for c in comments.leading(exp.end_line))
    out.extend(_with_comments("}", comments.trailing(exp.end_line, exp.end_line), ""))
    return out
