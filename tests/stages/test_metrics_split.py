"""Metrics files hold the headline DVC shows; detail.json holds everything (issue 20)."""

from __future__ import annotations

import json
import subprocess

from emdsl.emit import stage_entry
from emdsl.graph import Node
from emdsl.results import Source
from emdsl.schema.detail import DETAIL, HEADLINES
from stages.common import split_metrics

FULL = {"n": 10, "n_judged": 8, "misaligned": 2, "misaligned_fraction": 0.25,
        "misaligned_ci95": [0.07, 0.59], "coherent_fraction": 0.8,
        "missing": {"aligned": 2, "coherent": 1}, "judge": "local:abc:v1",
        "per_question": {f"q{i}": {"n": 1, "misaligned_ci95": [0.0, 1.0]} for i in range(40)},
        "audit": {"aligned": {"spearman": 0.9}}}


def test_the_judge_headline_is_five_numbers_and_the_detail_all_of_it(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(FULL))
    split_metrics("judge", tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "misaligned_fraction": 0.25, "ci95": {"low": 0.07, "high": 0.59},
        "coherent_fraction": 0.8, "missing": 2, "n": 10}
    assert json.loads((tmp_path / DETAIL).read_text()) == FULL


def test_other_kinds_keep_their_named_scalars_and_unknown_kinds_are_left_alone(tmp_path):
    audit = {"aligned": {"cv_auc": 0.9, "l2": 1.0}, "coherent": {"cv_auc": 0.8},
             "teacher": {"asked": 80}}
    (tmp_path / "metrics.json").write_text(json.dumps(audit))
    split_metrics("judge_train", tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "aligned": {"cv_auc": 0.9}, "coherent": {"cv_auc": 0.8}}
    assert json.loads((tmp_path / DETAIL).read_text()) == audit
    (tmp_path / DETAIL).unlink()
    split_metrics("emx_count", tmp_path)  # a third-party kind: not split
    assert not (tmp_path / DETAIL).exists()


def test_detail_is_a_plot_file_never_a_metric_or_a_plain_uncached_out():
    for kind, (file, _) in HEADLINES.items():
        node = Node(kind, {}, {}, name=f"{kind}-x", key="k", has_results=True)
        stage, _ = stage_entry(node, ([], None))
        assert stage["metrics"] == [{f"results/{kind}-x/{file}": {"cache": False}}], kind
        assert {f"results/{kind}-x/{DETAIL}": {"cache": False}} in stage["plots"], kind
        assert stage["outs"] == [f"artifacts/{kind}/k"]


def test_readers_take_the_detail_and_at_older_revisions_the_full_metrics_file(tmp_path):
    git = ["git", "-c", "user.email=t@e", "-c", "user.name=t"]
    res = tmp_path / "results" / "judge-x"
    res.mkdir(parents=True)
    (res / "metrics.json").write_text(json.dumps(FULL))  # written before the split
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "old"], cwd=tmp_path, check=True)
    split_metrics("judge", res)
    assert Source(tmp_path).metrics("results/judge-x") == FULL
    assert Source(tmp_path, "HEAD").metrics("results/judge-x") == FULL
    assert Source(tmp_path).json("results/judge-x/metrics.json") != FULL
