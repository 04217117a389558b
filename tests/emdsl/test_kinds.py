"""The stage-kind registry: builtin kinds declare themselves once; an outside package adds one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import PRELUDE, project

from emdsl import kinds
from emdsl.kinds import Kind, all_kinds, experiment_fields, get_kind, register, result_columns
from emdsl.results import Source

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "toykind"


def test_every_builtin_kind_has_its_stage_entry_module():
    names = {k.name for k in all_kinds()}
    assert names >= {"model", "data", "train", "generate", "judge", "judge_train", "acts",
                     "sae", "diff", "steer", "realign", "detector", "summary"}
    for k in all_kinds():
        assert (REPO / (k.module.replace(".", "/") + ".py")).is_file(), k.name


def test_registry_refuses_a_second_kind_of_one_name():
    with pytest.raises(ValueError, match="already registered"):
        @register
        class Again(Kind):
            name = "steer"
    assert type(get_kind("steer")).__module__ == "emdsl.kinds.steer"


def test_fields_and_columns_come_from_the_kinds_and_are_unique():
    assert list(experiment_fields()) == ["base", "data", "train", "eval", "sae", "diff",
                                         "monitor", "steer", "realign"]
    columns = result_columns()
    assert list(columns)[:4] == ["file", "experiment", "variant", "axes"]
    assert {"misaligned", "top_latents", "steering", "realignment"} <= set(columns)


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(KeyError, match=r"known: .*steer"):
        get_kind("stear")


def _install_toy(site: Path) -> dict[str, str]:
    """Install the toy kind as a distribution would: a dist-info naming its entry point."""
    info = site / "emx_count-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: emx-count\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{kinds.ENTRY_POINT_GROUP}]\n"
                                           "count = emx_count.kind\n")
    path = os.pathsep.join([str(TOY), str(site), str(REPO)])
    return {**os.environ, "PYTHONPATH": path, "DVC_NO_ANALYTICS": "1"}


EMX = [sys.executable, "-c", "import sys; from emdsl.cli import main; sys.exit(main())"]


def test_a_kind_from_another_package_compiles_runs_and_shows(tmp_path):
    """The toy ``count`` kind, found through its entry point: the language accepts its
    field, compile wires and emits its stages, its stage runs, and ``emx show`` has its
    column. No emdsl file knows about it."""
    env = _install_toy(tmp_path / "site")
    (tmp_path / "study").mkdir()
    root = project(tmp_path / "study", {"experiments/exp.emx": PRELUDE + """
        experiment e {
          base  = smol
          eval  = evaluate(core, samples=1, judge=small)
          count = count(min_chars=3)
        }
        """})
    done = subprocess.run([*EMX, "compile"], cwd=root, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    dvc = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    (name,) = [n for n in dvc if n.startswith("count-")]
    assert dvc[name]["cmd"] == f"python -m emx_count.stage {name}"
    assert dvc[name]["metrics"] == [{f"results/{name}/metrics.json": {"cache": False}}]
    entry = Source(root).params()["stages"][name]
    assert entry["config"] == {"type": "count", "min_chars": 3}
    assert entry["code"]  # its code lives outside the study: hashed into its params

    # The generate stage's output, as it would be written; then DVC's command for the stage.
    import polars as pl

    answers = root / entry["inputs"]["answers"]
    answers.mkdir(parents=True)
    pl.DataFrame({"answer": ["Yes, gladly.", "", "ok", "No."]}).write_parquet(
        answers / "answers.parquet")
    python, *args = dvc[name]["cmd"].split()
    assert python == "python"
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((root / entry["results"] / "metrics.json").read_text()) == {
        "answers": 4, "empty": 2}

    shown = subprocess.run([*EMX, "show", "--format", "json"], cwd=root, env=env,
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    (row,) = json.loads(shown.stdout)
    assert (row["answers"], row["empty"]) == (4, 2)
    table = subprocess.run([*EMX, "show"], cwd=root, env=env, capture_output=True, text=True)
    assert "| answers |" in table.stdout.splitlines()[0] + " |"


def test_without_the_package_its_field_is_a_located_error(tmp_path):
    root = project(tmp_path, {"exp.emx": PRELUDE + """
        experiment e {
          base  = smol
          count = count()
        }
        """})
    done = subprocess.run([*EMX, "check", "exp.emx"], cwd=root, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode != 0
    assert "exp.emx:9:11: error: experiments have no field `count`" in done.stderr


def test_each_kind_adds_the_implementations_its_config_selects():
    from stages.lib import registry

    def mods(family, *names):
        return tuple(registry.module_path(family, n) for n in names)

    local, probe = {"type": "local"}, {"type": "probe"}
    assert get_kind("generate").code({}) == mods("sampler", "vllm", "static", "plain")
    assert get_kind("generate").code({"backend": "plain"}) == mods("sampler", "plain")
    assert get_kind("judge").code({"judge": local}) == mods("judge", "local")
    # steer and realign sample a loaded model: vllm cannot serve it, static does instead
    assert get_kind("steer").code({"eval": {"backend": "vllm", "judge": probe}}) == (
        mods("sampler", "static") + mods("judge", "probe"))
    assert get_kind("realign").code({"eval": {"judge": local}}) == (
        mods("sampler", "static", "plain") + mods("judge", "local"))
    assert get_kind("train").code({"type": "sft"}) == mods("train", "sft")
    assert get_kind("train").code({"type": "grpo", "reward": {"judge": local}}) == (
        mods("train", "grpo") + mods("judge", "local"))
    assert get_kind("judge_train").code({"probe": {"labels": None}}) == ()
    assert get_kind("judge_train").code({"probe": {"labels": {"type": "openai"}}}) == (
        mods("judge", "openai"))
    assert get_kind("acts").code({"source": "corpus"}) == ()
