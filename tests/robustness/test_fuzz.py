"""Fuzzing the parser *and* the checker (and the compiler behind them): random text and
grammar-shaped mutations of the real example files never crash; every failure is a located
diagnostic (file:line:col) that renders. Extends the parser-only fuzzing in
tests/emdsl/test_parse.py."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdsl.check import check_files
from emdsl.compile import CompileError, compile_program

REPO = Path(__file__).resolve().parents[2]
DESIGN = REPO / "tests" / "fixtures" / "design"
SOURCES = [(REPO / "experiments" / "quickstart.emx").read_text(),
           (DESIGN / "experiments" / "medical.emx").read_text(),
           (DESIGN / "experiments" / "common.emx").read_text()]

TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|#[^\n]*|[+-]?\d[\d_.eE+-]*|[A-Za-z_]\w*|\s+|.')
# Words and symbols of the language, and a few that are not, to splice in.
VOCAB = sorted({t for s in SOURCES for t in TOKEN.findall(s) if t.strip()
                and not t.startswith("#")} | {"import", "allow", "outside", "extends", "sweep",
                                             "..", "-1", "1e999", "0.5", '"../x"', '""',
                                             "\x00", "é", "top(1)", "[]", "()"})
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def root():
    """A project holding the design example's data and question files (so paths resolve)."""
    tmp = Path(tempfile.mkdtemp(prefix="emx-fuzz-"))
    (tmp / ".dvc").mkdir()
    for folder in ("data", "evals", "experiments"):
        shutil.copytree(DESIGN / folder, tmp / folder)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


@st.composite
def mutated(draw) -> str:
    """A real file with 1-4 token edits: delete, duplicate, swap, or replace by a vocab word."""
    tokens = TOKEN.findall(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 4))):
        i, j = draw(st.integers(0, len(tokens) - 1)), draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens[i] = draw(st.sampled_from(VOCAB))
    return "".join(tokens)


random_text = st.text(st.sampled_from(list('abemxdlsuwpotij_019.=,()[]{}"#\n -+é\x00')),
                      max_size=120) | st.text(max_size=80)


def check_never_crashes(root: Path, text: str) -> None:
    path = root / "experiments" / "fuzz.emx"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    program, diags = check_files([path], root)
    assert (program is None) == any(d.severity == "error" for d in diags)
    for d in diags:  # located, with a message, renderable against the file
        assert d.pos.path.is_absolute() and d.pos.line >= 1 and d.pos.column >= 1, d
        assert d.severity in ("error", "warning")
        assert d.message and f":{d.pos.line}:{d.pos.column}: {d.severity}:" in d.render()
    if program is not None:
        try:
            compile_program(program)
        except CompileError as e:  # the compiler's own user-facing error names the file
            assert "fuzz.emx" in str(e) or ".emx" in str(e)


@settings(max_examples=100, **SETTINGS)
@given(st.one_of(mutated(), random_text))
def test_checker_never_crashes(root, text):
    check_never_crashes(root, text)


@pytest.mark.slow
@settings(max_examples=600, **SETTINGS)
@given(st.one_of(mutated(), mutated(), random_text))
def test_checker_never_crashes_many(root, text):
    check_never_crashes(root, text)
