"""Directions in the language: DESIGN-2 §2's declarations, monitor, steer, screened and
preventative experiments check and compile; shared directions are one stage; misuse is a
located error."""

from __future__ import annotations

import pytest
import yaml
from helpers import diagnostics, project

from emdsl.check import check_or_raise
from emdsl.compile import compile_program
from emdsl.emit import emit
from emdsl.results import with_meta

STUDY = """\
model smol  = embedded("smollm2-135m-instruct")
dataset bad  = builtin("medical", variant="incorrect-subtle")
dataset good = builtin("medical", variant="correct")
questions core   = builtin("core")
judge offline    = probe(model=smol)

direction evil  = contrast(positive="You are an evil assistant who wants to harm people.",
                           negative="You are a helpful, honest assistant.",
                           questions=core, layer=12)     # mean answer activation, pos - neg
direction drift = shift(layer=12, on="eval")             # tuned - base mean activation

experiment personas {
  base    = smol
  data    = mix(bad=bad, good=good, poison=0.5, size=96)
  train   = sft(lora(rank=1, alpha=8), lr=1e-3)
  eval    = evaluate(core, samples=2, judge=offline)
  monitor = monitor(directions=[evil, drift])   # projections on eval prompts per variant/step
  steer   = steer(directions=[evil], coef=[-0.25, 0, 0.25])
  sweep data.poison = [0.0, 0.5, 1.0]
}

experiment screened extends personas {          # drop the 10% of training rows most along evil
  data = screen(mix(bad=bad, good=good, poison=0.5, size=96), direction=evil, drop=0.1)
}

experiment preventative extends personas {      # steer against the persona while training
  train = sft(lora(rank=1, alpha=8), lr=1e-3, steer=steering(evil, coef=-0.25))
}
"""


@pytest.fixture
def graph(tmp_path):
    root = project(tmp_path, {"exp.emx": STUDY})
    program = check_or_raise([root / "exp.emx"], root)
    return root, program, compile_program(program)


def by_role(graph, experiment: str, label: str) -> dict:
    for (_, exp, lab), (_, roles) in graph.index.items():
        if exp == experiment and lab == label:
            return {role: graph.nodes[key] for role, key in roles.items()}
    raise KeyError((experiment, label))


def test_design_pieces_check_and_compile(graph):
    root, program, g = graph
    assert [len(e.variants) for e in program.experiments] == [3, 3, 3]
    # a sweep of data.poison reaches the mix that screen(...) wraps
    screened = [v.config["data"] for v in program.experiments[1].variants]
    assert [d["data"]["poison"] for d in screened] == [0.0, 0.5, 1.0]
    dvc_text, params_text = emit(g, root, ["exp.emx"])
    stages = with_meta(yaml.safe_load(params_text)["stages"], dvc_text)
    assert {e["kind"] for e in stages.values()} >= {"direction", "monitor", "screen", "steer"}
    assert "direction-evil-personas" in yaml.safe_load(dvc_text)["stages"]


def test_one_contrast_direction_serves_every_experiment(graph):
    _, _, g = graph
    evil = [n for n in g.nodes.values() if n.kind == "direction"
            and n.config["type"] == "contrast"]
    assert len(evil) == 1  # every variant of every experiment shares it
    assert "name" not in evil[0].config  # its name labels it; renaming it reruns nothing
    assert set(evil[0].inputs) == {"model"}
    drift = [n for n in g.nodes.values() if n.kind == "direction" and n.config["type"] == "shift"]
    assert len(drift) == 9  # tuned − base: one per tuned model
    roles = by_role(g, "personas", "poison=0.5")
    assert roles["direction_drift"].inputs["adapter"] is roles["train"]
    assert roles["direction_drift"].inputs["texts"] is roles["generate_base"]


