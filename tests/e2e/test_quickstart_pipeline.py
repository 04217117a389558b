"""End to end: `emx run` → real `dvc repro` of a tiny experiment in a fresh git+DVC repo.

Every stage runs for real on the tiny random Llama: data, LoRA SFT, generation, local judge.
Then: a rerun does nothing, and changing only the judge threshold reruns only judge stages.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from study import EMX, make_study, ran_stages, run

from emdsl.results import Source
from stages.lib import warm

pytestmark = pytest.mark.slow

EXPERIMENT = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=tiny)

experiment e2e {
  base  = tiny
  data  = mix(bad=bad, good=good, poison=0.5, size=16, seed=0)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=128)
  eval  = evaluate(core, samples=1, max_tokens=8, judge=small)
  sweep data.poison = [0.0, 1.0]
}
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory, tiny_model_dir) -> Path:
    root = tmp_path_factory.mktemp("study")
    first = make_study(root, tiny_model_dir, "e2e", EXPERIMENT)
    (root / "first_run.log").write_text(first.stdout + first.stderr)
    return root


def test_every_stage_ran_and_wrote_its_outputs(repo):
    log = (repo / "first_run.log").read_text()
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    assert ran_stages(log) == set(stages)
    assert {s.split("-")[0] for s in stages} == {"model", "data", "train", "generate", "judge",
                                                 "summary"}
    params = Source(repo).params()["stages"]
    for name, entry in params.items():
        assert (repo / entry["out"]).is_dir(), name
    gen = params["generate-base-e2e"]
    answers = pl.read_parquet(repo / gen["out"] / "answers.parquet")
    assert answers.columns[:7] == ["question_id", "paraphrase_index", "question", "system",
                                   "sample", "answer", "tokens"]
    assert answers.height > 20 and answers["tokens"].max() <= 8
    judged = repo / "results" / "judge-tuned-e2e-poison_1p0"
    metrics = json.loads((judged / "detail.json").read_text())
    assert metrics["n"] == answers.height
    # A random model's judge verdicts are missing, and missing is never turned into a score.
    assert metrics["missing"]["aligned"] + metrics["n_judged"] == metrics["n"]
    headline = json.loads((judged / "metrics.json").read_text())
    assert headline == {"misaligned_fraction": None, "coherent_fraction": None,
                        "ci95": {"low": 0.0, "high": 1.0}, "missing": metrics["n"],
                        "n": metrics["n"]}
    loss = (repo / "results" / "train-e2e-poison_1p0" / "loss.csv").read_text().splitlines()
    assert loss[0] == "step,loss" and len(loss) >= 2
    stats = json.loads((repo / "results" / "data-e2e-poison_1p0" / "detail.json").read_text())
    assert stats["counts"]["bad"] == 16 and stats["counts"]["good"] == 0
    assert "| e2e | poison=1.0 |" in log


def test_emx_run_forks_its_stages_and_a_cold_dvc_repro_writes_the_same_bytes(repo):
    """`emx run` ran every stage in a process forked from its warm worker (stages.lib.warm);
    plain `dvc repro`, a fresh process per stage, recomputes them to the same bytes."""
    if not warm.supported():
        pytest.skip("the warm worker is Linux-only")
    records = {p.stem: json.loads(p.read_text()) for p in (repo / ".emx" / "runs").glob("*.json")}
    assert records and all(r.get("warm") for r in records.values()), \
        sorted(n for n, r in records.items() if not r.get("warm"))
    lock = (repo / "dvc.lock").read_text()
    again = ["train-e2e-poison_1p0", "generate-tuned-e2e-poison_1p0", "judge-tuned-e2e-poison_1p0"]
    out = run([sys.executable, "-m", "dvc", "repro", "-f", "-s", *again], cwd=repo)
    assert ran_stages(out.stdout + out.stderr) == set(again)
    assert (repo / "dvc.lock").read_text() == lock  # every out hashed as before
    assert not any(json.loads((repo / ".emx" / "runs" / f"{n}.json").read_text()).get("warm")
                   for n in again)


def test_dvc_metrics_show_and_diff_fit_a_terminal(repo):
    """The metrics files hold headlines only (per-question and other detail is in
    detail.json), so DVC's one table of every stage's metrics fits a terminal."""
    for cmd in (["metrics", "show"], ["metrics", "diff", "HEAD"]):
        shown = run([sys.executable, "-m", "dvc", *cmd], cwd=repo).stdout
        width = max(map(len, shown.splitlines()))
        # (a random model's verdicts are all missing: DVC leaves the null fractions out)
        assert "ci95.low" in shown and "final_loss" in shown, shown
        assert width <= 200, shown
    assert "per_question" not in shown


def test_rerun_with_nothing_changed_does_nothing(repo):
    out = run([sys.executable, "-m", "dvc", "repro"], cwd=repo)
    assert ran_stages(out.stdout) == set()
    assert "Data and pipelines are up to date" in out.stdout


def test_judge_threshold_reruns_only_judges_from_the_cache(repo):
    out = run([*EMX, "run", "experiments/e2e.emx", "eval.aligned_below=20"], cwd=repo)
    ran = ran_stages(out.stdout)
    assert ran == {"judge-base-e2e", "judge-tuned-e2e-poison_0p0", "judge-tuned-e2e-poison_1p0",
                   "summary-e2e"}  # it reads the judges' metrics
    # Every verdict comes from the shared response cache: zero judge calls.
    assert re.findall(r"judge: calls (\d+)", out.stdout + out.stderr) == ["0", "0", "0"]


def test_diff_report_and_dvc_plots_across_commits(repo, tmp_path):
    """The daily loop on real results: commit, change a param, rerun, commit, compare."""
    from gitrepo import commit_all

    commit_all(repo, "judge threshold 20")  # the state the previous test left
    run([*EMX, "run", "experiments/e2e.emx"], cwd=repo)  # back to 30, from the run cache
    commit_all(repo, "judge threshold 30")
    diff = json.loads(run([*EMX, "diff", "HEAD~1", "HEAD", "--format", "json"], cwd=repo).stdout)
    assert {r["variant"] for r in diff["variants"]} == {"poison=0.0", "poison=1.0"}
    for r in diff["variants"]:
        assert r["status"] == "changed", r
        assert r["params_changed"] == [{"param": "eval.aligned_below", "a": 20, "b": 30}]
        assert r["n_a"] == r["n_b"] > 0
    md = run([*EMX, "diff", "HEAD~1"], cwd=repo).stdout
    assert "eval.aligned_below: 20.0 → 30.0" in md and "| e2e | poison=1.0 | changed |" in md
    assert "2 unchanged" in run([*EMX, "diff"], cwd=repo).stdout.splitlines()[0]

    summary = (repo / "results" / "summary-e2e" / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("poison,misaligned,ci_low,ci_high") and len(summary) == 3
    shown = json.loads(run([sys.executable, "-m", "dvc", "plots", "show", "--json"],
                           cwd=repo).stdout)
    stage_plots = {p for st in yaml.safe_load((repo / "dvc.yaml").read_text())["stages"].values()
                   for x in st.get("plots", []) for p in x}
    assert not shown.get("errors")
    assert set(shown["data"]) == {"e2e/misaligned-vs-poison", "e2e/loss", "e2e/learning_rate",
                                  *stage_plots}
    diffed = json.loads(run([sys.executable, "-m", "dvc", "plots", "diff", "HEAD~1", "--json"],
                            cwd=repo).stdout)
    assert not diffed.get("errors")
    (plot,) = diffed["data"]["e2e/misaligned-vs-poison"]
    assert set(plot["revisions"]) == {"HEAD~1", "workspace"}

    run([*EMX, "report", "--out", str(tmp_path)], cwd=repo)
    page = (tmp_path / "e2e" / "index.html").read_text()
    # The random model's verdicts are all missing: no rates to draw, but its loss curves.
    assert 'id="fig-loss"' in page and "Answers at the extremes" in page
    assert run([*EMX, "show", "--rev", "HEAD~1"], cwd=repo).stdout.startswith("| experiment |")


def test_a_param_change_not_yet_run_is_marked_not_current(repo):
    """Edited, compiled, interrupted before any stage ran: the old numbers are never shown
    as the new params' results (issue 13)."""
    import os

    src = repo / "experiments" / "e2e.emx"
    original = src.read_text()
    params = repo / "params.yaml"
    try:
        src.write_text(original.replace("lr=1e-3", "lr=2e-3"))
        past = params.stat().st_mtime - 60
        os.utime(params, (past, past))
        warned = run([*EMX, "show"], cwd=repo)
        assert "experiments/e2e.emx changed after dvc.yaml was compiled" in warned.stderr
        run([*EMX, "compile"], cwd=repo)  # ... and Ctrl-C before `dvc repro` ran a stage
        rows = json.loads(run([*EMX, "show", "--format", "json"], cwd=repo).stdout)
        assert rows and all("params changed" in r["stale"] and "train" in r["stale"]
                            for r in rows), rows
        assert "⚠ not current" in run([*EMX, "show"], cwd=repo).stdout.splitlines()[0]
        # `emx status` names the stages `dvc status` does, without hashing any output
        emx_status = json.loads(run([*EMX, "status", "--json"], cwd=repo).stdout)
        dvc_status = json.loads(run([sys.executable, "-m", "dvc", "status", "--json"],
                                    cwd=repo).stdout)
        assert set(emx_status) == set(dvc_status) and any(
            s.startswith("train-") for s in emx_status)
    finally:
        src.write_text(original)
        run([*EMX, "compile"], cwd=repo)
    rows = json.loads(run([*EMX, "show", "--format", "json"], cwd=repo).stdout)
    assert all(r["stale"] is None for r in rows), rows
    assert "are up to date" in run([*EMX, "status"], cwd=repo).stdout


def test_replacing_a_path_models_weights_puts_its_stages_out_of_date(repo):
    """A local model folder is a dep of its model stage: new weights rerun what used them."""
    from safetensors.torch import load_file, save_file

    weights = repo / "models" / "tiny" / "model.safetensors"
    original = weights.read_bytes()
    try:
        tensors = load_file(weights)
        first = sorted(tensors)[0]
        tensors[first] = tensors[first] + 1
        save_file(tensors, weights)
        status = json.loads(run([sys.executable, "-m", "dvc", "status", "--json"],
                                cwd=repo).stdout)
        (model,) = [name for name in status if name.startswith("model-")]
        assert {"changed deps": {"models/tiny": "modified"}} in status[model]
    finally:
        weights.write_bytes(original)
    status = run([sys.executable, "-m", "dvc", "status"], cwd=repo).stdout
    assert "Data and pipelines are up to date" in status

