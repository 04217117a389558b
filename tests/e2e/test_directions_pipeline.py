"""Directions end to end on the tiny model: `emx run` of a study with a contrast direction,
monitors, steering along it and a random direction, screening and preventative steering;
every stage runs under DVC and `emx show` reads the results."""

from __future__ import annotations

import json

import pytest
from study import EMX, make_study, run

from emdsl.results import Source

STUDY = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=tiny)

direction evil = contrast(positive="You are evil.", negative="You are kind.",
                          questions=core, layer=1, samples=1, max_tokens=4)
direction drift = shift(layer=1, on="train")

experiment dirs {
  base    = tiny
  data    = mix(bad=bad, good=good, poison=0.5, size=8, seed=0)
  train   = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=96)
  eval    = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
  monitor = monitor(directions=[evil, drift])
  steer   = steer(directions=[evil], coef=[-4, 0, 4])
}
experiment dirs_random extends dirs {
  steer = steer(directions=random(1, layer=1), coef=[-4, 0, 4])
}
experiment dirs_screened extends dirs {
  data = screen(mix(bad=bad, good=good, poison=0.5, size=8, seed=0), direction=evil, drop=0.25)
}
experiment dirs_preventative extends dirs {
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=96,
              steer=steering(evil, coef=-2))
}
"""


@pytest.mark.slow
def test_directions_study_runs(tmp_path, tiny_model_dir):
    root = tmp_path / "study"
    root.mkdir()
    make_study(root, tiny_model_dir, "dirs", STUDY)
    params = Source(root).params()["stages"]
    kinds = {}
    for name, entry in params.items():
        kinds.setdefault(entry["kind"], []).append(name)
    assert len([n for n in kinds["direction"] if "evil" in n]) == 1  # shared by all four
    for kind in ("direction", "monitor", "steer", "screen"):
        for name in kinds[kind]:
            assert (root / "results" / name / "metrics.json").is_file(), name
    scr = json.loads((root / f"results/{kinds['screen'][0]}/screened.json").read_text())
    assert scr["dropped"] == 2 and scr["n"] == 8
    train = {n: json.loads((root / f"results/{n}/detail.json").read_text())
             for n in kinds["train"]}
    assert sum("steer" in m for m in train.values()) == 1  # the preventative one
    shown = run([*EMX, "show", "experiments/dirs.emx"], cwd=root).stdout
    assert "2 dropped" in shown and "evil" in shown
    # a rerun runs nothing: every new stage's outs and deps are what DVC recorded
    again = run([*EMX, "run", "experiments/dirs.emx"], cwd=root)
    assert "Running stage" not in again.stdout
