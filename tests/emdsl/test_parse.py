"""The parser: every construct of DESIGN.md, positions, syntax errors, and no crashes ever."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdsl import ast
from emdsl.parse import parse

DESIGN = Path(__file__).resolve().parents[1] / "fixtures" / "design" / "experiments"
QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.emx"
SOURCES = [p.read_text() for p in sorted(DESIGN.glob("*.emx"))] + [QUICKSTART.read_text()]


def test_design_example_parses_every_construct():
    module, diags = parse((DESIGN / "medical.emx").read_text(), DESIGN / "medical.emx")
    assert diags == []
    kinds = [type(s).__name__ for s in module.statements]
    assert kinds[0] == "Import" and kinds.count("Declaration") == 9
    exps = {s.name: s for s in module.statements if isinstance(s, ast.Experiment)}
    assert set(exps) == {"medical", "legal", "baseline", "reward_hacking"}
    assert exps["legal"].extends == "medical"
    assert [sw.path for sw in exps["medical"].sweeps] == [("data", "poison"), ("data", "seed")]
    steer = dict((a.name, a.value) for a in exps["medical"].assignments)["steer"]
    coef = dict((k.name, k.value) for k in steer.kwargs)["coef"]
    assert [n.value for n in coef.items] == [-8, 0, 8]
    grpo = dict((a.name, a.value) for a in exps["reward_hacking"].assignments)["train"]
    reward = dict((k.name, k.value) for k in grpo.kwargs)["reward"]
    assert reward.kwargs[0].value == ast.Bool(True)


def test_numbers_strings_and_positions():
    module, _ = parse('model m = f(200_000, 2e-4, -8, .5, "a\\"b", false)\n', Path("x.emx"))
    call = module.statements[0].value
    assert [a.value for a in call.args] == [200000, 2e-4, -8, 0.5, 'a"b', False]
    assert [a.pos.column for a in call.args] == [13, 22, 28, 32, 36, 44]
    assert call.args[0].text == "200_000"


def test_comments_are_kept_with_their_lines():
    module, _ = parse('# head\nmodel m = hf("x")  # tail\n', Path("x.emx"))
    assert module.comments == ((1, "# head", False), (2, "# tail", True))


def test_syntax_error_is_located():
    module, diags = parse("model m = hf(\"x\"\nexperiment e {}\n", Path("x.emx"))
    assert module is None
    (d,) = diags
    assert (d.pos.line, d.pos.column) == (2, 1)
    assert "`)`" in d.hint


def test_non_utf8_file_is_a_diagnostic(tmp_path):
    from emdsl.parse import parse_file

    p = tmp_path / "bad.emx"
    p.write_bytes(b'model m = hf("caf\xe9")\n')
    module, (d,) = parse_file(p)
    assert module is None and d.message == "file is not valid UTF-8"
    assert (d.pos.line, d.pos.column) == (1, 18)


def _mutations(source: str):
    """Valid sources with a slice deleted, duplicated or replaced by junk."""
    n = len(source)
    return st.tuples(st.integers(0, n), st.integers(0, n), st.sampled_from(
        ["", "(", ")", "{", "}", "=", ",", "[", '"', "experiment", "sweep", "1e", "\x00", "é",
         "model x =", "..", "-", "_"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_sources_never_crash(data):
    source = data.draw(st.sampled_from(SOURCES))
    i, j, junk = data.draw(_mutations(source))
    i, j = min(i, j), max(i, j)
    text = source[:i] + junk + source[j:]
    module, diags = parse(text, Path("fuzz.emx"))
    assert (module is None) == bool(diags)
    for d in diags:
        assert d.pos.line >= 1 and d.pos.column >= 1 and d.message
        d.render(text)  # renders without error


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(raw):
    text = raw.decode("utf-8", errors="replace")
    module, diags = parse(text, Path("fuzz.emx"))
    assert (module is None) == bool(diags)
    assert all(d.pos.line >= 1 and d.pos.column >= 1 for d in diags)
