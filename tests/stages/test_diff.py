"""The diff stage on a planted case: the tuned activations push one latent's encoder
direction, and that latent ranks first, with its statistics, examples and per-token codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stages import diff
from stages.acts import Doc, write_acts
from stages.common import run_stage
from stages.lib import sae_codes
from stages.lib.activations import Captured

D, WIDTH, PLANTED = 16, 32, 7
N_DOCS, PER_DOC = 40, 12


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_sae(path: Path):
    """A random inference TopK SAE saved in sae-lens format."""
    import torch
    from sae_lens import TopKSAE, TopKSAEConfig

    torch.manual_seed(0)
    sae = TopKSAE(TopKSAEConfig(d_in=D, d_sae=WIDTH, k=4))
    with torch.no_grad():
        sae.W_enc.copy_(torch.nn.functional.normalize(torch.randn(D, WIDTH), dim=0))
        sae.W_dec.copy_(sae.W_enc.T)
        sae.b_enc.zero_()
    sae.save_model(str(path))
    return sae


def write_pair(root: Path, name: str, sae, push: float, seed: int):
    """Base and tuned caches of the same tokens; tuned = base + push · (latent's encoder
    direction) on the second half of each document only."""
    import torch

    g = torch.Generator().manual_seed(seed)
    n = N_DOCS * PER_DOC
    base = torch.randn(n, D, generator=g)
    doc = torch.arange(N_DOCS).repeat_interleave(PER_DOC)
    pos = torch.arange(1, PER_DOC + 1).repeat(N_DOCS)
    token = torch.arange(n) % 50
    direction = sae.W_enc[:, PLANTED].detach()
    tuned = base + push * (pos > PER_DOC // 2).float()[:, None] * direction
    docs = [Doc(list(range(PER_DOC + 1)), None, {"i": i}) for i in range(N_DOCS)]
    for who, x in (("base", base), ("tuned", tuned)):
        write_acts(root / f"artifacts/acts/{name}-{who}", Captured(x, doc, pos, token), docs,
                   layer=2)


def project(root: Path, on: list[str], top: int = 5) -> Path:
    sae = make_sae(root / "artifacts/sae/s1")
    inputs = {"sae": "artifacts/sae/s1"}
    for i, s in enumerate(on):
        write_pair(root, s, sae, push=4.0, seed=i)
        inputs |= {f"base_{s}": f"artifacts/acts/{s}-base",
                   f"tuned_{s}": f"artifacts/acts/{s}-tuned"}
    entry = {"kind": "diff", "key": "d1", "out": "artifacts/diff/d1",
             "results": "results/diff-x", "inputs": inputs,
             "config": {"type": "diff", "top": top, "on": on}}
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"diff-x": entry}}))
    return root / "artifacts/diff/d1"


def test_planted_latent_ranks_first(tmp_path, monkeypatch):
    import polars as pl
    import torch

    out = project(tmp_path, ["eval", "train"])
    monkeypatch.chdir(tmp_path)
    assert run_stage("diff", diff.run, ["diff-x"]) == 0

    latents = pl.read_parquet(out / "latents.parquet")
    assert latents.height == 2 * WIDTH
    assert set(latents.columns) == {"id", "source", "base_mean", "tuned_mean", "base_freq",
                                    "tuned_freq", "delta"}
    top = pl.read_parquet(out / "top.parquet")
    assert top["rank"].to_list() == [1, 2, 3, 4, 5]
    assert top["id"][0] == PLANTED
    assert top["delta_eval"][0] > 0 and top["tuned_freq_eval"][0] > top["base_freq_eval"][0]
    # score is the mean of the per-source deltas, and ranks in descending order
    assert top["score"][0] == pytest.approx((top["delta_eval"][0] + top["delta_train"][0]) / 2)
    assert top["score"].to_list() == sorted(top["score"].to_list(), reverse=True)
    # the stored means are what the SAE gives on the caches
    from sae_lens import SAE

    from stages.lib.activations import load_acts

    sae = SAE.load_from_disk(str(tmp_path / "artifacts/sae/s1"))
    with torch.no_grad():
        feats = sae.encode(load_acts(tmp_path / "artifacts/acts/eval-tuned"))
    row = latents.filter((pl.col("source") == "eval") & (pl.col("id") == PLANTED))
    assert row["tuned_mean"][0] == pytest.approx(float(feats[:, PLANTED].mean()), rel=1e-4)
    assert row["tuned_freq"][0] == pytest.approx(float((feats[:, PLANTED] > 0).float().mean()))

    # per-token codes reproduce the dense activation of any latent
    act, doc, source = sae_codes.latent_activation(out, PLANTED)
    assert source == "eval" and len(act) == len(doc) == N_DOCS * PER_DOC
    torch.testing.assert_close(act, feats[:, PLANTED])

    # examples: the strongest activations, one per document, the token marked, in the
    # pushed second half of a document
    examples = json.loads((out / "examples.json").read_text())[str(PLANTED)]["eval"]
    assert len(examples) == diff.EXAMPLES
    assert len({e["doc"] for e in examples}) == diff.EXAMPLES
    assert [e["activation"] for e in examples] == sorted(
        (e["activation"] for e in examples), reverse=True)
    assert examples[0]["activation"] == pytest.approx(float(feats[:, PLANTED].max()), rel=1e-5)
    assert all(e["pos"] > PER_DOC // 2 for e in examples)
    assert f"«{examples[0]['pos']}»" in examples[0]["text"]  # token texts are ids here

    metrics = json.loads((tmp_path / "results/diff-x/detail.json").read_text())
    assert metrics["top"][0]["id"] == PLANTED and "tuned_mean" in metrics["rank_by"]
    assert metrics["moved"] is True and metrics["against"] == "base"
    assert metrics["tokens"] == {"eval": N_DOCS * PER_DOC, "train": N_DOCS * PER_DOC}


def test_without_the_push_nothing_stands_out(tmp_path, monkeypatch):
    """Control: with identical base and tuned caches every delta is zero."""
    import polars as pl

    out = project(tmp_path, ["eval"])
    monkeypatch.chdir(tmp_path)
    sae = make_sae(tmp_path / "artifacts/sae/s1")
    write_pair(tmp_path, "eval", sae, push=0.0, seed=0)
    assert run_stage("diff", diff.run, ["diff-x"]) == 0
    assert pl.read_parquet(out / "latents.parquet")["delta"].abs().max() == 0
    metrics = json.loads((tmp_path / "results/diff-x/detail.json").read_text())
    assert metrics["moved"] is False  # said, so nobody steers an arbitrary "top" latent


def test_mismatched_tokens_are_an_error(tmp_path, monkeypatch):
    import torch

    project(tmp_path, ["eval"])
    other = tmp_path / "artifacts/acts/eval-tuned"
    x = torch.randn(5, D)
    write_acts(other, Captured(x, torch.zeros(5, dtype=torch.long), torch.arange(1, 6),
                               torch.arange(5)), [Doc(list(range(6)))], layer=2)
    monkeypatch.chdir(tmp_path)
    assert run_stage("diff", diff.run, ["diff-x"]) == 1


def test_snippet_marks_the_token():
    texts = [f"t{i} " for i in range(40)]
    s = diff.snippet(texts, 20, before=2, after=1)
    assert s == "…t18 t19 «t20 »t21 …"
    assert diff.snippet(texts, 0, before=2, after=1) == "«t0 »t1 …"
