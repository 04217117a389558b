"""``saved(path)`` and ``pretrained(release, id)`` SAEs at run time: the sae stage loads them
with sae-lens's loaders and writes the folder a trained SAE writes, so a diff on a saved copy
of a trained SAE gives exactly the diff on the trained one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from stages import diff as diff_stage
from stages import sae as sae_stage
from stages.acts import Doc, write_acts
from stages.common import run_stage
from stages.lib.activations import Captured

D, LAYER, N_DOCS, PER_DOC = 16, 3, 60, 10


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def caches(root: Path) -> None:
    """A corpus cache, and base/tuned caches of the same tokens (tuned pushed along one
    random direction on later positions)."""
    import torch

    g = torch.Generator().manual_seed(0)
    n = N_DOCS * PER_DOC
    doc = torch.arange(N_DOCS).repeat_interleave(PER_DOC)
    pos = torch.arange(1, PER_DOC + 1).repeat(N_DOCS)
    token = torch.arange(n) % 30
    docs = [Doc(list(range(PER_DOC + 1)), None, {"i": i}) for i in range(N_DOCS)]
    corpus = 2.0 + torch.randn(n, D, generator=g)
    write_acts(root / "artifacts/acts/corpus", Captured(corpus, doc, pos, token), docs,
               layer=LAYER)
    base = 2.0 + torch.randn(n, D, generator=g)
    push = torch.nn.functional.normalize(torch.randn(D, generator=g), dim=0) * 3
    tuned = base + (pos > PER_DOC // 2).float()[:, None] * push
    for who, x in (("base", base), ("tuned", tuned)):
        write_acts(root / f"artifacts/acts/eval-{who}", Captured(x, doc, pos, token), docs,
                   layer=LAYER)


def write_params(root: Path, stages: dict) -> None:
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": stages}))


def sae_entry(key: str, config: dict) -> dict:
    return {"kind": "sae", "key": key, "out": f"artifacts/sae/{key}",
            "results": f"results/sae-{key}", "inputs": {"acts": "artifacts/acts/corpus"},
            "config": config}


def diff_entry(key: str, sae_key: str) -> dict:
    return {"kind": "diff", "key": key, "out": f"artifacts/diff/{key}",
            "results": f"results/diff-{key}",
            "inputs": {"sae": f"artifacts/sae/{sae_key}", "base_eval": "artifacts/acts/eval-base",
                       "tuned_eval": "artifacts/acts/eval-tuned"},
            "config": {"type": "diff", "top": 5, "on": ["eval"]}}


TRAINED = {"type": "sae", "layer": LAYER, "width": 32, "k": 4, "tokens": 6400, "lr": 4e-3,
           "arch": "topk", "seed": 0}


def train(root: Path, monkeypatch) -> Path:
    caches(root)
    monkeypatch.chdir(root)
    write_params(root, {"sae-trained": sae_entry("trained", TRAINED)})
    assert run_stage("sae", sae_stage.run, ["sae-trained"]) == 0
    return root / "artifacts/sae/trained"


def test_saved_round_trips_a_trained_sae(tmp_path, monkeypatch):
    """A trained SAE's folder, loaded back with ``saved(path)``: same weights, same info
    (layer, the residual norm steering scales by), and a diff on it identical to the diff on
    the trained SAE, latent for latent."""
    import polars as pl
    from safetensors.torch import load_file

    trained = train(tmp_path, monkeypatch)
    shutil.copytree(trained, tmp_path / "saes/mine")
    saved = {"type": "saved", "path": "saes/mine", "layer": LAYER}
    write_params(tmp_path, {"sae-saved": sae_entry("saved", saved),
                            "diff-trained": diff_entry("dt", "trained"),
                            "diff-saved": diff_entry("ds", "saved")})
    assert run_stage("sae", sae_stage.run, ["sae-saved"]) == 0
    out = tmp_path / "artifacts/sae/saved"
    a, b = (load_file(str(p / "sae_weights.safetensors")) for p in (trained, out))
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    info_t, info_s = (json.loads((p / "info.json").read_text()) for p in (trained, out))
    assert info_s["layer"] == info_t["layer"] == LAYER
    assert info_s["mean_norm"] == info_t["mean_norm"]
    metrics = json.loads((tmp_path / "results/sae-saved/detail.json").read_text())
    assert metrics["source"] == {"type": "saved", "path": "saes/mine"}
    assert metrics["hook_name"] == f"blocks.{LAYER}.hook_resid_post"
    assert metrics["fvu"] < 1.0  # it reconstructs the corpus better than the mean does
    for name in ("diff-trained", "diff-saved"):
        assert run_stage("diff", diff_stage.run, [name]) == 0
    for f in ("latents.parquet", "top.parquet"):
        assert pl.read_parquet(tmp_path / f"artifacts/diff/dt/{f}").equals(
            pl.read_parquet(tmp_path / f"artifacts/diff/ds/{f}"))
    top = pl.read_parquet(tmp_path / "artifacts/diff/ds/top.parquet")
    assert top["score"][0] > 0  # the push moved something: the comparison is not vacuous


def test_pretrained_loads_through_sae_lens(tmp_path, monkeypatch):
    """``pretrained(release, id)`` calls sae-lens's ``SAE.from_pretrained(release, id)`` (the
    hub download replaced by a local folder here: this machine is offline), checks the SAE's
    hook against the layer, and refuses an SAE of another width of residual."""
    from sae_lens import SAE

    trained = train(tmp_path, monkeypatch)
    calls = []

    def from_pretrained(cls, release, sae_id, device="cpu", **kw):
        calls.append((release, sae_id))
        return SAE.load_from_disk(str(trained), device=device)

    monkeypatch.setattr(SAE, "from_pretrained", classmethod(from_pretrained))
    cfg = {"type": "pretrained", "release": "rel", "id": "sid", "layer": LAYER}
    write_params(tmp_path, {"sae-p": sae_entry("p", cfg),
                            "sae-wrong": sae_entry("w", {**cfg, "layer": LAYER + 1})})
    assert run_stage("sae", sae_stage.run, ["sae-p"]) == 0
    assert calls == [("rel", "sid")]
    assert SAE.load_from_disk(str(tmp_path / "artifacts/sae/p")).cfg.d_in == D
    info = json.loads((tmp_path / "artifacts/sae/p/info.json").read_text())
    assert info["layer"] == LAYER and info["mean_norm"] > 0
    # The SAE says it reads layer 3; a config of layer 4 is refused.
    assert run_stage("sae", sae_stage.run, ["sae-wrong"]) == 1
