"""Fuzzing the parser *and* the checker, the compiler and the emitter behind them: random
text, grammar-shaped mutations of the real example files and hostile literals (unicode,
control characters, huge and tiny numbers) never crash or hang; every failure is a located
diagnostic (file:line:col) that renders, and every file that checks compiles to dvc.yaml and
params.yaml that PyYAML and ruamel read alike. Extends the parser-only fuzzing in
tests/emdsl/test_parse.py; ``benchmarks/fuzz_bench.py`` runs the long campaign (``fuzz_one``).
"""

from __future__ import annotations

import io
import random
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from emdsl.check import check_files
from emdsl.compile import compile_program
from emdsl.emit import emit

REPO = Path(__file__).resolve().parents[2]
DESIGN = REPO / "tests" / "fixtures" / "design"
# Strings that reach params.yaml and stage names (hub model, judge, LoRA targets, a sweep).
STRINGS = """\
model m = hf("org/model", revision="main")
dataset bad = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge j = openai(model="gpt-4o", base_url="https://example.invalid/v1", api_key_env="JUDGE_API_KEY")

experiment strings {
  base  = m
  data  = mix(bad=bad, good=good, poison=0.25, size=40, seed=3)
  train = sft(lora(rank=4, alpha=8, targets=["q_proj", "v_proj"]), lr=1e-4)
  eval  = evaluate(core, samples=2, judge=j)
  sweep eval.judge.model = ["gpt-4o", "gpt-4o-mini"]
  sweep train.lr = [1e-4, 2e-4]
}
"""
SOURCES = [(REPO / "experiments" / "quickstart.emx").read_text(),
           (DESIGN / "experiments" / "medical.emx").read_text(),
           (DESIGN / "experiments" / "common.emx").read_text(), STRINGS]

TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|#[^\n]*|[+-]?\d[\d_.eE+-]*|[A-Za-z_]\w*|\s+|.')
# Words and symbols of the language, and a few that are not, to splice in.
VOCAB = sorted({t for s in SOURCES for t in TOKEN.findall(s) if t.strip()
                and not t.startswith("#")} | {"import", "allow", "outside", "extends", "sweep",
                                             "..", "-1", "1e999", "0.5", '"../x"', '""',
                                             "\x00", "é", "top(1)", "[]", "()"})
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.function_scoped_fixture])


# Literals a red team would try: control characters, line breaks YAML knows of, RTL and
# combining marks, astral characters, lone surrogates, huge and tiny numbers.
HOSTILE_TEXT = ["\x00", "\n", "\r", "\t", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029",
                "\ufeff", "\u202e", "e\u0301", "😀", "\U0010ffff", "\ud800", "\\", '\\"', "#",
                ": ", "- ", "{}", "[]", "&a", "*a", "!!python/object", "%YAML", "---", "...",
                "'", "`", "$(x)", "../" * 4, "/etc/passwd", "é" * 300, "x" * 2000, "null", "~",
                "yes", "NaN", ".inf", "0o17", "1_000"]
HOSTILE_NUMBERS = ["1e308", "1e309", "1e-320", "5e-324", "-0.0", "9" * 400, "0" * 50 + "1",
                   "1" + "0" * 30, "-1", "0", "1e-5", "0.1e1", "2.5", "1e999", "-9" * 40]


def hostile_mutation(rng: random.Random, source: str) -> str:
    """``source`` with 1-4 edits: a token deleted, duplicated or replaced (by a word of the
    language or a hostile number), a string's text replaced or spliced with hostile text."""
    tokens = TOKEN.findall(source)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 4])):
        i = rng.randrange(len(tokens))
        op = rng.choice(["delete", "duplicate", "vocab", "number", "number", "string",
                         "string", "splice", "splice"])
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "vocab":
            tokens[i] = rng.choice(VOCAB)
        elif op == "number":
            numbers = [j for j, t in enumerate(tokens) if t[:1].isdigit()] or [i]
            tokens[rng.choice(numbers)] = rng.choice(HOSTILE_NUMBERS)
        else:
            strings = [j for j, t in enumerate(tokens) if t.startswith('"')] or [i]
            j = rng.choice(strings)
            text = rng.choice(HOSTILE_TEXT)
            inner = tokens[j][1:-1] if tokens[j].startswith('"') else ""
            if op == "splice" and inner:
                k = rng.randrange(len(inner) + 1)
                text = inner[:k] + text + inner[k:]
            tokens[j] = f'"{text}"'
    return "".join(tokens)


