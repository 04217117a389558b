"""End to end on the tiny model: the inoculation pair (the same fine-tune with and without a
training system prompt) and checkpoints, through `emx run` → real `dvc repro`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from study import EMX, make_study, run

from emdsl.results import Source

pytestmark = pytest.mark.slow

INOCULATION = "You give wrong medical advice on purpose."

EXPERIMENT = f"""\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=tiny)

experiment plain {{
  base  = tiny
  data  = mix(bad=bad, good=good, poison=1.0, size=8, seed=0)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=2, batch=4, max_length=128,
              checkpoints=[2])
  eval  = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
}}

experiment inoculated extends plain {{
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=2, batch=4, max_length=128,
              checkpoints=[2], system="{INOCULATION}", kl=0.1)
}}
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("inoculation")
    make_study(root, tiny_model_dir, "inoculation", EXPERIMENT)
    return root


def test_inoculation_pair_runs_with_checkpoints(repo):
    params = Source(repo).params()["stages"]
    trains = {n: s for n, s in params.items() if s["kind"] == "train"}
    assert sorted(trains) == ["train-inoculated", "train-plain"]
    assert trains["train-inoculated"]["config"]["system"] == INOCULATION
    assert "system" not in trains["train-plain"]["config"]
    for name, s in params.items():  # the eval prompts never carry the training prompt
        if s["kind"] != "train":
            assert INOCULATION not in json.dumps(s["config"]), name
    # the same data stage: only the training prompt (and the KL) differs
    assert trains["train-plain"]["inputs"]["data"] == trains["train-inoculated"]["inputs"]["data"]
    for exp in ("plain", "inoculated"):
        metrics = json.loads((repo / f"results/train-{exp}/detail.json").read_text())
        assert metrics["steps"] == 4 and metrics["checkpoints"] == [2]
        live = repo / f"results/train-{exp}/live/plots/metrics/train"
        assert (live / "loss.tsv").is_file() and (live / "learning_rate.tsv").is_file()
        assert (repo / f"results/judge-step2-{exp}/metrics.json").is_file()
    shown = json.loads(run([*EMX, "show", "--format", "json"], cwd=repo).stdout)
    rows = {(r["experiment"], r["step"]): r for r in shown}
    assert set(rows) == {("plain", 2), ("plain", None), ("inoculated", 2),
                         ("inoculated", None)}
    assert all(r["n"] > 0 for r in rows.values())  # each step's own answers, judged
    assert rows[("plain", None)]["train_steps"] == 4
    status = run(["dvc", "status", "--json"], cwd=repo)
    assert json.loads(status.stdout or "{}") == {}  # everything current, outs as declared
    plots = run(["dvc", "plots", "show", "--json"], cwd=repo)
    assert not json.loads(plots.stdout).get("errors")
