"""One test per diagnostic kind: each names file, line, column and gives a hint."""

from __future__ import annotations

from helpers import PRELUDE, diagnostics, project

from emdsl.check import check_files


def only(diags):
    assert len(diags) == 1, "\n".join(d.render() for d in diags)
    return diags[0]


def test_unknown_name_suggests_nearest(tmp_path):
    src = PRELUDE + """
experiment e {
  base = smol
  data = mix(bad=bda, good=good)
}
"""
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "unknown dataset `bda`"
    assert (d.pos.path.name, d.pos.line, d.pos.column) == ("exp.emx", 9, 18)
    assert d.hint == "did you mean `bad`?"
    rendered = d.render()
    assert "exp.emx:9:18: error: unknown dataset `bda`" in rendered
    assert "  data = mix(bad=bda, good=good)" in rendered
    assert rendered.splitlines()[2].index("^") == rendered.splitlines()[1].index("bda")


def test_wrong_kind_of_name(tmp_path):
    src = PRELUDE + "experiment e { base = small }\n"
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "`small` is a judge, but a model is expected here"
    assert (d.pos.line, d.pos.column) == (6, 23)
    assert d.hint == "did you mean `smol`?"


def test_duplicate_name(tmp_path):
    src = PRELUDE + 'model smol = hf("x/y")\n'
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message.startswith("duplicate name `smol`; it is already defined at exp.emx:1")
    assert (d.pos.line, d.pos.column) == (6, 7)
    assert d.hint


def test_unknown_argument_name(tmp_path):
    src = PRELUDE + "experiment e { base = smol\n train = sft(lora(rnk=4)) data = mix(bad=bad, good=good) }\n"
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "`lora` has no argument `rnk`"
    assert (d.pos.line, d.pos.column) == (7, 19)
    assert d.hint == "did you mean `rank`?"


def test_wrong_argument_type(tmp_path):
    src = PRELUDE + 'experiment e { base = smol\n eval = evaluate(core, samples="many", judge=small) }\n'
    d = only(diagnostics(tmp_path, src)[1])
    assert "argument `samples`: expected int, got the string 'many'" in d.message
    assert (d.pos.line, d.pos.column) == (7, 32)


def test_poison_out_of_range(tmp_path):
    src = PRELUDE + "experiment e {\n  base = smol\n  data = mix(bad=bad, good=good, poison=1.5)\n}\n"
    d = only(diagnostics(tmp_path, src)[1])
    assert "`poison`: must be ≤ 1, got 1.5" in d.message
    assert (d.pos.line, d.pos.column) == (8, 41)
    assert d.hint == "`poison` must be between 0 and 1"


def test_size_and_samples_must_be_positive(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good, size=0)
  eval = evaluate(core, samples=-2, judge=small)
}
"""
    _, diags = diagnostics(tmp_path, src)
    assert [(d.pos.line, d.pos.column) for d in diags] == [(8, 39), (9, 33)]
    assert all(d.hint and "greater than 0" in d.hint for d in diags)


def test_sweep_over_missing_path(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good)
  sweep data.posion = [0.0, 0.5]
}
"""
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "cannot sweep `data.posion`: `data` is `mix(...)`, which has no field `posion`"
    assert (d.pos.line, d.pos.column) == (9, 9)
    assert d.hint == "did you mean `poison`?"


def test_sweep_value_checked(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good)
  sweep data.poison = [0.0, 2.0]
}
"""
    d = only(diagnostics(tmp_path, src)[1])
    assert "must be ≤ 1, got 2.0" in d.message
    assert (d.pos.line, d.pos.column) == (9, 29)


def test_top_k_steering_without_diff(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  eval = evaluate(core, judge=small)
  sae = sae(layer=3)
  steer = steer(latents=top(2), coef=[-4, 4])
}
"""
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "steering `top(k)` latents needs a `diff` in this experiment"
    assert (d.pos.line, d.pos.column) == (10, 25)
    assert "diff(" in d.hint


def test_layer_beyond_depth(tmp_path):
    src = PRELUDE + "experiment e {\n  base = smol\n  sae = sae(layer=30)\n}\n"
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "layer 30 is beyond the model's depth (30 layers)"
    assert (d.pos.line, d.pos.column) == (8, 19)
    assert d.hint == "use a layer from 0 to 29"


def test_missing_import(tmp_path):
    d = only(diagnostics(tmp_path, 'import "commn.emx"\n', extra={"common.emx": ""})[1])
    assert d.message == "imported file `commn.emx` does not exist"
    assert (d.pos.line, d.pos.column) == (1, 8)
    assert d.hint == "did you mean `common.emx`?"


