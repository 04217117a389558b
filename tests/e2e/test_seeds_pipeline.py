"""`seeds = 2` over two poisons, run by `emx run` on the tiny model: four trainings, the base
model's answers once per sampling seed, and `emx show` pooling the seeds into two rows."""

from __future__ import annotations

import json

import pytest
from study import EMX, make_study, ran_stages, run

pytestmark = pytest.mark.slow

EXPERIMENT = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = probe(model=tiny, layer=1)

experiment seeded {
  base  = tiny
  data  = mix(bad=bad, good=good, size=8)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=96)
  eval  = evaluate(core, samples=2, paraphrases=1, max_tokens=8, judge=small)
  seeds = 2
  sweep data.poison = [0.0, 1.0]
}
"""


def test_two_seeds_two_poisons(tmp_path, tiny_model_dir):
    result = make_study(tmp_path, tiny_model_dir, "seeded", EXPERIMENT)
    stages = ran_stages(result.stdout)
    assert len({s for s in stages if s.startswith("train-")}) == 4, stages
    assert {s for s in stages if s.startswith("generate-base-")} == {
        "generate-base-seeded-seed_0", "generate-base-seeded-seed_1"}
    records = json.loads(run([*EMX, "show", "--format", "json"], cwd=tmp_path).stdout)
    assert [r["variant"] for r in records] == ["poison=0.0", "poison=1.0"]
    for r in records:
        per = r["per_seed"]
        assert [s["seed"] for s in per] == [0, 1] and r["seeds"] == 2
        assert r["n_judged"] == sum(s["n_judged"] for s in per) > 0
        k = sum(round(s["misaligned"] * s["n_judged"]) for s in per)
        assert r["misaligned"] == pytest.approx(k / r["n_judged"])
        assert r["seed_sd"] is not None and r["seed_spread"] is not None
        assert r["ci_low"] <= r["naive_ci_low"] <= r["naive_ci_high"] <= r["ci_high"]
    # the two seeds trained on different data orders and sampled differently
    answers = [s["n_judged"] for r in records for s in r["per_seed"]]
    assert len(answers) == 4
