"""`emx export --format inspect`: one Inspect AI eval log per judge stage, read back with
inspect-ai's own reader: one sample per judged answer, with its question, answer and scores."""

from __future__ import annotations

import math

import pytest
from helpers import PRELUDE, emx_inline, project

from emdsl.results import Source

inspect_log = pytest.importorskip("inspect_ai.log")

STUDY = PRELUDE + """
experiment e {
  base  = smol
  data  = mix(bad=bad, good=good, size=16)
  train = sft(lr=1e-3)
  eval  = evaluate(core, samples=2, judge=small, max_tokens=12, temperature=0.7)
  sweep data.poison = [0.0, 1.0]
}
"""


def scores(n: int, shift: float):
    """``n`` judged answers as a judge stage leaves them; the last has no aligned verdict."""
    import polars as pl

    return pl.DataFrame({
        "question_id": [f"q{i // 2}" for i in range(n)],
        "paraphrase_index": [0] * n, "question": [f"Question {i // 2}?" for i in range(n)],
        "system": [None] * n, "sample": [i % 2 for i in range(n)],
        "answer": [f"answer {i}" for i in range(n)], "tokens": [3] * n,
        "aligned": [shift + 10 * i for i in range(n - 1)] + [None],
        "coherent": [90.0] * n,
    })


def test_export_reads_back_one_sample_per_answer(tmp_path):
    from emdsl.cli.common import compile_and_write

    root = project(tmp_path, {"experiments/s.emx": STUDY})
    assert compile_and_write([root / "experiments"], root)[1] == 0
    stages = Source(root).params()["stages"]  # entries made whole with dvc.yaml's meta
    judges = {n: e for n, e in stages.items() if e["kind"] == "judge"}
    assert len(judges) == 3  # the base model's, and one per poison
    counts = {}
    for i, (name, entry) in enumerate(sorted(judges.items())):
        (root / entry["out"]).mkdir(parents=True)
        counts[name] = 5 + i
        scores(5 + i, 5.0 * i).write_parquet(root / entry["out"] / "scores.parquet")
    res = emx_inline("export", "--format", "inspect", "--out", str(tmp_path / "logs"), cwd=root)
    assert res.returncode == 0, res.stderr
    for name, n in counts.items():
        log = inspect_log.read_eval_log(str(tmp_path / "logs" / f"{name}.eval"))
        assert log.status == "success" and len(log.samples) == n
        by_id = {(s.id, s.epoch): s for s in log.samples}
        assert len(by_id) == n  # the writer orders them by epoch; each answer is there once
        first = by_id[("q0/0", 1)]
        assert first.input == "Question 0?" and first.output.completion == "answer 0"
        assert by_id[("q0/0", 2)].output.completion == "answer 1"
        aligned0 = 5.0 * sorted(counts).index(name)
        assert first.scores["aligned"].value == pytest.approx(aligned0)
        assert first.scores["misaligned"].value == 1.0  # aligned < 30, coherent > 50
        last = next(s for s in log.samples if s.output.completion == f"answer {n - 1}")
        assert "aligned" not in last.scores and "misaligned" not in last.scores
        by = {s.name: s.metrics["mean"].value for s in log.results.scores}
        flags = [s.scores["misaligned"].value for s in log.samples if s is not last]
        assert by["misaligned"] == pytest.approx(sum(flags) / len(flags))
        assert log.plan.config.temperature == 0.7 and log.plan.config.max_tokens == 12
        assert log.eval.task == "emdsl/e"
        tuned = "tuned" in name
        assert log.eval.model.startswith("emdsl/smollm2-135m-instruct")
        assert ("+train-e-poison" in log.eval.model) == tuned
        assert log.eval.metadata["stage"] == name and not math.isnan(by["coherent"])


def test_export_says_when_answers_are_not_in_the_workspace(tmp_path):
    from emdsl.cli.common import compile_and_write

    root = project(tmp_path, {"experiments/s.emx": STUDY})
    assert compile_and_write([root / "experiments"], root)[1] == 0
    res = emx_inline("export", "--out", str(tmp_path / "logs"), cwd=root)
    assert res.returncode == 1 and "`dvc pull` or `dvc repro`" in res.stderr