def test_import_escaping_root(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (tmp_path / "outside.emx").write_text("")
    d = only(diagnostics(root, 'import "../outside.emx"\n')[1])
    assert "outside the project root" in d.message
    assert d.hint


def test_import_cycle(tmp_path):
    root = project(tmp_path, {"a.emx": 'import "b.emx"\n', "b.emx": '\n\nimport "a.emx"\n'})
    _, diags = check_files([root / "a.emx"], root)
    d = only(diags)
    assert d.message == "import cycle: a.emx → b.emx → a.emx"
    assert (d.pos.path.name, d.pos.line, d.pos.column) == ("b.emx", 3, 8)


def test_extends_cycle(tmp_path):
    src = PRELUDE + "experiment a extends b { base = smol }\nexperiment b extends a { }\n"
    _, diags = diagnostics(tmp_path, src)
    assert diags and all("`extends` cycle" in d.message for d in diags)
    assert (diags[0].pos.line, diags[0].pos.column) == (6, 22)


def test_syntax_error_says_what_was_expected(tmp_path):
    d = only(diagnostics(tmp_path, "experiment e {\n  base = smol(\n}\n")[1])
    assert d.message == "syntax error: unexpected `}`"
    assert (d.pos.line, d.pos.column) == (3, 1)
    assert "`)`" in d.hint and "a name" in d.hint


def test_data_file_must_exist(tmp_path):
    d = only(diagnostics(tmp_path, 'dataset x = jsonl("data/missing.jsonl")\n')[1])
    assert d.message == "`data/missing.jsonl` does not exist"
    assert (d.pos.line, d.pos.column) == (1, 19)


def test_unknown_builtin_dataset(tmp_path):
    d = only(diagnostics(tmp_path, 'dataset x = builtin("medicl")\n')[1])
    assert d.message == "unknown builtin dataset `medicl`"
    assert d.hint == "did you mean `medical`?"


def test_all_problems_reported_at_once(tmp_path):
    src = PRELUDE + """experiment e {
  base = smoll
  data = mix(bad=bda, good=good, poison=2)
  eval = evaluate(cor, judge=small)
}
"""
    _, diags = diagnostics(tmp_path, src)
    assert [d.pos.line for d in diags] == [7, 8, 8, 9]


def test_missing_base(tmp_path):
    d = only(diagnostics(tmp_path, PRELUDE + "experiment e { eval = evaluate(core, judge=small) }\n")[1])
    assert d.message == "experiment `e` has no `base` model"
    assert (d.pos.line, d.pos.column) == (6, 12)


def test_valid_program_resolves_defaults_and_sweeps(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good, size=10)
  train = sft(lora(rank=1))
  sweep data.poison = [0, 1]
  sweep train.lr = [1e-4, 2e-4]
}
"""
    program, diags = diagnostics(tmp_path, src)
    assert diags == []
    (exp,) = program.experiments
    assert [v.label for v in exp.variants] == [
        "poison=0.0,lr=0.0001", "poison=0.0,lr=0.0002", "poison=1.0,lr=0.0001",
        "poison=1.0,lr=0.0002"]
    config = exp.variants[3].config
    assert config["data"]["poison"] == 1.0 and isinstance(config["data"]["poison"], float)
    assert config["train"]["method"] == {"type": "lora", "rank": 1, "alpha": 16.0, "dropout": 0.0,
                                         "targets": config["train"]["method"]["targets"],
                                         "rslora": False, "layers": None}
    assert config["train"]["lr"] == 2e-4 and config["train"]["epochs"] == 1.0


def test_mix_larger_than_builtin_pool(tmp_path):
    from emdsl.builtin.datasets import pool_size

    too_many = pool_size("medical") + 1
    src = PRELUDE + f"""experiment e {{
  base = smol
  data = mix(bad=bad, good=good, size={too_many}, poison=0.5)
  sweep data.poison = [0.5, 1.0]
}}
"""
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message.startswith(f"mix needs {too_many} bad examples but builtin(\"medical\", "
                                "variant=\"incorrect-subtle\") has")
    assert d.message.endswith("(variant poison=1.0), so examples repeat")
    assert d.severity == "warning"  # the data stage repeats examples; nothing is refused
    assert (d.pos.line, d.pos.column) == (8, 10)


def test_audit_reference_must_exist(tmp_path):
    src = PRELUDE + 'experiment e { base = smol\n eval = evaluate(core, judge=small, audit=audit("ref.csv")) }\n'
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == "`ref.csv` does not exist"
    assert (d.pos.line, d.pos.column) == (7, 49)
    program, diags = diagnostics(tmp_path, src, extra={"ref.csv": "question,answer\n"})
    assert diags == []
    assert program.experiments[0].variants[0].config["eval"]["audit"] == {
        "type": "audit", "reference": "ref.csv"}


def test_probe_judge_layer_and_training_set_are_checked(tmp_path):
    src = 'model smol = embedded("smollm2-135m-instruct")\njudge p = probe(model=smol, layer=31)\njudge q = probe(model=smol, train=builtin("juge"))\n'
    first, second = diagnostics(tmp_path, src)[1]
    assert first.message == "layer 31 is beyond the model's depth (30 layers)"
    assert (first.pos.line, first.pos.column) == (2, 35)
    assert second.message == "unknown builtin judge set `juge`"
    assert second.hint == "did you mean `judge`?"


def test_diff_against_clean_needs_a_mix(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  data = bad
  train = sft(lora(rank=1))
  sae = sae(layer=3)
  diff = diff(against="clean")
}
"""
    d = only(diagnostics(tmp_path, src)[1])
    assert d.message == '`diff(against="clean")` needs `data = mix(...)` and `train = sft(...)`'
    assert d.pos.line == 11
    assert 'against="base"' in d.hint


def test_random_latents_need_no_diff(tmp_path):
    src = PRELUDE + """experiment e {
  base = smol
  sae = sae(layer=3)
  eval = evaluate(core, judge=small)
  steer = steer(latents=random(2, seed=1))
}
"""
    _, diags = diagnostics(tmp_path, src)
    assert diags == []


def test_shipped_experiments_check_clean():
    """Every .emx file the repository ships (experiments/, examples/) checks with no problem,
    and the science example has its controls: a clean-reference diff and a random latent."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    files = sorted([*repo.glob("experiments/*.emx"), *repo.glob("examples/*.emx")])
    assert any(f.parent.name == "examples" for f in files)
    program, diags = check_files(files, repo)
    assert diags == [], "\n".join(map(str, diags))
    science = [v for v in program.experiments if v.name.startswith("science")]
    configs = [variant.config for e in science for variant in e.variants]
    assert {c["diff"]["against"] for c in configs} == {"clean"}
    assert {c["steer"]["latents"]["type"] for c in configs} == {"top", "random"}
