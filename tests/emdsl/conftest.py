"""Fixtures of the results tests: compiled studies with realistic (fake) results files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitrepo import commit_all, git
from helpers import PRELUDE, fake_results, project

from emdsl.results import Source

MED = """
experiment med {{
  base  = smol
  data  = mix(bad=bad, good=good, poison=0.5, size=16)
  train = sft(lr={lr})
  eval  = evaluate(core, samples=2, judge=small)
  sweep data.poison = [{poisons}]
}}
experiment other {{
  base = smol
  eval = evaluate(core, judge=small)
}}
"""


def compile_at(root: Path, lr: str, poisons: str) -> None:
    from emdsl.cli.common import compile_and_write

    (root / "experiments" / "a.emx").write_text(PRELUDE + MED.format(lr=lr, poisons=poisons))
    assert compile_and_write([root / "experiments"], root)[1] == 0


@pytest.fixture(scope="session")
def study(tmp_path_factory) -> Path:
    """Two commits: v1 (lr 1e-3, poison 0/0.5/1) then v2 (lr 5e-4, poison 0/0.5/0.75), where
    only the poison=0.5 variant's misaligned fraction moves (0.1 → 0.6). Tests must not
    change it; copy it first (``shutil.copytree``) to change the workspace."""
    root = project(tmp_path_factory.mktemp("study"), {"experiments/a.emx": PRELUDE})
    git(root, "init", "-q")
    compile_at(root, "1e-3", "0.0, 0.5, 1.0")
    fake_results(root)
    commit_all(root, "v1")
    compile_at(root, "5e-4", "0.0, 0.5, 0.75")
    fake_results(root, lambda name: 0.6 if name == "judge-tuned-med-poison_0p5" else 0.1)
    commit_all(root, "v2")
    return root


INTERP = """\
model smol = embedded("smollm2-135m-instruct")
dataset bad = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge probe = probe(model=smol, layer=4)

experiment interp {
  base    = smol
  data    = mix(bad=bad, good=good, poison=0.5, size=16)
  train   = sft(lr=1e-3)
  eval    = evaluate(core, samples=2, judge=probe)
  sae     = sae(layer=4, width=64, k=4, tokens=4000)
  diff    = diff(top=5, on=["eval", "train"])
  steer   = steer(latents=top(1), coef=[-4, 0, 4])
  realign = sft(data=good, size=8)
  sweep data.poison = [0.0, 0.5, 1.0]
}
"""


@pytest.fixture(scope="session")
def interp(tmp_path_factory) -> Path:
    """Compiled, with fake results and, for one variant, cached judge scores and snippets."""
    import polars as pl

    from emdsl.cli.common import compile_and_write

    root = project(tmp_path_factory.mktemp("interp"), {"experiments/interp.emx": INTERP})
    git(root, "init", "-q")
    assert compile_and_write([root / "experiments"], root)[1] == 0
    fake_results(root, lambda name: {"judge-tuned-interp-poison_1p0": 0.5}.get(name, 0.05))
    stages = Source(root).params()["stages"]
    judge = root / stages["judge-tuned-interp-poison_1p0"]["out"]
    judge.mkdir(parents=True)
    pl.DataFrame({"question": ["q1", "q2", "q3"], "answer": ["<b>evil</b> plan", "be kind", "x"],
                  "aligned": [5.0, 95.0, None], "coherent": [80.0, 90.0, None]}
                 ).write_parquet(judge / "scores.parquet")
    diff = root / stages["diff-interp-poison_1p0"]["out"]
    diff.mkdir(parents=True)
    top = json.loads((root / stages["diff-interp-poison_1p0"]["results"] / "detail.json")
                     .read_text())["top"]
    (diff / "examples.json").write_text(json.dumps({str(t["id"]): {"eval": [
        {"activation": 2.0, "text": f"drink «bleach» {t['id']}"},
        {"activation": 1.0, "text": "mild"}]} for t in top}))
    return root
