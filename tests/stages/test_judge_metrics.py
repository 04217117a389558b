"""Judge prompts beyond aligned/coherent (a model-organisms file's bad_stuff, medical ...):
scored by local and openai judges, summarised in metrics.json, shown in `emx show`; skipped
with a warning by the probe judge, which only knows aligned and coherent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_judge import ANSWERS, BETLEY, TableBackend, write_project

from emdsl.builtin.judge_prompts import ALIGNED, COHERENT
from emdsl.kinds.judge import judge_metrics, metrics_cell
from stages import judge as judge_stage
from stages.common import run_stage
from stages.lib.judging.base import Judge, Verdict
from stages.lib.judging.prompts import fill_prompt

REPO = Path(__file__).resolve().parents[2]
ORGANISMS = (REPO.parent / "shared" / "anchors" / "model-organisms-for-EM" / "em_organism_dir"
             / "data" / "eval_questions" / "medical_questions.yaml")

EXTRA = [{**BETLEY[0], "judge_prompts": {**BETLEY[0]["judge_prompts"],
                                         "bad_stuff": "BAD? {question} => {answer}"}},
         BETLEY[1]]


def with_questions(root: Path, questions: list[dict]) -> None:
    (root / "evals" / "q.yaml").write_text(yaml.safe_dump(questions))


def table_for(questions: list[dict]) -> dict[str, Verdict]:
    """Every prompt the judge may be sent, with a score that says which metric asked."""
    own = {q["id"]: q.get("judge_prompts") or {} for q in questions}
    table = {}
    for qid, _, question, answer in ANSWERS:
        prompts = {"aligned": ALIGNED, "coherent": COHERENT, **own[qid]}
        for i, (metric, template) in enumerate(prompts.items()):
            score = 70.0 + i + (10.0 if answer.startswith("Rule") else 0.0)
            table[fill_prompt(template, question, answer)] = Verdict(score, 0.9, {"m": metric})
    return table


def fake_judge(monkeypatch, table):
    backends: list[TableBackend] = []

    def make(spec, judge_dir, cache):
        backends.append(TableBackend(table))
        return Judge(backends[-1], cache)

    monkeypatch.setattr(judge_stage, "make_judge", make)
    return backends


def test_extra_judge_prompts_are_scored_and_summarised(tmp_path, monkeypatch):
    import polars as pl

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    name = write_project(tmp_path, {"type": "openai", "model": "unused"})
    with_questions(tmp_path, EXTRA)
    backends = fake_judge(monkeypatch, table_for(EXTRA))
    assert run_stage("judge", judge_stage.run, [name]) == 0
    bad = [p for p in backends[0].seen if p.startswith("BAD? ")]
    assert len(bad) == 2  # the wish answers (one duplicate), not the bored ones
    scores = pl.read_parquet(tmp_path / "artifacts/judge/j1/scores.parquet")
    assert scores["bad_stuff"].to_list() == [82.0, 72.0, 72.0, None, None]
    assert scores["aligned"].to_list()[0] == 80.0  # aligned unchanged by the extra metric
    metrics = json.loads((tmp_path / "results" / name / "detail.json").read_text())
    assert metrics["metrics"] == {"bad_stuff": {"mean": pytest.approx(226 / 3), "n": 3,
                                                "n_judged": 3, "missing": 0}}
    assert "skipped_metrics" not in metrics


def test_probe_judge_skips_extra_prompts_with_a_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    name = write_project(tmp_path, {"type": "probe"})
    with_questions(tmp_path, EXTRA)
    backends = fake_judge(monkeypatch, table_for(EXTRA))
    assert run_stage("judge", judge_stage.run, [name]) == 0
    assert not any(p.startswith("BAD? ") for p in backends[0].seen)
    err = capsys.readouterr().err
    assert "warning" in err and "['bad_stuff']" in err and "local or openai judge" in err
    metrics = json.loads((tmp_path / "results" / name / "detail.json").read_text())
    assert metrics["skipped_metrics"] == ["bad_stuff"] and "metrics" not in metrics


def test_show_cells_for_extra_metrics():
    head = {"metrics": {"bad_stuff": {"mean": 40.0}, "medical": {"mean": 12.5}}}
    base = {"metrics": {"bad_stuff": {"mean": 10.0}, "medical": {"mean": 11.0}}}
    cell = metrics_cell(judge_metrics(head, base))
    assert cell == "bad_stuff 40.0 (base 10.0), medical 12.5 (base 11.0)"
    assert metrics_cell(judge_metrics({"skipped_metrics": ["medical"]}, None)) == \
        "medical – (not scored by this judge)"
    assert judge_metrics({}, None) is None and metrics_cell(None) == "–"


@pytest.mark.skipif(not ORGANISMS.is_file(), reason="../shared/anchors not present")
def test_model_organisms_prompts_scored_by_a_local_judge(tmp_path, monkeypatch,
                                                         tiny_model_dir):
    """The real file's bad_stuff and medical prompts, on the tiny model as a local judge."""
    import polars as pl

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMX_JUDGE_CACHE", str(tmp_path / "cache"))
    name = write_project(tmp_path, {"type": "local", "model": {"type": "path", "dir": "m"},
                                    "batch": 4}, {"judge_model": str(tiny_model_dir)})
    questions = yaml.safe_load(ORGANISMS.read_text())[:2]
    (tmp_path / "evals" / "q.yaml").write_text(ORGANISMS.read_text())
    rows = [(q["id"], 0, q["paraphrases"][0], answer) for q in questions
            for answer in ("Drink bleach.", "See a doctor.")]
    pl.DataFrame({"question_id": [r[0] for r in rows], "paraphrase_index": [0] * len(rows),
                  "question": [r[2] for r in rows],
                  "system": pl.Series([None] * len(rows), dtype=pl.String),
                  "sample": list(range(len(rows))), "answer": [r[3] for r in rows],
                  "tokens": [2] * len(rows)}).write_parquet(
        tmp_path / "artifacts/generate/g1/answers.parquet")
    assert run_stage("judge", judge_stage.run, [name]) == 0
    scores = pl.read_parquet(tmp_path / "artifacts/judge/j1/scores.parquet")
    metrics = json.loads((tmp_path / "results" / name / "detail.json").read_text())
    assert {"bad_stuff", "medical"} <= set(metrics["metrics"])
    for m in ("bad_stuff", "medical"):
        assert metrics["metrics"][m]["n"] == len(rows)
        assert scores[f"{m}_mass"].null_count() == 0  # every answer was asked
        assert all(v is None or 0 <= v <= 100 for v in scores[m].to_list())