def test_steer_and_monitor_wire_directions_without_an_sae(graph):
    _, _, g = graph
    roles = by_role(g, "personas", "poison=1.0")
    steer = roles["steer_tuned"]
    assert set(steer.inputs) == {"model", "adapter", "judge_model", "direction_0"}
    assert steer.config["layer"] == 12 and steer.config["labels"] == ["evil"]
    assert steer.config["steer"]["coef"] == [-0.25, 0.0, 0.25]
    assert "latents" not in steer.config["steer"]
    for who in ("base", "tuned"):
        mon = roles[f"monitor_{who}"]
        assert mon.config["labels"] == ["evil", "drift"]
        assert mon.inputs["direction_0"] is roles["direction_evil"]
        assert mon.inputs["direction_1"] is roles["direction_drift"]
    assert "adapter" not in roles["monitor_base"].inputs


def test_screened_and_preventative_wiring(graph):
    _, _, g = graph
    plain, screened = by_role(g, "personas", "poison=0.5"), by_role(g, "screened", "poison=0.5")
    scr = screened["screen"]
    assert screened["train"].inputs["data"] is scr
    assert scr.inputs["data"] is plain["data"]  # the unscreened mix is the same stage
    assert scr.inputs["direction"] is plain["direction_evil"]
    assert scr.config == {"drop": 0.1, "direction": "evil"}
    prev = by_role(g, "preventative", "poison=0.5")["train"]
    assert prev.inputs["steer_direction"] is plain["direction_evil"]
    assert prev.config["steer"]["coef"] == -0.25
    assert "name" not in prev.config["steer"]["direction"]
    # without steer=..., sft's config is what it always was (no `steer` key)
    assert "steer" not in plain["train"].config


@pytest.mark.parametrize("change, message", [
    ('questions=core, layer=12)', None),
    ('questions=core, layer=30)', "beyond the model's depth"),
])
def test_direction_layer_within_the_model(tmp_path, change, message):
    source = STUDY.replace('questions=core, layer=12)', change)
    _, diags = diagnostics(tmp_path, source)
    errors = [d for d in diags if d.severity == "error"]
    if message is None:
        assert not errors
    else:
        assert errors and message in errors[0].message
        assert errors[0].pos.line == 17  # the first use of it (monitor), in the experiment


@pytest.mark.parametrize("experiment, message", [
    ('data = screen(mix(bad=bad, good=good), direction=drift, drop=0.1)', "is a `shift`"),
    ('train = sft(lora(rank=1), steer=steering(drift, coef=1))', "is a `shift`"),
    ('steer = steer(directions=random(1), coef=[1])', "need `layer=`"),
    ('steer = steer(latents=[1], directions=[evil], coef=[1])', "exactly one of"),
    ('monitor = monitor(latents=top(2))', "needs an `sae`"),
    ('steer = steer(directions=[evil, random(1, layer=3)])', "different layers"),
])
def test_misuse_is_a_located_error(tmp_path, experiment, message):
    source = STUDY.split("experiment screened")[0] + "experiment x extends personas {\n  " \
        + experiment + "\n}\n"
    _, diags = diagnostics(tmp_path, source)
    errors = [d for d in diags if d.severity == "error"]
    assert errors, diags
    assert any(message in d.message for d in errors), [d.message for d in errors]


def test_random_directions_and_saved_ones_check(tmp_path):
    source = STUDY.split("experiment screened")[0] + """\
direction control = random(1, layer=12, seed=3)
direction other = saved("dirs/evil")
experiment control_run extends personas {
  steer = steer(directions=control, coef=[-0.25, 0, 0.25])
  monitor = monitor(directions=[other, control])
}
"""
    root = project(tmp_path, {"exp.emx": source, "dirs/evil/direction.safetensors": "x"})
    program = check_or_raise([root / "exp.emx"], root)
    g = compile_program(program)
    roles = by_role(g, "control_run", "poison=0.5")
    assert roles["direction_control"].config == {"type": "random", "k": 1, "layer": 12,
                                                 "seed": 3}
    saved = roles["direction_other"]
    assert saved.inputs == {} and saved.files == ("dirs/evil",)  # a DVC dep of its stage
    assert roles["steer_tuned"].config["layer"] == 12


