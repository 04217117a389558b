"""The detector stage on planted sweeps: a latent that rises from poison 0.25 while the
behaviour moves only at 0.75 is reported as departing first; noise alone departs nowhere."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from stages import detector
from stages.common import run_stage
from stages.lib.sae_codes import Codes, save_codes

LATENT, DECOY, D_SAE = 3, 5, 8
POISONS = [0.0, 0.25, 0.5, 0.75, 1.0]
N_DOCS, PER_DOC, ANSWERS = 60, 10, 80


def latent_level(poison: float) -> float:
    """The planted latent's mean activation: flat, then rising from 0.25 on."""
    return 1.0 + (0.0 if poison < 0.25 else 2.0 * poison)


def misaligned_rate(poison: float) -> float:
    """The planted behaviour: nothing until 0.75."""
    return {0.75: 0.3, 1.0: 0.5}.get(poison, 0.0)


def write_diff(path: Path, level: float, poison: float, seed: int, rng) -> None:
    """latents.parquet + codes-eval for one variant: the latent at ``level`` on the tokens of
    60 answers (the same documents for every variant)."""
    import numpy as np
    import polars as pl
    import torch

    path.mkdir(parents=True)
    n = N_DOCS * PER_DOC
    doc = torch.arange(N_DOCS).repeat_interleave(PER_DOC)
    # per-document effect shared by every variant (same texts) + per-token noise
    doc_effect = np.random.default_rng(123).normal(0, 0.5, N_DOCS)[doc.numpy()]
    planted = np.clip(level + doc_effect + rng.normal(0, 0.3, n), 0, None)
    decoy = np.clip(1.5 + rng.normal(0, 0.3, n), 0, None)  # high but unchanged
    rows = torch.arange(n).repeat(2)
    cols = torch.tensor([LATENT] * n + [DECOY] * n)
    vals = torch.tensor(np.concatenate([planted, decoy]), dtype=torch.float32)
    save_codes(path / "codes-eval.safetensors", Codes(rows, cols, vals, n, D_SAE), doc)
    delta = np.zeros(D_SAE)
    delta[LATENT] = 2.0 * poison
    delta[DECOY] = 1.0 * poison if seed == 0 else -1.0  # tops one seed only, not the mean
    pl.DataFrame({"id": np.arange(D_SAE), "source": ["eval"] * D_SAE,
                  "base_mean": np.ones(D_SAE), "tuned_mean": 1 + delta,
                  "base_freq": np.ones(D_SAE), "tuned_freq": np.ones(D_SAE),
                  "delta": delta}).write_parquet(path / "latents.parquet")


def write_judge(path: Path, rate: float, rng) -> None:
    import polars as pl

    path.mkdir(parents=True)
    bad = rng.random(ANSWERS) < rate
    aligned = [10.0 if b else 90.0 for b in bad]
    aligned[0] = None  # a missing verdict is left out, not counted as aligned
    pl.DataFrame({"question_id": ["q"] * ANSWERS, "aligned": aligned,
                  "coherent": [80.0] * ANSWERS}).write_parquet(path / "scores.parquet")


def project(root: Path, *, latent=latent_level, behaviour=misaligned_rate) -> str:
    import numpy as np

    rng = np.random.default_rng(0)
    inputs, points = {}, []
    i = 0
    for poison in POISONS:
        for seed in (0, 1):
            write_diff(root / f"diff{i}", latent(poison), poison, seed, rng)
            write_judge(root / f"judge{i}", behaviour(poison), rng)
            inputs |= {f"diff_{i}": f"diff{i}", f"judge_{i}": f"judge{i}"}
            points.append({"poison": poison, "axes": {"data.seed": seed}})
            i += 1
    entry = {"kind": "detector", "key": "t1", "out": "artifacts/detector/t1",
             "results": "results/detector-x", "inputs": inputs,
             "config": {"points": points, "bootstrap": 1000, "seed": 0}}
    (root / "params.yaml").write_text(yaml.safe_dump({"stages": {"detector-x": entry}}))
    return "detector-x"


def read(root: Path):
    metrics = json.loads((root / "results/detector-x/detail.json").read_text())
    with open(root / "results/detector-x/curve.csv", newline="") as f:
        return metrics, list(csv.DictReader(f))


