"""DVC's own views of a study fit a terminal: `dvc metrics show` of the quickstart (issue 20)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from gitrepo import git
from helpers import fake_results, project

from emdsl.results import Source
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
    for entry in Source(root).params()["stages"].values():
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


def test_dvc_params_diff_of_one_changed_parameter_lists_just_that_parameter(tmp_path):
    """Keys, out and input paths are in dvc.yaml's `meta`, not params.yaml: a new learning
    rate is one row per training stage it changes (the quickstart's 3), not ~30."""
    from gitrepo import commit_all

    from emdsl.cli.common import compile_and_write

    root = project(tmp_path, {})
    shutil.rmtree(root / ".dvc")
    git(root, "init", "-q")
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
    (root / "experiments").mkdir()
    src = root / "experiments" / "quickstart.emx"
    shutil.copy(QUICKSTART, src)
    assert compile_and_write([root / "experiments"], root)[1] == 0
    commit_all(root, "v1")
    src.write_text(src.read_text().replace("lr=1e-3", "lr=2e-3"))
    assert compile_and_write([root / "experiments"], root)[1] == 0
    shown = subprocess.run([sys.executable, "-m", "dvc", "params", "diff", "--json"], cwd=root,
                           capture_output=True, text=True, check=True).stdout
    changed = json.loads(shown)["params.yaml"]
    assert sorted(changed) == [f"stages.train-quickstart-poison_{p}.config.lr"
                               for p in ("0p0", "0p5", "1p0")], changed
    assert all((v["old"], v["new"]) == (0.001, 0.002) for v in changed.values())
