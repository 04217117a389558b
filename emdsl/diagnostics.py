"""Located diagnostics, rendered like a compiler's: ``path:line:col: error: message``.

Each diagnostic shows the offending source line with a caret under the fault, then a hint
("did you mean `med_bad`?") when there is one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from emdsl.ast import Pos


@dataclass(frozen=True)
class Diagnostic:
    pos: Pos
    message: str
    hint: str | None = None
    severity: str = "error"

    def render(self, source: str | None = None, root: Path | None = None) -> str:
        path = self.pos.path
        if root is not None:
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                pass
        head = f"{path}:{self.pos.line}:{self.pos.column}: {self.severity}: {self.message}"
        lines = [head]
        if source is None:
            try:
                source = self.pos.path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                source = None
        if source is not None:
            text_lines = source.split("\n")
            if 1 <= self.pos.line <= len(text_lines):
                text = text_lines[self.pos.line - 1].expandtabs(1)
                lineno = f"{self.pos.line:>4} | "
                lines.append(lineno + text)
                caret = "^" * max(1, min(self.pos.length, len(text) - self.pos.column + 1))
                lines.append(" " * (len(lineno) - 2) + "| " + " " * (self.pos.column - 1) + caret)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class EmxError(Exception):
    """Raised with all diagnostics of a run; ``str()`` renders them all."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=sort_key)
        super().__init__(render_all(self.diagnostics))


def sort_key(d: Diagnostic) -> tuple:
    return (str(d.pos.path), d.pos.line, d.pos.column, d.message)


def render_all(diagnostics: Iterable[Diagnostic], root: Path | None = None) -> str:
    cache: dict[Path, str | None] = {}
    out = []
    for d in diagnostics:
        if d.pos.path not in cache:
            try:
                cache[d.pos.path] = d.pos.path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                cache[d.pos.path] = None
        out.append(d.render(cache[d.pos.path], root))
    return "\n".join(out)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or listing the few there are."""
    candidates = sorted(set(candidates))
    if not candidates:
        return None
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close and len(name) >= 3:  # a prefix of a long name: "smollm" → "smollm2-135m-..."
        close = [c for c in candidates if c.lower().startswith(name.lower())][:1]
    if close:
        return f"did you mean `{close[0]}`?"
    if len(candidates) <= 8:
        return "expected one of: " + ", ".join(f"`{c}`" for c in candidates)
    return None
