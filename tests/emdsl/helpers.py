"""Small helpers for language tests: write .emx sources into a temporary project."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from emdsl.check import check_files

PRELUDE = """\
model smol = embedded("smollm2-135m-instruct")
dataset bad = builtin("medical", variant="incorrect-subtle")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=smol)
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write files (dedented) under ``tmp_path`` with a ``.dvc`` marker; return the root."""
    (tmp_path / ".dvc").mkdir(exist_ok=True)
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dedent(text), encoding="utf-8")
    return tmp_path


def diagnostics(tmp_path: Path, source: str, name: str = "exp.emx", extra=None):
    root = project(tmp_path, {name: source, **(extra or {})})
    program, diags = check_files([root / name], root)
    return program, diags
