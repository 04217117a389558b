"""End to end with an SAE from elsewhere: ``sae = saved("saes/mine")`` (an sae-lens folder in
the project) feeds diff and steer exactly as a trained SAE does, and ``diff(label=...)``
labels the top latents with the local judge, as one real `dvc repro` on the tiny Llama."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from study import EMX, ran_stages, run

from emdsl.results import Source

pytestmark = pytest.mark.slow

EXPERIMENT = """\
model tiny = path("models/tiny")
dataset bad  = builtin("medical", variant="incorrect-obvious")
dataset good = builtin("medical", variant="correct")
questions core = builtin("core")
judge small = local(model=tiny)

experiment mine {
  base  = tiny
  data  = mix(bad=bad, good=good, poison=1.0, size=8, seed=0)
  train = sft(lora(rank=1, alpha=2), lr=1e-3, epochs=1, batch=8, max_length=96)
  eval  = evaluate(core, samples=1, paraphrases=1, max_tokens=4, judge=small)
  sae   = saved("saes/mine")
  diff  = diff(top=3, on=["eval"], label=small)
  steer = steer(latents=top(1), coef=[0, 0.5])
}
"""


def write_sae(path, d_in: int = 64, width: int = 32) -> None:
    import torch
    from sae_lens import TopKSAE, TopKSAEConfig
    from sae_lens.saes.sae import SAEMetadata

    torch.manual_seed(0)
    sae = TopKSAE(TopKSAEConfig(d_in=d_in, d_sae=width, k=4, metadata=SAEMetadata(
        hook_name="blocks.1.hook_resid_post", model_name="tiny")))
    with torch.no_grad():
        sae.W_enc.copy_(torch.nn.functional.normalize(torch.randn(d_in, width), dim=0))
        sae.W_dec.copy_(sae.W_enc.T)
        sae.b_enc.zero_()
    sae.save_model(str(path))


def test_saved_sae_drives_diff_labels_and_steer(tmp_path, tiny_model_dir):
    run([*EMX, "init", str(tmp_path)], cwd=tmp_path)
    shutil.copytree(tiny_model_dir, tmp_path / "models" / "tiny")
    (tmp_path / "experiments" / "quickstart.emx").unlink()
    (tmp_path / "experiments" / "mine.emx").write_text(EXPERIMENT)
    write_sae(tmp_path / "saes" / "mine")
    result = run([*EMX, "run", "experiments/mine.emx"], cwd=tmp_path)
    stages = yaml.safe_load((tmp_path / "dvc.yaml").read_text())["stages"]
    assert ran_stages(result.stdout) == set(stages)
    sae_stage = stages["sae-mine"]
    assert "saes/mine" in sae_stage["deps"]  # a new SAE in the folder reruns it
    assert not any(n.startswith("acts-corpus") for n in stages)  # nothing trained
    params = Source(tmp_path).params()["stages"]
    assert params["sae-mine"]["config"]["layer"] == 1  # read from the folder's cfg.json
    info = json.loads((tmp_path / params["sae-mine"]["out"] / "info.json").read_text())
    assert info["layer"] == 1 and info["mean_norm"] > 0
    diff = json.loads((tmp_path / "results" / "diff-mine" / "detail.json").read_text())
    assert len(diff["top"]) == 3 and all(isinstance(t["label"], str) for t in diff["top"])
    assert diff["tokens_counted"]["eval"] < diff["tokens"]["eval"]  # template left out
    steer = json.loads((tmp_path / "results" / "steer-tuned-mine" / "detail.json").read_text())
    assert steer["latents"] == [diff["top"][0]["id"]] and steer["layer"] == 1
    shown = run([*EMX, "show"], cwd=tmp_path).stdout
    label = diff["top"][0]["label"]
    assert f"{diff['top'][0]['id']} (" in shown and (not label or f"“{label[:10]}" in shown)
