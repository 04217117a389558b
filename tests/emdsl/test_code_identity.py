"""A stage's code identity is its entry module, the runtime core, the implementations its config
selects and the builtin data it reads: a judge fix must not rerun the fine-tunes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from emdsl.check import check_or_raise
from emdsl.compile import compile_program
from emdsl.emit import emit
from emdsl.results import Source

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "experiments" / "quickstart.emx"


def _compiled_in_checkout() -> dict:
    graph = compile_program(check_or_raise([QUICKSTART], REPO))
    dvc_text, _ = emit(graph, REPO, ["experiments/quickstart.emx"])
    return yaml.safe_load(dvc_text)["stages"]


def _code(deps: list[str]) -> set[str]:
    return {d for d in deps if d.endswith(".py")}


def test_quickstart_stages_depend_on_what_they_run_and_read():
    stages = _compiled_in_checkout()
    by_kind: dict[str, list[list[str]]] = {}
    for name, stage in stages.items():
        by_kind.setdefault(name.split("-")[0], []).append(stage["deps"])
    for deps in by_kind["train"]:  # SFT: no judge, probe or sampling code
        assert not {d for d in _code(deps) if any(w in d for w in ("judg", "probe", "sampl"))}
        assert "stages/lib/training/sft.py" in deps and "stages/lib/training/grpo.py" not in deps
    for deps in by_kind["judge"]:  # the probe backend it selects; no training data
        assert "stages/lib/judging/probe.py" in deps
        assert "stages/lib/judging/openai.py" not in deps
        assert not {d for d in deps if "datasets" in d or "training" in d}
    for deps in by_kind["data"]:  # its own domain's data file, no other
        data = {d for d in deps if d.startswith("emdsl/builtin/data/")}
        assert data == {"emdsl/builtin/data/datasets/medical.yaml"}
    (judge_train,) = by_kind["judge_train"]
    assert "emdsl/builtin/data/judge/judge.yaml" in judge_train
    assert not {d for d in judge_train if d.startswith("emdsl/builtin/data/datasets/")}
    # which process runs a stage is no part of what it computes: the warm worker is no dep
    every = [d for stage in stages.values() for d in stage["deps"]]
    assert "stages/common.py" in every and "stages/lib/warm.py" not in every
    assert "stages/lib/machine_store.py" in by_kind["model"][0]


def _code_hashes(package: Path, study: Path) -> dict[str, str]:
    """Compile the study with the emdsl package at ``package``: each stage's code hash."""
    env = {**os.environ, "PYTHONPATH": str(package), "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run([sys.executable, "-c", "import sys; from emdsl.cli import main; "
                           "sys.exit(main(['compile']))"], cwd=study, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    params = Source(study).params()["stages"]
    return {name: entry["code"] for name, entry in params.items()}


def test_outside_the_checkout_a_judge_backend_edit_reruns_judges_only(tmp_path):
    package = tmp_path / "site"
    for pkg in ("emdsl", "stages"):
        shutil.copytree(REPO / pkg, package / pkg,
                        ignore=shutil.ignore_patterns("__pycache__"))
    study = tmp_path / "study"
    (study / "experiments").mkdir(parents=True)
    (study / ".dvc").mkdir()
    shutil.copy(QUICKSTART, study / "experiments")
    before = _code_hashes(package, study)

    probe = package / "stages" / "lib" / "judging" / "probe.py"
    probe.write_text(probe.read_text() + "\n# a judge fix\n")
    after = _code_hashes(package, study)
    changed = {name.split("-")[0] for name in before if before[name] != after[name]}
    assert changed == {"judge"}  # not train, data, generate or judge_train (its own probe code)

    data = package / "emdsl" / "builtin" / "data" / "datasets" / "medical.yaml"
    data.write_text(data.read_text() + "\n# an edited answer\n")
    edited = _code_hashes(package, study)
    assert {name.split("-")[0] for name in after if after[name] != edited[name]} == {"data"}
