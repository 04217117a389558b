"""``emx fmt``: idempotent, comment-preserving, and the output re-parses to the same AST."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_parse import SOURCES

from emdsl.fmt import format_module
from emdsl.parse import parse


def fmt(text: str) -> str:
    module, diags = parse(text, Path("f.emx"))
    assert not diags, diags
    return format_module(module)


def test_fmt_is_idempotent_and_preserves_ast_on_examples():
    for source in SOURCES:
        once = fmt(source)
        assert fmt(once) == once
        assert parse(once, Path("f.emx"))[0] == parse(source, Path("f.emx"))[0]
        comments = [line.split("#", 1)[1] for line in source.splitlines() if "#" in line]
        for c in comments:
            assert c.strip() in once


def test_fmt_canonical_layout():
    messy = 'model   m=hf( "x" )\nexperiment e{base=m  # the base\nsweep data.seed=[0,1] }'
    assert fmt(messy) == (
        'model m = hf("x")\n\n'
        "experiment e {\n"
        "  base = m  # the base\n"
        "  sweep data.seed = [0, 1]\n"
        "}\n")


def test_long_calls_break_one_argument_per_line():
    long = "experiment e { data = mix(" + ", ".join(f"a{i}={i}" for i in range(20)) + ") }"
    out = fmt(long)
    assert "  data = mix(\n      a0=0,\n" in out and out.endswith("      a19=19,\n  )\n}\n")
    assert fmt(out) == out


_names = st.sampled_from(["a", "b_c", "model2", "x"])
_atoms = st.one_of(st.integers(-1000, 1000).map(str), _names,
                   st.text("abc xyz", max_size=5).map(lambda s: f'"{s}"'),
                   st.sampled_from(["true", "false", "2e-4", "200_000"]))
_exprs = st.recursive(_atoms, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.tuples(_names, st.lists(inner, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})")), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_names, _exprs), min_size=1, max_size=4),
       st.lists(st.tuples(_names, _exprs), max_size=4))
def test_fmt_property(decls, members):
    body = "\n".join(f"  {n} = {e}  # c{i}" for i, (n, e) in enumerate(members))
    text = "\n".join(f"model {n}{i} = {e}" for i, (n, e) in enumerate(decls))
    text += f"\n# lone\nexperiment e {{\n{body}\n}}\n"
    once = fmt(text)
    assert fmt(once) == once
    assert parse(once, Path("f.emx"))[0] == parse(text, Path("f.emx"))[0]
    assert once.count("#") == text.count("#")
