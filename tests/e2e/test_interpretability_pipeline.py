"""End to end through the interpretability stages: acts → sae → diff → steer → realign →
detector, judged by a probe judge (judge_train), as one real `dvc repro` on the tiny Llama."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from study import EMX, make_study, ran_stages, run

from emdsl.results import Source

pytestmark = pytest.mark.slow

EXPERIMENT = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = probe(model=tiny, layer=1)

experiment interp {
  base    = tiny
  data    = mix(bad=bad, good=good, poison=0.5, size=16, seed=0)
  train   = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=96)
  eval    = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
  sae     = sae(layer=1, width=64, k=4, tokens=4000)
  diff    = diff(top=5, on=["eval", "train"])
  steer   = steer(latents=top(1), coef=[0, 0.5])
  realign = sft(data=good, size=8, batch=4, checkpoints=[0, 2])
  sweep data.poison = [0.0, 1.0]
}
"""


def test_interpretability_stages_run_under_dvc(tmp_path, tiny_model_dir):
    result = make_study(tmp_path, tiny_model_dir, "interp", EXPERIMENT)
    stages = yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]
    assert ran_stages(result.stdout) == set(stages)
    kinds = {name.split("-")[0] for name in stages}
    assert {"acts", "sae", "diff", "steer", "realign", "detector", "judge_train"} <= kinds

    from sae_lens import SAE

    params = Source(tmp_path).params()["stages"]
    (sae_stage,) = [e for e in params.values() if e["kind"] == "sae"]
    sae = SAE.load_from_disk(str(tmp_path / sae_stage["out"]))
    assert sae.cfg.d_sae == 64
    sae_metrics = json.loads((tmp_path / "results" / "sae-interp" / "metrics.json").read_text())
    assert {"fvu", "l0", "dead_fraction"} <= set(sae_metrics)

    steer = json.loads((tmp_path / "results" / "steer-tuned-interp-poison_1p0" / "detail.json")
                       .read_text())
    assert [p["coef"] for p in steer["coefficients"]] == [0.0, 0.5]
    curve = (tmp_path / "results" / "realign-interp-poison_1p0" / "curve.csv").read_text()
    assert curve.splitlines()[0].startswith("x,") and len(curve.splitlines()) == 3
    detector = json.loads((tmp_path / "results" / "detector-interp" / "detail.json").read_text())
    assert [p["poison"] for p in detector["per_poison"]] == [0.0, 1.0]

    plots = json.loads(run([sys.executable, "-m", "dvc", "plots", "show", "--json"],
                           cwd=tmp_path).stdout)
    overlays = {f"interp/{name}" for name in ("misaligned-vs-poison", "loss", "learning_rate",
                                              "steering", "realignment", "detector")}
    stage_plots = {p for st in yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]
                   .values() for x in st.get("plots", []) for p in x}
    assert not plots.get("errors") and set(plots["data"]) == overlays | stage_plots
    shown = run([*EMX, "show"], cwd=tmp_path).stdout
    assert "| interp | poison=1.0 |" in shown and "tuned 0→" in shown
