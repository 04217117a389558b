"""The sae stage on a structured synthetic signal: trains through sae-lens, reloads with
``sae_lens.SAE.load_from_disk``, and reconstructs held-out tokens far better than their mean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stages import sae as sae_stage
from stages.acts import Doc, write_acts
from stages.common import run_stage
from stages.lib.activations import Captured

D, FEATURES, ACTIVE = 32, 48, 3


def synthetic(n_docs: int = 300, per_doc: int = 20, seed: int = 0) -> Captured:
    """Each token: an offset plus 3 of 48 fixed directions with positive weights, plus noise."""
    import torch

    g = torch.Generator().manual_seed(seed)
    dirs = torch.nn.functional.normalize(torch.randn(FEATURES, D, generator=g), dim=-1) * 4
    n = n_docs * per_doc
    which = torch.stack([torch.randperm(FEATURES, generator=g)[:ACTIVE] for _ in range(n)])
    weight = torch.rand(n, ACTIVE, generator=g) + 0.5
    x = 3.0 + (weight[..., None] * dirs[which]).sum(1) + 0.05 * torch.randn(n, D, generator=g)
    doc = torch.arange(n_docs).repeat_interleave(per_doc)
    pos = torch.arange(1, per_doc + 1).repeat(n_docs)
    return Captured(x, doc, pos, torch.zeros(n, dtype=torch.long))


def write_project(root: Path, config: dict) -> Path:
    got = synthetic()
    docs = [Doc(list(range(21))) for _ in range(300)]
    write_acts(root / "artifacts/acts/c1", got, docs, layer=3)
    entry = {"kind": "sae", "key": "s1", "out": "artifacts/sae/s1", "results": "results/sae-x",
             "inputs": {"acts": "artifacts/acts/c1"}, "config": config}
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"sae-x": entry}}))
    return root / "artifacts/sae/s1"


CONFIG = {"type": "sae", "layer": 3, "width": 64, "k": 4, "tokens": 25600, "lr": 4e-3,
          "arch": "topk", "seed": 0}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny matrices: two threads on a shared two-core machine are 10-40x slower than one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_topk_sae_trains_reloads_and_reconstructs_heldout(tmp_path, monkeypatch):
    import torch
    from sae_lens import SAE, TopKSAE

    out = write_project(tmp_path, CONFIG)
    monkeypatch.chdir(tmp_path)
    assert run_stage("sae", sae_stage.run, ["sae-x"]) == 0
    metrics = json.loads((tmp_path / "results/sae-x/detail.json").read_text())
    assert metrics["heldout_tokens"] + metrics["train_tokens"] == 6000
    assert 0.03 < metrics["heldout_tokens"] / 6000 < 0.08
    assert metrics["fvu"] < 0.3, metrics  # the mean alone gives FVU = 1
    assert metrics["l0"] == pytest.approx(4, abs=0.01)  # TopK: exactly k (ties aside)
    assert 0 <= metrics["dead_fraction"] < 0.5
    assert (metrics["train_batch"], metrics["train_steps"]) == (64, 400)  # 25600/256 → 64

    assert "train_seconds" not in metrics  # durations: the run record only
    cfg_text = (out / "cfg.json").read_text()  # sae-lens writes it in set order: sorted here
    assert cfg_text == json.dumps(json.loads(cfg_text), indent=2, sort_keys=True) + "\n"
    sae = SAE.load_from_disk(str(out))
    assert isinstance(sae, TopKSAE) and sae.cfg.d_in == D and sae.cfg.d_sae == 64
    assert sae.cfg.normalize_activations == "none"  # the scaling is folded into the weights
    info = json.loads((out / "info.json").read_text())
    assert info["layer"] == 3 and info["mean_norm"] > 0
    # the held-out FVU is reproducible from the reloaded SAE on those rows
    x = synthetic().acts
    with torch.no_grad():
        recon = sae.decode(sae.encode(x))
    fvu_all = float((recon - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum())
    assert fvu_all == pytest.approx(metrics["fvu"], abs=0.05)
    assert torch.isfinite(recon).all()


def test_split_keeps_documents_whole():
    import torch

    doc = torch.arange(100).repeat_interleave(7)
    train, held = sae_stage.split_docs(doc, 0.05, seed=0)
    assert len(train) + len(held) == 700
    assert not set(doc[train].tolist()) & set(doc[held].tolist())
    assert 35 <= len(held) <= 42
    again = sae_stage.split_docs(doc, 0.05, seed=0)[1]
    assert torch.equal(held, again)
    assert not torch.equal(held, sae_stage.split_docs(doc, 0.05, seed=1)[1])


def test_standard_arch_and_batch_rule(tmp_path, monkeypatch):
    from sae_lens import SAE, StandardSAE

    out = write_project(tmp_path, {**CONFIG, "arch": "standard", "tokens": 12800})
    monkeypatch.chdir(tmp_path)
    assert run_stage("sae", sae_stage.run, ["sae-x"]) == 0
    assert isinstance(SAE.load_from_disk(str(out)), StandardSAE)
    metrics = json.loads((tmp_path / "results/sae-x/detail.json").read_text())
    assert metrics["fvu"] < 1 and metrics["arch"] == "standard"
    assert sae_stage.batch_size_for(200_000) == 512
    assert sae_stage.batch_size_for(1000) == 64 and sae_stage.batch_size_for(10**9) == 4096


def test_layer_mismatch_is_an_error(tmp_path, monkeypatch):
    write_project(tmp_path, {**CONFIG, "layer": 5})
    monkeypatch.chdir(tmp_path)
    assert run_stage("sae", sae_stage.run, ["sae-x"]) == 1