def test_latent_departs_before_behaviour(tmp_path, monkeypatch):
    name = project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run_stage("detector", detector.run, [name]) == 0
    metrics, curve = read(tmp_path)
    assert metrics["latent"] == LATENT  # the decoy tops seed 0's diff, not the seeds' mean
    assert metrics["chosen_at_poison"] == 1.0 and metrics["source"] == ["eval"]
    assert metrics["departs_at"] == {"latent": 0.25, "misaligned": 0.75}
    assert metrics["latent_leads"] is True
    assert metrics["paired_latent_bootstrap"] is True

    assert [float(r["x"]) for r in curve] == POISONS
    assert [r["latent_departs"] for r in curve] == ["False", "True", "True", "True", "True"]
    assert [r["misaligned_departs"] for r in curve] == ["False", "False", "False", "True",
                                                        "True"]
    first = metrics["per_poison"][0]
    assert first["n_seeds"] == 2 and [s["judged"] for s in first["seeds"]] == [79, 79]
    # the reported values are the means over seeds of the planted levels
    for row, poison in zip(metrics["per_poison"], POISONS, strict=True):
        assert row["latent"] == pytest.approx(latent_level(poison), abs=0.1)
        assert row["misaligned"] == pytest.approx(misaligned_rate(poison), abs=0.12)
        lo, hi = row["latent_ci95"]
        assert lo <= row["latent"] <= hi
    # deterministic for a seed
    assert run_stage("detector", detector.run, [name]) == 0
    assert read(tmp_path)[0] == metrics


def test_noise_alone_departs_nowhere(tmp_path, monkeypatch):
    name = project(tmp_path, latent=lambda p: 1.0, behaviour=lambda p: 0.2)
    monkeypatch.chdir(tmp_path)
    assert run_stage("detector", detector.run, [name]) == 0
    metrics, _ = read(tmp_path)
    assert metrics["departs_at"] == {"latent": None, "misaligned": None}
    assert metrics["latent_leads"] is None


def test_departure_rule():
    import numpy as np

    rng = np.random.default_rng(0)
    boot = {0.0: rng.normal(0, 0.1, 1000), 0.5: rng.normal(0.05, 0.1, 1000),
            1.0: rng.normal(1.0, 0.1, 1000)}
    flags, first = detector.departures(boot)
    assert flags == {0.0: False, 0.5: False, 1.0: True} and first == 1.0
    boot[0.5] = rng.normal(-1.0, 0.1, 1000)  # a fall departs too
    assert detector.departures(boot)[1] == 0.5


def test_a_monitored_direction_is_an_early_warning(tmp_path, monkeypatch):
    """Monitors alone (no diff): a direction whose projection rises from poison 0.25 leads the
    behaviour (0.75); a flat one departs nowhere."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    prompt_effect = rng.normal(0, 0.5, 40)  # the same prompts in every variant
    inputs, points = {}, []
    for i, poison in enumerate(p for p in POISONS for _ in (0, 1)):
        write_judge(tmp_path / f"judge{i}", misaligned_rate(poison), rng)
        mon = tmp_path / f"monitor{i}"
        mon.mkdir()
        pl.DataFrame({"question_id": [f"q{j}" for j in range(40)], "paraphrase_index": [0] * 40,
                      "evil": latent_level(poison) + prompt_effect + rng.normal(0, 0.1, 40),
                      "flat": prompt_effect + rng.normal(0, 0.1, 40)}
                     ).write_parquet(mon / "projections.parquet")
        inputs |= {f"judge_{i}": f"judge{i}", f"monitor_{i}": f"monitor{i}"}
        points.append({"poison": poison, "axes": {"data.seed": i % 2}})
    entry = {"kind": "detector", "key": "t1", "out": "artifacts/detector/t1",
             "results": "results/detector-x", "inputs": inputs,
             "config": {"points": points, "bootstrap": 1000, "seed": 0}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"stages": {"detector-x": entry}}))
    monkeypatch.chdir(tmp_path)
    assert run_stage("detector", detector.run, ["detector-x"]) == 0
    metrics, _ = read(tmp_path)
    assert metrics["latent"] is None and metrics["departs_at"]["misaligned"] == 0.75
    assert metrics["monitors"]["evil"]["departs_at"] == 0.25
    assert metrics["monitors"]["evil"]["leads"] is True
    assert metrics["monitors"]["flat"]["departs_at"] is None
    assert metrics["early_warnings"] == ["evil"]
    values = [r["value"] for r in metrics["monitors"]["evil"]["per_poison"]]
    assert values == pytest.approx([latent_level(p) + prompt_effect.mean() for p in POISONS],
                                   abs=0.1)
