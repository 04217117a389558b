"""Stage names and variant labels (issue 13): a name depends only on the node and its owner,
never on which other files exist; labels say what differs, and never merge two variants."""

from __future__ import annotations

import yaml
from helpers import PRELUDE, project

from emdsl.check import check_or_raise
from emdsl.compile import compile_program
from emdsl.emit import emit

QUICK = PRELUDE + """
experiment quickstart {
  base  = smol
  data  = mix(bad=bad, good=good, poison=0.5, size=24)
  train = sft(lora(rank=1))
  eval  = evaluate(core, samples=1, judge=small)
  sweep data.poison = [0.0, 1.0]
}
"""


def _stages(root, files):
    graph = compile_program(check_or_raise([root / f for f in files], root))
    dvc_text, params_text = emit(graph, root, files)
    return yaml.safe_load(dvc_text)["stages"], yaml.safe_load(params_text), graph


def test_adding_a_file_that_extends_the_first_renames_and_changes_nothing(tmp_path):
    root = project(tmp_path, {"experiments/quickstart.emx": QUICK})
    before, params_before, _ = _stages(root, ["experiments/quickstart.emx"])
    # `interp` sorts before `quickstart`; it used to take over the shared stages' names.
    (root / "experiments" / "interp.emx").write_text(
        'import "quickstart.emx"\n'
        "experiment interp extends quickstart {\n  sae = sae(layer=3, width=64)\n}\n")
    after, params_after, _ = _stages(root, ["experiments/interp.emx",
                                            "experiments/quickstart.emx"])
    assert set(before) <= set(after)
    for name, stage in before.items():  # same command, deps, outs and params: nothing reruns
        assert after[name] == stage, name
        assert params_after["stages"][name] == params_before["stages"][name], name
    assert any(n.startswith("train-quickstart-") for n in after)
    assert not any(n.startswith("train-interp") for n in after)


def test_dataset_sweeps_are_labelled_by_their_declared_names(tmp_path):
    src = PRELUDE + """
dataset obvious = builtin("medical", variant="incorrect-obvious")
experiment e {
  base  = smol
  data  = mix(bad=bad, good=good, poison=0.5, size=24)
  train = sft(lora(rank=1))
  eval  = evaluate(core, samples=1, judge=small)
  sweep data.bad = [bad, obvious]
  sweep data.poison = [0.0, 1.0]
}
"""
    root = project(tmp_path, {"experiments/e.emx": src})
    stages, params, graph = _stages(root, ["experiments/e.emx"])
    labels = list(params["experiments"]["experiments/e.emx"]["e"])
    assert labels == ["bad=bad,poison=0.0", "bad=bad,poison=1.0", "bad=obvious,poison=0.0",
                      "bad=obvious,poison=1.0"]
    assert sum(n.startswith("train-e-") for n in stages) == 4
    assert len(stages) == len(graph.nodes)  # every node is emitted, none merged by name


def test_whole_field_sweeps_read_by_position(tmp_path):
    src = PRELUDE + """
experiment e {
  base  = smol
  train = sft(lora(rank=1))
  eval  = evaluate(core, samples=1, judge=small)
  data  = mix(bad=bad, good=good, size=24)
  sweep data = [mix(bad=bad, good=good, size=24), mix(bad=bad, good=good, size=32)]
}
"""
    root = project(tmp_path, {"experiments/e.emx": src})
    _, params, _ = _stages(root, ["experiments/e.emx"])
    assert list(params["experiments"]["experiments/e.emx"]["e"]) == ["data=mix1", "data=mix2"]


def test_values_whose_names_slug_alike_keep_their_stages_apart(tmp_path):
    """Labels keep the values as written; stage names slug them (``gpt a`` and ``gpt_a`` both
    read ``gpt_a``), and names that would collide carry a short key: nothing is merged."""
    src = PRELUDE + """
judge api = openai(model="gpt a")
experiment e {
  base  = smol
  eval  = evaluate(core, samples=1, judge=api)
  sweep eval.judge.model = ["gpt a", "gpt_a"]
}
"""
    root = project(tmp_path, {"experiments/e.emx": src})
    stages, params, graph = _stages(root, ["experiments/e.emx"])
    assert list(params["experiments"]["experiments/e.emx"]["e"]) == ["model=gpt a",
                                                                      "model=gpt_a"]
    judges = [n for n in stages if n.startswith("judge-base-e-model_gpt_a")]
    assert len(judges) == 2 and len(set(judges)) == 2
    assert len(stages) == len(graph.nodes)


def test_models_whose_names_slug_alike_get_distinct_names(tmp_path):
    for d in ("m/a.b", "m/a_b"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "config.json").write_text("{}")
    root = project(tmp_path, {"experiments/e.emx": """
model x = path("m/a.b")
model y = path("m/a_b")
experiment one { base = x }
experiment two { base = y }
"""})
    stages, _, graph = _stages(root, ["experiments/e.emx"])
    names = sorted(stages)
    assert len(names) == len(graph.nodes) == 2
    assert all(n.startswith("model-m_a_b-") for n in names)
    assert stages[names[0]]["deps"] != stages[names[1]]["deps"]  # each its own folder


def test_an_unpinned_hub_model_is_a_warning_that_does_not_stop(tmp_path):
    from helpers import diagnostics

    program, diags = diagnostics(tmp_path, """
model q = hf("Qwen/Qwen2.5-0.5B-Instruct")
model p = hf("Qwen/Qwen2.5-0.5B-Instruct", revision="7ae557604adf67be50417f59c2c2f167def9a775")
experiment a { base = q }
experiment b { base = p }
""")
    assert [(d.severity, d.pos.line) for d in diags] == [("warning", 4)]
    assert "no `revision`" in diags[0].message and "revision=" in diags[0].hint
    assert program is not None and len(program.experiments) == 2


def test_names_the_last_compile_gave_are_kept_whatever_is_added(tmp_path):
    """An unrelated file sorting first, sharing the base answers, or a second file with an
    experiment of the same name: the stages already there keep their names (from
    params.yaml), so nothing reruns; only the newcomers' names are new."""
    from emdsl.graph import previous_names

    root = project(tmp_path, {"experiments/quickstart.emx": QUICK})
    before, params_before, _ = _stages(root, ["experiments/quickstart.emx"])
    from emdsl.emit import dump

    (root / "params.yaml").write_text(dump(params_before))  # as `emx compile` writes them
    (root / "dvc.yaml").write_text(dump({"stages": before}))
    names = previous_names((root / "dvc.yaml").read_text())  # the keys are in its `meta`
    assert set(names.values()) == set(before)
    assert previous_names((root / "params.yaml").read_text()) == {}
    (root / "experiments" / "aaa.emx").write_text(PRELUDE + """
experiment aaa {
  base = smol
  eval = evaluate(core, samples=1, judge=small)
}
""")
    (root / "other").mkdir()
    (root / "other" / "quickstart.emx").write_text(QUICK)
    files = ["experiments/aaa.emx", "experiments/quickstart.emx", "other/quickstart.emx"]
    program = check_or_raise([root / f for f in files], root)
    graph = compile_program(program, names)
    dvc_text, _ = emit(graph, root, files)
    after = yaml.safe_load(dvc_text)["stages"]
    for name, stage in before.items():
        assert after[name] == stage, name  # same name, command, deps and outs
    assert len(after) == len(graph.nodes)
