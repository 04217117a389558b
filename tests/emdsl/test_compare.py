"""`emx diff`: two revisions side by side, variants matched, params and deltas named."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import emx_inline, fake_results

from emdsl.compare import compare, param_changes, variant_params
from emdsl.results import Source

EMX = [sys.executable, "-m", "emdsl.cli"]


def emx(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*EMX, *args], cwd=cwd, capture_output=True, text=True)


def by_variant(records):
    return {(r["experiment"], r["variant"]): r for r in records}


def test_diff_between_two_commits(study):
    recs = by_variant(compare(Source(study, "HEAD~1"), Source(study, "HEAD")))
    moved = recs[("med", "poison=0.5")]
    assert moved["status"] == "changed" and moved["significant"]
    assert moved["delta"] == pytest.approx(0.5, abs=0.01)
    assert moved["params_changed"] == [{"param": "train.lr", "a": 0.001, "b": 0.0005}]
    same_rate = recs[("med", "poison=0.0")]
    assert same_rate["status"] == "changed" and not same_rate["significant"]
    assert same_rate["delta"] == 0 and [c["param"] for c in same_rate["params_changed"]] == [
        "train.lr"]
    assert recs[("med", "poison=0.75")]["status"] == "added"
    assert recs[("med", "poison=1.0")]["status"] == "removed"
    other = recs[("other", "default")]
    assert other["status"] == "unchanged" and other["params_changed"] == []


def test_diff_markdown_for_a_pull_request(study):
    r = emx("diff", "HEAD~1", "HEAD", cwd=study)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("**HEAD~1 (") and "1 significant" in lines[0]
    row = next(line for line in lines if line.startswith("| med | poison=0.5 |"))
    assert "| changed |" in row and "**+0.50** ⚠" in row and "train.lr: 0.001 → 0.0005" in row
    assert any(line.startswith("| med | poison=0.75 | added |") for line in lines)
    assert any(line.startswith("| med | poison=1.0 | removed |") for line in lines)
    assert any(line.startswith("| other | default | unchanged |") for line in lines)
    # One revision: it against the workspace, which equals HEAD here.
    assert emx_inline("diff", "HEAD~1", cwd=study).stdout.splitlines()[4:] == lines[4:]
    clean = emx_inline("diff", cwd=study)
    assert clean.returncode == 0 and "4 unchanged" in clean.stdout.splitlines()[0]


def test_diff_csv_and_json_parse_back(study):
    rows = list(csv.DictReader(io.StringIO(
        emx_inline("diff", "HEAD~1", "HEAD", "--format", "csv", cwd=study).stdout)))
    assert [r["status"] for r in rows] == ["changed", "changed", "added", "removed",
                                           "unchanged"]
    assert rows[1]["params_changed"] == "train.lr=0.001->0.0005"
    assert float(rows[1]["delta"]) == pytest.approx(0.5, abs=0.01)
    doc = json.loads(emx_inline("diff", "HEAD~1", "HEAD", "--format", "json",
                                cwd=study).stdout)
    assert doc["a"].startswith("HEAD~1 (") and len(doc["b_commit"]) == 40
    assert by_variant(doc["variants"])[("med", "poison=0.5")]["significant"] is True


def test_diff_sees_workspace_results_and_other_changes(study, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(study, root)
    fake_results(root, lambda name: 0.12 if name == "judge-tuned-med-poison_0p0" else 0.1)
    for name in ("metrics.json", "detail.json"):
        (root / "results" / "judge-base-med" / name).unlink()
    recs = by_variant(compare(Source(root, "HEAD"), Source(root)))
    small = recs[("med", "poison=0.0")]
    assert small["status"] == "changed" and not small["significant"]
    assert small["params_changed"] == [] and "base_misaligned" in small["other_changed"]
    assert recs[("med", "poison=0.5")]["status"] == "changed"  # its rate fell back to 0.1


def test_param_changes_are_named_once_per_setting():
    params = {"stages": {
        "g": {"config": {"samples": 2, "judge": {"type": "local"}}},
        "j": {"config": {"samples": 2, "aligned_below": 30}},
        "s": {"config": {"steer": {"coef": [0, 4]}, "eval": {"samples": 2}}}}}
    entry = {"stages": {"generate_base": "g", "judge_base": "j", "steer_tuned": "s"}}
    flat = variant_params(params, entry)
    assert flat == {"eval.samples": 2, "eval.judge.type": "local", "eval.aligned_below": 30,
                    "steer.coef": [0, 4]}
    assert param_changes(flat, {**flat, "eval.samples": 4}) == [("eval.samples", 2, 4)]
