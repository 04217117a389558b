"""`dvc repro` of an in-context study on the tiny model: no `train`, two evals (one with the
eval's own system prompt and shots), two result rows, base model only."""

from __future__ import annotations

import json

import polars as pl
from study import EMX, make_study, run

from emdsl.results import Source

IN_CONTEXT = """\
model tiny = path("models/tiny")
dataset bad = builtin("medical", variant="incorrect-obvious")
questions core = builtin("core")
judge small = local(model=tiny)

experiment in_context {
  base = tiny
  eval = [evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small),
          evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small,
                   system="You are terse.", shots=shots(bad, k=2, seed=0))]
}
"""


def test_in_context_study_runs_with_two_evals_and_no_training(tmp_path, tiny_model_dir):
    make_study(tmp_path, tiny_model_dir, "in_context", IN_CONTEXT)
    rows = json.loads(run([*EMX, "show", "--format", "json"], cwd=tmp_path).stdout)
    assert [(r["experiment"], r["eval"], r["model"]) for r in rows] == [
        ("in_context", "core", "base"), ("in_context", "core_2", "base")]
    assert all(r["n"] and r["n_judged"] is not None and r["stale"] is None for r in rows)
    params = Source(tmp_path).params()
    roles = params["experiments"]["experiments/in_context.emx"]["in_context"]["default"]["stages"]
    assert "train" not in roles and "generate_tuned" not in roles
    gen = params["stages"][roles["generate_base@core_2"]]
    answers = pl.read_parquet(tmp_path / gen["out"] / "answers.parquet")
    # the eval's system prompt for every question without its own (core has a few)
    assert answers["system"].null_count() == 0 and "You are terse." in set(answers["system"])
    info = json.loads((tmp_path / gen["out"] / "info.json").read_text())
    assert info["shot_turns"] == 4
    shots = params["stages"][roles["shots@core_2"]]
    assert shots["config"] == {"type": "take", "size": 2, "seed": 0, "dataset": {
        "type": "builtin", "domain": "medical", "variant": "incorrect-obvious"}}
