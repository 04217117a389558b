"""``seeds = N``: every variant at seeds 0..N-1 as an implicit ``seed`` axis (checker and
compiler), and ``seeds = 1`` or absent leaving variants, labels and keys as they were."""

from __future__ import annotations

from collections import Counter

from helpers import PRELUDE, diagnostics, project

from emdsl.check import check_or_raise
from emdsl.compile import compile_program

STUDY = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good, size=10)
  train = sft(lora(rank=1))
  eval = evaluate(core, samples=1, judge=small)
  SEEDS
  sweep data.poison = [0.0, 1.0]
}
"""


def graph_of(tmp_path, seeds_line: str):
    tmp_path.mkdir(exist_ok=True)
    root = project(tmp_path, {"exp.emx": STUDY.replace("SEEDS", seeds_line)})
    program = check_or_raise([root / "exp.emx"], root)
    return program, compile_program(program)


def test_two_seeds_over_two_poisons_give_four_trainings(tmp_path):
    program, graph = graph_of(tmp_path, "seeds = 2")
    variants = program.experiments[0].variants
    assert [v.label for v in variants] == ["poison=0.0,seed=0", "poison=0.0,seed=1",
                                           "poison=1.0,seed=0", "poison=1.0,seed=1"]
    for v in variants:
        seed = dict(v.axes)["seed"]
        assert (v.config["data"]["seed"], v.config["train"]["seed"],
                v.config["eval"]["seed"]) == (seed, seed, seed)
    kinds = Counter(n.kind for n in graph.nodes.values())
    assert kinds["train"] == 4 and kinds["data"] == 4
    # the base model's answers at a sampling seed are shared across poisons: one per seed
    base = [n for n in graph.nodes.values() if n.kind == "generate" and n.role == "base"]
    assert len(base) == 2
    assert all(len({v.label for v, _ in n.users}) == 2 for n in base)


def test_one_seed_is_todays_study(tmp_path):
    _, plain = graph_of(tmp_path / "a", "")
    _, one = graph_of(tmp_path / "b", "seeds = 1")
    assert {n.key for n in plain.nodes.values()} == {n.key for n in one.nodes.values()}
    assert [v.label for v in one.variants] == ["poison=0.0", "poison=1.0"]
    _, two = graph_of(tmp_path / "c", "seeds = 2")
    # seed 0 is today's config: its stages keep their keys (nothing reruns); only the
    # summary, which lists every variant, changes
    def keys(g):
        return {n.key for n in g.nodes.values() if n.kind != "summary"}
    assert keys(plain) < keys(two)


def test_seeds_are_inherited_through_extends(tmp_path):
    src = STUDY.replace("SEEDS", "seeds = 3") + "experiment child extends e {\n  train = sft(lora(rank=2))\n}\n"
    program, diags = diagnostics(tmp_path, src)
    assert not diags
    child = next(x for x in program.experiments if x.name == "child")
    assert len(child.variants) == 6


def test_seeds_checked(tmp_path):
    for line, message in (("seeds = 0", "`seeds = 0`: at least 1"),
                          ("seeds = 1.5", "expected int"),
                          ('seeds = "3"', "expected int")):
        _, diags = diagnostics(tmp_path, STUDY.replace("SEEDS", line))
        assert len(diags) == 1 and message in diags[0].message, (line, diags)
        assert diags[0].pos.line == 11


def test_seeds_conflict_with_a_swept_or_written_seed(tmp_path):
    swept = STUDY.replace("SEEDS", "seeds = 2\n  sweep train.seed = [0, 1]")
    _, diags = diagnostics(tmp_path, swept)
    assert len(diags) == 1 and "`train.seed` is swept too" in diags[0].message
    written = STUDY.replace("SEEDS", "seeds = 2").replace("size=10)", "size=10, seed=4)")
    _, diags = diagnostics(tmp_path, written)
    assert len(diags) == 1 and "writes `seed=4`" in diags[0].message
    assert "drop `seed=` from `data`" in diags[0].hint


def test_unknown_field_suggests_seeds(tmp_path):
    _, diags = diagnostics(tmp_path, STUDY.replace("SEEDS", "sedes = 2"))
    assert len(diags) == 1 and diags[0].hint == "did you mean `seeds`?"
