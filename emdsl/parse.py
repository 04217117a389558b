"""Source text → AST (``emdsl.ast``), or located syntax diagnostics. Never raises otherwise."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from emdsl import ast
from emdsl.diagnostics import Diagnostic

GRAMMAR = Path(__file__).with_name("grammar.lark")

# How lark names terminals → what a person would call them.
TOKEN_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "LPAR": "`(`", "RPAR": "`)`",
    "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`", "COMMA": "`,`",
    "EQUAL": "`=`", "DOT": "`.`", "MODEL": "`model`", "DATASET": "`dataset`",
    "QUESTIONS": "`questions`", "JUDGE": "`judge`",
    "IMPORT": "`import`", "ALLOW": "`allow`", "OUTSIDE": "`outside`",
    "EXPERIMENT": "`experiment`", "EXTENDS": "`extends`",
    "SWEEP": "`sweep`", "TRUE": "`true`", "FALSE": "`false`", "$END": "end of file",
}


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=False)


def parse(text: str, path: Path) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module, or None and the syntax diagnostics."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        return None, [_syntax_diagnostic(e, text, path)]
    try:
        statements = _ToAst(path).transform(tree).children
    except VisitError as wrapped:
        e = wrapped.orig_exc
        if not isinstance(e, _AstError):
            raise
        return None, [Diagnostic(e.pos, e.message, e.hint)]
    comments = tuple((i + 1, m.group(0).strip(), bool(line[: m.start()].strip()))
                     for i, line in enumerate(text.split("\n"))
                     for m in [_comment_in(line)] if m)
    return ast.Module(path, tuple(statements), comments), []


def parse_file(path: Path) -> tuple[ast.Module | None, list[Diagnostic]]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        return None, [Diagnostic(ast.Pos(path, 1, 1), f"cannot read file: {e.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Diagnostic(ast.Pos(path, line, col), "file is not valid UTF-8",
                                 "save the file as UTF-8")]
    return parse(text, path)


_STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\\n])*"|#.*')


def _comment_in(line: str) -> re.Match | None:
    """The ``# comment`` on a line, skipping ``#`` inside strings."""
    for m in _STRING_OR_COMMENT.finditer(line):
        if m.group(0).startswith("#"):
            return m
    return None


def _syntax_diagnostic(e: UnexpectedInput, text: str, path: Path) -> Diagnostic:
    line, column = getattr(e, "line", -1), getattr(e, "column", -1)
    if isinstance(e, UnexpectedEOF) or line in (None, -1):
        lines = text.rstrip("\n").split("\n")
        line, column = len(lines), len(lines[-1]) + 1
    expected = sorted(getattr(e, "expected", None) or getattr(e, "allowed", None) or [])
    names = sorted({TOKEN_NAMES.get(t, f"`{t.lower()}`") for t in expected
                    if not t.startswith("__ANON")})
    hint = f"expected {', '.join(names)}" if names else None
    if isinstance(e, UnexpectedCharacters):
        lines = text.split("\n")
        row = lines[line - 1] if 0 < line <= len(lines) else ""
        char = row[column - 1] if 0 < column <= len(row) else ""
        message = f"unexpected character {char!r}" if not char.isprintable() or not char \
            else f"unexpected character `{char}`"
        if char == "'":
            hint = 'strings use double quotes: "like this"'
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            message = "unexpected end of file"
            lines = text.rstrip("\n").split("\n")
            line, column = len(lines), len(lines[-1]) + 1
        else:
            kind = TOKEN_NAMES.get(tok.type, "")
            kind = "" if kind.strip("`") == str(tok) else kind.removeprefix("a ") + " "
            message = f"unexpected {kind}`{tok}`"
        if "RBRACE" in expected and tok.type == "$END":
            hint = "an experiment block is missing its closing `}`"
    else:
        message = "unexpected end of file"
    length = len(getattr(e, "token", "") or "x") if isinstance(e, UnexpectedToken) else 1
    return Diagnostic(ast.Pos(path, line, column, max(1, length)), f"syntax error: {message}", hint)


class _AstError(Exception):
    def __init__(self, pos: ast.Pos, message: str, hint: str | None = None):
        self.pos, self.message, self.hint = pos, message, hint


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


