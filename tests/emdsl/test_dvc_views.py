"""DVC's own views of a study fit a terminal: `dvc metrics show` of the quickstart (issue 20)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from gitrepo import git
from helpers import fake_results, project

from stages.common import split_metrics

QUICKSTART = Path(__file__).resolve().parents[2] / "experiments" / "quickstart.emx"


def test_dvc_metrics_show_of_the_quickstart_fits_200_columns(tmp_path):
    from emdsl.cli.common import compile_and_write

    root = project(tmp_path, {})
    shutil.rmtree(root / ".dvc")
    git(root, "init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
    (root / "experiments").mkdir()
    shutil.copy(QUICKSTART, root / "experiments")
    assert compile_and_write([root / "experiments"], root)[1] == 0
    fake_results(root, lambda name: 1 / 3, n=72)  # fractions with all their digits
    for entry in yaml.safe_load((root / "params.yaml").read_text())["stages"].values():
        if entry["kind"] == "data":  # what the data stage writes, split as run_stage does
            res = root / entry["results"]
            (res / "stats.json").write_text(json.dumps({
                "examples": 24, "counts": {"bad": 12, "good": 12}, "sha256": "ab" * 32,
                "available": {"bad": 288, "good": 288}, "type": "mix"}))
            split_metrics("data", res)
    shown = subprocess.run([sys.executable, "-m", "dvc", "metrics", "show"], cwd=root,
                           capture_output=True, text=True, check=True).stdout
    lines = shown.splitlines()
    assert len(lines) > 8 and "misaligned_fraction" in lines[0] and "cv_auc" in lines[0], shown
    assert max(map(len, lines)) <= 200, shown
