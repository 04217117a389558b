"""Identical inputs give byte-identical outs: one small study (data, LoRA SFT, generation, a
local judge, corpus activations and an SAE) run by `emx run` in two fresh folders under
different ``PYTHONHASHSEED`` values. Every out `dvc.lock` records, cached or not (metrics, plots), must
have the same md5 in both; a difference names the out, so it is easy to chase."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from study import make_study

pytestmark = pytest.mark.slow

EXPERIMENT = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=tiny)

experiment repro {
  base  = tiny
  data  = mix(bad=bad, good=good, poison=0.5, size=8, seed=0)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=4, max_length=96)
  eval  = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
  sae   = sae(layer=1, width=16, k=2, tokens=500)
}
"""


def out_hashes(root: Path) -> dict[str, str]:
    """``stage:path`` -> md5 for every out in ``root/dvc.lock`` (cached outs, metrics, plots)."""
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return {f"{name}:{out['path']}": out["md5"]
            for name, entry in lock["stages"].items() for out in entry.get("outs", [])}


def study_under_hash_seed(root: Path, tiny_model_dir: Path, seed: str) -> dict[str, str]:
    """Run the study in ``root`` with ``PYTHONHASHSEED=seed`` (DVC's stages inherit it)."""
    root.mkdir()
    old = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = seed
    try:
        make_study(root, tiny_model_dir, "repro", EXPERIMENT)
    finally:
        if old is None:
            del os.environ["PYTHONHASHSEED"]
        else:
            os.environ["PYTHONHASHSEED"] = old
    return out_hashes(root)


def test_the_same_study_twice_gives_byte_identical_outs(tmp_path, tiny_model_dir):
    first = study_under_hash_seed(tmp_path / "one", tiny_model_dir, "1")
    second = study_under_hash_seed(tmp_path / "two", tiny_model_dir, "2")
    assert set(first) == set(second)
    kinds = {key.split("-")[0] for key in first}
    assert {"model", "data", "train", "generate", "judge", "acts", "sae"} <= kinds, kinds
    differ = sorted(k for k in first if first[k] != second[k])
    assert not differ, f"{len(differ)} of {len(first)} outs differ: {differ}"
    print(f"{len(first)} outs compared byte for byte, all equal")
