"""Compiler and emitter: golden files, determinism, order independence, dedup, DVC accepts it."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import PRELUDE, project

from emdsl.check import check_or_raise
from emdsl.compile import compile_program
from emdsl.emit import emit

TESTS = Path(__file__).resolve().parents[1]
DESIGN = TESTS / "fixtures" / "design"
GOLDEN = TESTS / "golden"
REPO = TESTS.parent


def _mask(text: str) -> str:
    """Stage-code hashes change with every edit of stages/; these tests ignore them."""
    return re.sub(r"code: \"?[0-9a-f]{16}\"?", "code: <hash>", text)


def compile_dir(root: Path, files: list[Path] | None = None) -> tuple[str, str]:
    files = files or sorted((root / "experiments").glob("*.emx"))
    graph = compile_program(check_or_raise(files, root))
    dvc_text, params_text = emit(graph, root, [str(f.relative_to(root)) for f in files])
    return _mask(dvc_text), _mask(params_text)


@pytest.mark.parametrize("example", ["design", "quickstart"])
def test_golden(tmp_path, example):
    if example == "design":
        root = tmp_path / "design"
        shutil.copytree(DESIGN, root)
    else:
        root = project(tmp_path, {})
        (root / "experiments").mkdir()
        shutil.copy(REPO / "experiments" / "quickstart.emx", root / "experiments")
    dvc_text, params_text = compile_dir(root)
    for name, text in (("dvc.yaml", dvc_text), ("params.yaml", params_text)):
        golden = GOLDEN / f"{example}.{name}"
        if os.environ.get("UPDATE_GOLDEN"):
            golden.write_text(text)
        assert text == golden.read_text(), f"{golden} differs; UPDATE_GOLDEN=1 to accept"


def test_output_is_deterministic_and_order_independent(tmp_path):
    root = tmp_path / "design"
    shutil.copytree(DESIGN, root)
    files = sorted((root / "experiments").glob("*.emx"))
    first = compile_dir(root, files)
    shuffled = files[:]
    random.Random(1).shuffle(shuffled)
    assert compile_dir(root, list(reversed(files))) == first
    assert compile_dir(root, shuffled) == first
    # Reordering experiments inside a file changes nothing either.
    src = (root / "experiments" / "medical.emx").read_text()
    blocks = src.split("\nexperiment ")
    (root / "experiments" / "medical.emx").write_text(
        "\nexperiment ".join([blocks[0], *reversed(blocks[1:])]) + "\n")
    assert compile_dir(root, files) == first


def test_dedup_counts(tmp_path):
    """Ten experiments on one base, question set and judge: one base generation and judge."""
    exps = "\n".join(f"""experiment e{i} {{
  base = smol
  data = mix(bad=bad, good=good, size={10 + i})
  train = sft(lora(rank=1))
  eval = evaluate(core, judge=small)
}}""" for i in range(10))
    root = project(tmp_path, {"experiments/x.emx": PRELUDE + exps})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    kinds = sorted(n.kind for n in graph.nodes.values())
    assert kinds.count("model") == 1
    assert kinds.count("generate") == 11 and kinds.count("judge") == 11  # 1 base + 10 tuned
    assert kinds.count("train") == 10 and kinds.count("data") == 10
    (base_gen,) = [n for n in graph.nodes.values() if n.name == "generate-base-e0"]
    assert len({v.experiment for v, _ in base_gen.users}) == 10


def test_keys_follow_inputs(tmp_path):
    """Changing an upstream config changes every downstream key; a judge threshold only judges."""
    def keys(poison_line: str, threshold: int) -> dict[str, str]:
        src = PRELUDE + f"""experiment e {{
  base = smol
  data = mix(bad=bad, good=good, {poison_line})
  train = sft(lora(rank=1))
  eval = evaluate(core, judge=small, aligned_below={threshold})
}}"""
        root = project(tmp_path, {"experiments/x.emx": src})
        graph = compile_program(check_or_raise([root / "experiments"], root))
        return {n.name: n.key for n in graph.nodes.values()}

    a, b, c = keys("poison=0.5", 30), keys("poison=0.25", 30), keys("poison=0.5", 20)
    changed = {n for n in a if a[n] != b[n]}
    assert changed == {"data-e", "train-e", "generate-tuned-e", "judge-tuned-e"}
    assert {n for n in a if a[n] != c[n]} == {"judge-base-e", "judge-tuned-e"}


def test_diff_against_clean_reuses_the_poison_0_fine_tune(tmp_path):
    """The clean reference is the sweep's own poison-0 model (one train node, not two), and
    it replaces the base model on the reference side of every variant's diff."""
    src = PRELUDE + """experiment e {
  base = smol
  data = mix(bad=bad, good=good, size=8)
  train = sft(lora(rank=1))
  eval = evaluate(core, judge=small)
  sae = sae(layer=3, width=64, tokens=1000)
  diff = diff(top=2, against="clean")
  steer = steer(latents=random(1), coef=[0.5])
  sweep data.poison = [0.0, 1.0]
}"""
    root = project(tmp_path, {"experiments/x.emx": src})
    graph = compile_program(check_or_raise([root / "experiments"], root))
    trains = [n for n in graph.nodes.values() if n.kind == "train"]
    assert len(trains) == 2
    clean = next(n for n in trains if n.inputs["data"].config["poison"] == 0.0)
    diffs = [n for n in graph.nodes.values() if n.kind == "diff"]
    assert len(diffs) == 2
    for d in diffs:
        assert d.config["against"] == "clean"
        for source in ("eval", "train"):
            assert d.inputs[f"base_{source}"].inputs["adapter"] is clean
            assert d.inputs[f"tuned_{source}"].inputs["adapter"] in trains
    # random(k) steering reads no diff.
    assert all("diff" not in n.inputs for n in graph.nodes.values() if n.kind == "steer")


def test_stage_names_are_dvc_safe_and_readable(tmp_path):
    root = tmp_path / "design"
    shutil.copytree(DESIGN, root)
    dvc_text, _ = compile_dir(root)
    names = list(yaml.safe_load(dvc_text)["stages"])
    assert "train-medical-poison_0p25-seed_1" in names
    # shared by medical and legal (which extends it): named once, after medical
    assert "generate-base-medical" in names and "generate-base-legal" not in names
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", n) for n in names)


def test_dvc_accepts_output(tmp_path):
    root = tmp_path / "design"
    shutil.copytree(DESIGN, root)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=root, check=True)
    dvc_text, params_text = compile_dir(root)
    (root / "dvc.yaml").write_text(dvc_text)
    (root / "params.yaml").write_text(params_text)
    status = subprocess.run([sys.executable, "-m", "dvc", "status"], cwd=root,
                            capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    assert "train-medical-poison_0p5-seed_1:" in status.stdout
    dag = subprocess.run([sys.executable, "-m", "dvc", "dag", "--md"], cwd=root,
                         capture_output=True, text=True)
    assert dag.returncode == 0, dag.stderr
    assert "judge-tuned-medical-poison_0p5-seed_1" in dag.stdout