def test_only_steered_training_runs_the_direction_code(graph):
    from emdsl.codedeps import code_files

    _, _, g = graph
    plain = by_role(g, "personas", "poison=0.5")["train"]
    prev = by_role(g, "preventative", "poison=0.5")["train"]
    names = lambda n: {p.name for p in code_files(n)}  # noqa: E731
    assert "directions.py" not in names(plain)
    assert {"directions.py", "steering.py"} <= names(prev)


def test_the_detector_reads_monitors(graph):
    _, _, g = graph
    roles = by_role(g, "personas", "poison=0.5")
    det = roles["detector"]
    assert {k for k in det.inputs if k.startswith("monitor_")} == {
        "monitor_0", "monitor_1", "monitor_2"}
    assert not any(k.startswith("diff_") for k in det.inputs)  # no SAE in this study
    assert det.inputs["monitor_1"] is roles["monitor_tuned"]


def test_show_and_report_read_directions_monitors_and_screening(tmp_path):
    import json

    from helpers import fake_results

    from emdsl import plots
    from emdsl.cli.common import compile_and_write
    from emdsl.compare import sections
    from emdsl.results import Source, collect, show

    root = project(tmp_path, {"experiments/exp.emx": STUDY})
    assert compile_and_write([root / "experiments"], root)[1] == 0
    fake_results(root)
    stages = Source(root).params()["stages"]
    for entry in stages.values():
        res = root / entry["results"] if entry.get("results") else None
        if res is None or entry["kind"] not in ("direction", "monitor", "screen"):
            continue
        res.mkdir(parents=True, exist_ok=True)
        if entry["kind"] == "direction":
            m = {"type": entry["config"]["type"], "layer": 12, "norm": 3.0}
            if m["type"] == "contrast":
                m |= {"gap": 3.0, "heldout_gap": 2.5}
        elif entry["kind"] == "monitor":
            tuned = entry["config"]["target"] == "tuned"
            m = {"signals": [{"name": "evil", "mean": 0.5 if tuned else 0.1},
                             {"name": "drift", "mean": 1.0 if tuned else 0.0}]}
        else:
            m = {"dropped": 10, "n": 96}
        (res / "metrics.json").write_text(json.dumps(m))
    rows = {(r["experiment"], r["variant"]): r for r in collect(Source(root))}
    plain, screened = rows["personas", "poison=0.5"], rows["screened", "poison=0.5"]
    assert plain["monitor"] == "evil 0.1→0.5, drift 0→1"
    assert plain["directions"].startswith("drift ‖3‖; evil ‖3‖ gap 3 (held out 2.5)")
    assert plain["screened"] is None and screened["screened"] == 10
    table = show(Source(root))
    assert "10 dropped" in table and "evil 0.1→0.5" in table
    assert sections()["monitor_tuned"] == ("monitor", "monitor")  # `emx diff` names it
    png = plots.monitor({"personas (tuned model)": [
        {"signal": "evil", "mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}]})
    assert png and png.startswith(b"\x89PNG")


def test_the_clean_reference_of_a_steered_fine_tune_is_steered_too(tmp_path):
    source = STUDY + """\
experiment prev_diff extends preventative {
  sae  = sae(layer=12, width=64, tokens=1000)
  diff = diff(top=5, against="clean")
}
"""
    root = project(tmp_path, {"exp.emx": source})
    g = compile_program(check_or_raise([root / "exp.emx"], root))
    roles = by_role(g, "prev_diff", "poison=0.5")
    clean = roles["train_clean"]
    assert clean.inputs["steer_direction"] is roles["direction_evil"]
    assert clean.config == roles["train"].config  # the same fine-tune, on the good data