@v_args(tree=True)
class _ToAst(Transformer):
    """lark tree → frozen AST dataclasses with positions."""

    def __init__(self, path: Path):
        super().__init__()
        self.file = path

    def _pos(self, node: Tree | Token, length: int | None = None) -> ast.Pos:
        if isinstance(node, Token):
            return ast.Pos(self.file, node.line, node.column, length or len(node))
        meta = node.meta
        if meta.empty:
            return ast.Pos(self.file, 1, 1)
        if length is None:
            length = (meta.end_column - meta.column) if meta.end_line == meta.line else 1
        return ast.Pos(self.file, meta.line, meta.column, max(1, length))

    def start(self, tree: Tree) -> Tree:
        return tree

    def import_stmt(self, tree: Tree) -> ast.Import:
        (tok,) = tree.children
        return ast.Import(_unquote(tok), self._pos(tok))

    def allow_stmt(self, tree: Tree) -> ast.AllowOutside:
        (tok,) = tree.children
        return ast.AllowOutside(_unquote(tok), self._pos(tok))

    def decl_kind(self, tree: Tree) -> Token:
        return tree.children[0]

    def declaration(self, tree: Tree) -> ast.Declaration:
        kind, name, value = tree.children
        return ast.Declaration(str(kind), str(name), value, self._pos(kind), self._pos(name))

    def extends(self, tree: Tree) -> Token:
        return tree.children[0]

    def experiment(self, tree: Tree) -> ast.Experiment:
        name, *rest = tree.children
        parent = rest.pop(0) if rest and isinstance(rest[0], Token) else None
        return ast.Experiment(str(name), str(parent) if parent else None, tuple(rest),
                              self._pos(name), self._pos(parent) if parent else None,
                              tree.meta.end_line)

    def assignment(self, tree: Tree) -> ast.Assignment:
        name, value = tree.children
        return ast.Assignment(str(name), value, self._pos(name))

    def path(self, tree: Tree) -> Tree:
        return tree

    def sweep(self, tree: Tree) -> ast.Sweep:
        path, values = tree.children
        parts = tuple(str(t) for t in path.children)
        return ast.Sweep(parts, values, self._pos(path))

    def number(self, tree: Tree) -> ast.Number:
        (tok,) = tree.children
        text = str(tok)
        clean = text.replace("_", "")
        try:
            is_float = any(c in clean for c in ".eE")
            value: int | float = float(clean) if is_float else int(clean)
        except ValueError:
            raise _AstError(self._pos(tok), f"malformed number `{text}`",
                            "write numbers like 8, 2e-4 or 200_000") from None
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise _AstError(self._pos(tok), f"number `{text}` is too large")
        return ast.Number(value, text, self._pos(tok))

    def string(self, tree: Tree) -> ast.String:
        (tok,) = tree.children
        return ast.String(_unquote(tok), self._pos(tok))

    def true(self, tree: Tree) -> ast.Bool:
        return ast.Bool(True, self._pos(tree, 4))

    def false(self, tree: Tree) -> ast.Bool:
        return ast.Bool(False, self._pos(tree, 5))

    def ref(self, tree: Tree) -> ast.Ref:
        (tok,) = tree.children
        return ast.Ref(str(tok), self._pos(tok))

    def list(self, tree: Tree) -> ast.ListExpr:
        return ast.ListExpr(tuple(tree.children), self._pos(tree, 1))

    def keyword(self, tree: Tree) -> ast.Keyword:
        name, value = tree.children
        return ast.Keyword(str(name), value, self._pos(name))

    def call(self, tree: Tree) -> ast.Call:
        name, *args = tree.children
        seen_keyword = False
        for a in args:
            if isinstance(a, ast.Keyword):
                seen_keyword = True
            elif seen_keyword:
                raise _AstError(a.pos,
                                f"positional argument after a keyword argument in `{name}(...)`",
                                "put positional arguments first, or name this one")
        positional = tuple(a for a in args if not isinstance(a, ast.Keyword))
        keywords = tuple(a for a in args if isinstance(a, ast.Keyword))
        return ast.Call(str(name), positional, keywords, self._pos(name))