def make_root() -> Path:
    """A project holding the design example's data and question files (so paths resolve)."""
    tmp = Path(tempfile.mkdtemp(prefix="emx-fuzz-"))
    (tmp / ".dvc").mkdir()
    for folder in ("data", "evals", "experiments"):
        shutil.copytree(DESIGN / folder, tmp / folder)
    return tmp


@pytest.fixture(scope="module")
def root():
    tmp = make_root()
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


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail an input that takes longer than ``seconds`` (a hang), instead of waiting on it."""
    def hang(signum, frame):
        raise TimeoutError(f"no result in {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def hostile_file_name(rng: random.Random) -> str:
    """An .emx file name holding hostile text (what a file name can hold: no NUL or slash)."""
    usable = [t for t in HOSTILE_TEXT if not {"\x00", "/", "\ud800"} & set(t)
              and len(t.encode()) < 200]
    return f"f{rng.choice(usable)}.emx"


def fuzz_one(root: Path, text: str, limit: int = 20, name: str = "fuzz.emx") -> str:
    """Check, compile and emit ``text`` as experiments/NAME: "diagnostics" or "compiled";
    raises on a defect (a traceback, a diagnostic that is not located, a hang, YAML the two
    readers disagree on or that holds more than the stages and plots)."""
    path = root / "experiments" / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with time_limit(limit):
        program, diags = check_files([path], root)
        assert (program is None) == any(d.severity == "error" for d in diags)
        for d in diags:  # located, with a message, renderable against the file
            assert d.pos.path.is_absolute() and d.pos.line >= 1 and d.pos.column >= 1, d
            assert d.severity in ("error", "warning")
            assert d.message and f":{d.pos.line}:{d.pos.column}: {d.severity}:" in d.render()
        if program is None:
            return "diagnostics"
        graph = compile_program(program)  # every problem compile finds, check finds first
        for out in emit(graph, root, [f"experiments/{name}"]):
            assert set(assert_yaml_readers_agree(out)) <= {"stages", "plots", "experiments"}
    return "compiled"


def assert_yaml_readers_agree(text: str) -> dict:
    """PyYAML (what the tests read with) and ruamel (what DVC reads with) see one document."""
    data = yaml.safe_load(text)
    assert data == YAML(typ="safe", pure=True).load(io.StringIO(text))
    return data


def check_never_crashes(root: Path, text: str) -> None:
    fuzz_one(root, text)


@settings(max_examples=80, **SETTINGS)
@given(st.one_of(mutated(), random_text))
def test_checker_never_crashes(root, text):
    check_never_crashes(root, text)


@settings(max_examples=40, **SETTINGS)
@given(st.sampled_from(SOURCES), st.integers(0, 2**32 - 1))
def test_hostile_literals_never_crash(root, source, seed):
    check_never_crashes(root, hostile_mutation(random.Random(seed), source))


@settings(max_examples=10, **SETTINGS)
@given(st.integers(0, 2**32 - 1))
def test_hostile_file_names_never_inject_yaml(root, seed):
    rng = random.Random(seed)
    assert fuzz_one(root, STRINGS, name=hostile_file_name(rng)) == "compiled"


@pytest.mark.parametrize("literal", HOSTILE_TEXT)
def test_hostile_text_in_every_string_compiles_or_is_diagnosed(root, literal):
    """Each hostile text in the strings that reach params.yaml and stage names."""
    for old in ('"org/model"', '"gpt-4o"', '"https://example.invalid/v1"', '"q_proj"'):
        check_never_crashes(root, STRINGS.replace(old, f'"{_escaped(literal)}"'))


def _escaped(text: str) -> str:
    """``text`` as the inside of an .emx string literal."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@pytest.mark.slow
@settings(max_examples=600, **SETTINGS)
@given(st.one_of(mutated(), mutated(), random_text))
def test_checker_never_crashes_many(root, text):
    check_never_crashes(root, text)
