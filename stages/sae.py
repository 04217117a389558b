"""SAE stage: a sparse autoencoder on the base model's cached residual stream, via sae-lens.

Architecture: sae-lens's ``TopKTrainingSAE`` (``arch: topk``, ``k`` latents active per token)
or ``StandardTrainingSAE`` (``arch: standard``, ReLU + L1), ``width`` latents, trained by
sae-lens's own ``SAETrainer`` on an iterator of shuffled [batch, d_model] activation batches.

Choices, and why:

* ``tokens`` is the number of training samples the SAE sees (sae-lens's
  ``total_training_samples``); the cache is cycled, reshuffled each pass, to reach it.
* Inputs are normalised to mean norm √d_model (sae-lens's ``expected_average_only_in``), so
  one learning rate suits every model; the factor is computed once over the whole training
  slice and folded into the weights when training ends, so the saved SAE reads raw
  activations. ``b_dec`` starts at the (scaled) mean activation: residual streams have a
  large shared offset that the decoder bias would otherwise take most of training to learn.
* Batch = tokens/256 rounded down to a power of two, clamped to [64, 4096]: a few hundred
  optimiser steps even for the small caches a laptop makes (200k tokens → 512).
* A held-out slice of *documents* (≈5% of tokens; tokens of one document are correlated, so
  splitting tokens would leak) is never trained on; metrics.json is computed on it, with the
  SAE reloaded from disk exactly as users load it.

Output: ``out`` is an sae-lens folder (``cfg.json`` + ``sae_weights.safetensors``;
``sae_lens.SAE.load_from_disk(out)`` loads it) plus ``info.json`` (layer, the residual's
mean norm that steering scales by, the split, the metrics). ``results/metrics.json``:
held-out FVU, L0, dead fraction.

``pretrained(release, id)`` and ``saved(path)`` (config ``type``) train nothing
(:func:`run_loaded`): the SAE is loaded by sae-lens (``SAE.from_pretrained(release, id)``
from the hub; ``SAE.load_from_disk`` for a project folder), its ``hook_name`` checked
against the layer and its ``d_in`` against the model's residual, and the same ``out`` is
written; ``acts`` is then a small corpus cache, for the mean norm and the FVU/L0 reported.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stages.common import (
    Stage,
    StageError,
    atomic_write_json,
    log,
    note_run,
    pause_point,
    project_root,
    run_stage,
    seed_everything,
)
from stages.lib.saes import SAE_INFO, load_sae

HOLDOUT = 0.05  # fraction of tokens (whole documents) held out for the metrics
L1_COEFFICIENT = 1.0  # arch=standard: the L1 weight (sae-lens default; inputs have norm √d)


def batch_size_for(tokens: int) -> int:
    """tokens/256 rounded down to a power of two, in [64, 4096]."""
    return int(min(4096, max(64, 2 ** math.floor(math.log2(max(tokens, 1) / 256 or 1)))))


def split_docs(doc: Any, holdout: float, seed: int) -> tuple[Any, Any]:
    """(train rows, held-out rows): whole documents, drawn by ``seed``, until ≈``holdout`` of
    the rows are held out (at least one document when there are two or more)."""
    import torch

    docs, counts = torch.unique(doc, return_counts=True)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(docs), generator=g)
    target = holdout * len(doc)
    held: list[int] = []
    total = 0
    for i in order.tolist():
        if len(held) >= len(docs) - 1 or (held and total >= target):
            break
        held.append(int(docs[i]))
        total += int(counts[i])
    mask = torch.isin(doc, torch.tensor(held, dtype=doc.dtype))
    return (~mask).nonzero().squeeze(-1), mask.nonzero().squeeze(-1)


def shuffled_batches(x: Any, batch: int, seed: int) -> Iterator[Any]:
    """Endless full batches [batch, d] of ``x``'s rows, reshuffled every pass."""
    import torch

    g = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - batch + 1, batch):
            yield x[perm[i:i + batch]]


def make_sae(arch: str, d_in: int, width: int, k: int, *, device: str, steps: int,
             metadata: dict[str, Any]) -> Any:
    """A fresh sae-lens training SAE of ``arch`` (topk or standard)."""
    from sae_lens import (
        StandardTrainingSAE,
        StandardTrainingSAEConfig,
        TopKTrainingSAE,
        TopKTrainingSAEConfig,
    )
    from sae_lens.saes.sae import SAEMetadata

    common = dict(d_in=d_in, d_sae=width, dtype="float32", device=device,
                  normalize_activations="expected_average_only_in",
                  metadata=SAEMetadata(**metadata))
    if arch == "topk":
        if not 0 < k <= width:
            raise StageError(f"sae: k={k} must be between 1 and width={width}")
        return TopKTrainingSAE(TopKTrainingSAEConfig(k=k, **common))
    if arch == "standard":
        return StandardTrainingSAE(StandardTrainingSAEConfig(
            l1_coefficient=L1_COEFFICIENT, l1_warm_up_steps=max(1, steps // 20), **common))
    raise StageError(f"sae: unknown arch {arch!r}; expected topk or standard")


def train_sae(x: Any, *, width: int, k: int, lr: float, tokens: int, arch: str = "topk",
              seed: int = 0, device: str = "cpu", metadata: dict[str, Any] | None = None,
              batch: int | None = None) -> tuple[Any, dict[str, Any]]:
    """Train an SAE on rows of ``x`` [n, d_in] (float32) for ``tokens`` samples.

    Returns the trained sae-lens TrainingSAE (normalisation folded in: it reads raw
    activations) and training facts (steps, batch, final losses); the same for the same
    inputs, so no durations (the stage notes those for the run record)."""
    import torch
    from sae_lens import SAETrainer
    from sae_lens.config import SAETrainerConfig

    seed_everything(seed)
    n, d_in = x.shape
    batch = min(batch or batch_size_for(tokens), n)
    steps = max(1, tokens // batch)
    warm_up = min(100, steps // 20)
    sae = make_sae(arch, d_in, width, k, device=device, steps=steps,
                   metadata=metadata or {})
    cfg = SAETrainerConfig(
        total_training_samples=steps * batch, train_batch_size_samples=batch, lr=lr, lr_end=lr / 10,
        device=device, dead_feature_window=max(10, min(1000, steps // 5)),
        feature_sampling_window=max(1, steps), lr_warm_up_steps=warm_up if warm_up >= 2 else 0,
        lr_decay_steps=steps // 5, n_checkpoints=0, save_final_checkpoint=False)
    trainer = SAETrainer(cfg=cfg, sae=sae, data_provider=shuffled_batches(x, batch, seed))
    # The scaling factor over the whole slice (not a batch estimate); fit() keeps a factor
    # already set and folds it into the weights at the end.
    scale = math.sqrt(d_in) / float(x.norm(dim=-1).mean())
    trainer.activation_scaler.scaling_factor = scale
    with torch.no_grad():
        sae.b_dec.copy_((x.mean(0) * scale).to(sae.b_dec))
    losses: list[float] = []
    step = trainer.step

    def logged_step(b: Any) -> Any:
        output = step(b)
        losses.append(float(output.losses["mse_loss"].detach()))
        pause_point("step")  # a no-op unless a kill test asks for it
        return output

    trainer.step = logged_step  # type: ignore[method-assign]
    sae = trainer.fit()
    tail = losses[-max(1, len(losses) // 10):]
    return sae, {"steps": steps, "batch": batch, "samples": steps * batch,
                 "epochs": round(steps * batch / n, 3), "scaling_factor": scale,
                 "final_mse_normalised": sum(tail) / len(tail),
                 "dead_in_training": int(trainer.dead_neurons.sum())}


def evaluate(sae: Any, x: Any, batch: int = 4096) -> dict[str, Any]:
    """Reconstruction and sparsity of an inference SAE on rows of ``x`` [n, d_in].

    FVU = Σ‖x − x̂‖² / Σ‖x − mean(x)‖²; L0 = mean active latents per token; dead = latents
    that never fire on these rows.
    """
    import torch

    device = next(sae.parameters()).device
    mean = x.mean(0)  # [d_in]
    sq_err = sq_dev = l0 = 0.0
    fired = torch.zeros(sae.cfg.d_sae, dtype=torch.bool)
    sae.eval()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].to(device)  # [b, d_in]
            feats = sae.encode(xb)  # [b, d_sae]
            recon = sae.decode(feats)  # [b, d_in]
            sq_err += float((recon - xb).pow(2).sum())
            sq_dev += float((xb - mean.to(device)).pow(2).sum())
            active = feats > 0
            l0 += float(active.sum())
            fired |= active.any(0).cpu()
    fvu = sq_err / sq_dev if sq_dev > 0 else None
    return {"fvu": fvu, "explained_variance": None if fvu is None else 1 - fvu,
            "mse": sq_err / max(len(x), 1) / x.shape[1], "l0": l0 / max(len(x), 1),
            "dead_fraction": float((~fired).float().mean()), "n_tokens": len(x)}


def sort_json_keys(path: Path) -> None:
    """Rewrite sae-lens's config with sorted keys: it writes them in an order that follows
    PYTHONHASHSEED (a set inside), so the same SAE would get other bytes in another process."""
    if path.is_file():
        atomic_write_json(path, json.loads(path.read_text(encoding="utf-8")))


def run_loaded(stage: Stage, out: Path, results: Path | None) -> None:
    """``pretrained(release, id)`` or ``saved(path)``: load the SAE (sae-lens's loaders),
    check it reads this layer of this model, and write the folder a trained SAE writes, with
    the residual's norm and the SAE's reconstruction measured on the small corpus cache."""
    from emdsl.saelens_registry import parse_hook
    from stages.lib.activations import load_acts, read_info
    from stages.lib.device import pick_device
    from stages.lib.saes import fetch_pretrained, hook_name

    cfg = stage.config
    layer = int(cfg["layer"])
    device = pick_device(cfg.get("device", "auto"))
    if cfg["type"] == "pretrained":
        source = {"type": "pretrained", "release": cfg["release"], "id": cfg["id"]}
        log(stage, f"loading pretrained SAE {cfg['id']!r} of {cfg['release']!r} from the hub")
        sae = fetch_pretrained(cfg["release"], cfg["id"], device)
    else:
        folder = project_root() / cfg["path"]
        source = {"type": "saved", "path": cfg["path"]}
        log(stage, f"loading the sae-lens SAE in {cfg['path']}")
        sae = load_sae(folder, device)
    hook = hook_name(sae)
    read = parse_hook(hook).layer if hook else None
    if read is not None and read != layer:
        raise StageError(f"sae: the SAE reads {hook} (layer {read}), but its config says "
                         f"layer {layer}; re-run `emx compile`")
    acts_dir = stage.input("acts")
    info = read_info(acts_dir)
    if int(info["layer"]) != layer:
        raise StageError(f"sae: layer {layer} but the activation cache {acts_dir} is of layer "
                         f"{info['layer']}; re-run `emx compile`")
    x = load_acts(acts_dir)  # [n, d_model] float32
    d_in = int(sae.cfg.d_in)
    if d_in != int(x.shape[1]):
        raise StageError(f"sae: the SAE reads {d_in}-dimensional activations, but the base "
                         f"model's residual at layer {layer} has {int(x.shape[1])}: it was "
                         "trained on another model")
    sae.save_model(str(out))
    sort_json_keys(out / "cfg.json")
    sae = load_sae(out, device)  # evaluate what diff and steer will load
    held = evaluate(sae, x)
    metrics = {"source": source, "hook_name": hook, "heldout": held, "fvu": held["fvu"],
               "l0": held["l0"], "dead_fraction": held["dead_fraction"],
               "width": int(sae.cfg.d_sae), "layer": layer, "d_in": d_in,
               "measured_on": f"{len(x)} corpus tokens of the base model"}
    if cfg["type"] == "pretrained":
        from emdsl.saelens_registry import neuronpedia_url

        metrics["neuronpedia"] = neuronpedia_url(cfg["release"], cfg["id"])
    atomic_write_json(out / SAE_INFO, {"layer": layer, "d_in": d_in,
                                       "mean_norm": info["mean_norm"],
                                       "median_norm": info.get("median_norm"),
                                       "acts": str(acts_dir), "metrics": metrics,
                                       "neuronpedia": metrics.get("neuronpedia")})
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
    log(stage, f"{hook or 'SAE'}: width {sae.cfg.d_sae}, FVU {held['fvu']:.3f} and L0 "
               f"{held['l0']:.1f} on {len(x)} corpus tokens")


def run(stage: Stage, out: Path, results: Path | None) -> None:
    from stages.lib.activations import load_acts, read_info, read_tokens
    from stages.lib.device import pick_device

    cfg = stage.config
    if cfg.get("type") in ("pretrained", "saved"):
        run_loaded(stage, out, results)
        return
    acts_dir = stage.input("acts")
    info = read_info(acts_dir)
    layer = int(cfg["layer"])
    if int(info["layer"]) != layer:
        raise StageError(f"sae: layer {layer} but the activation cache {acts_dir} is of layer "
                         f"{info['layer']}; re-run `emx compile`")
    x = load_acts(acts_dir)  # [n, d_model] float32
    doc = read_tokens(acts_dir).get_column("doc").to_torch().long()
    seed = int(cfg.get("seed", 0))
    train_rows, held_rows = split_docs(doc, HOLDOUT, seed)
    if len(held_rows) == 0 or len(train_rows) == 0:
        raise StageError(f"sae: {acts_dir} has {int(doc.unique().numel())} document(s); "
                         "need at least two to hold one out")
    device = pick_device(cfg.get("device", "auto"))
    model = info.get("model")
    if isinstance(model, dict):  # a model stage's description: name the model it came from
        model = (model.get("source") or {}).get("name") or model.get("architecture")
    metadata = {"hook_name": f"blocks.{layer}.hook_resid_post", "model_name": model}
    log(stage, f"{cfg.get('arch', 'topk')} SAE, width {cfg['width']}, k {cfg['k']}, on "
               f"{len(train_rows)} tokens ({len(held_rows)} held out), {cfg['tokens']} "
               f"samples on {device}")
    start = time.perf_counter()
    trained, facts = train_sae(x[train_rows], width=int(cfg["width"]), k=int(cfg["k"]),
                               lr=float(cfg["lr"]), tokens=int(cfg["tokens"]),
                               arch=cfg.get("arch", "topk"), seed=seed, device=device,
                               metadata=metadata)
    seconds = time.perf_counter() - start
    note_run(train_seconds=round(seconds, 3))  # the run record, not metrics.json
    trained.save_inference_model(str(out))
    sort_json_keys(out / "cfg.json")
    sae = load_sae(out, device)  # evaluate what users will load
    held = evaluate(sae, x[held_rows])
    train_probe = evaluate(sae, x[train_rows[:len(held_rows)]])
    metrics = {
        "heldout": held, "train_sample": {k: train_probe[k] for k in ("fvu", "l0")},
        "fvu": held["fvu"], "l0": held["l0"], "dead_fraction": held["dead_fraction"],
        "arch": cfg.get("arch", "topk"), "width": int(cfg["width"]), "k": int(cfg["k"]),
        "layer": layer, "d_in": int(x.shape[1]), "train_tokens": len(train_rows),
        "heldout_tokens": len(held_rows), **{f"train_{k}": v for k, v in facts.items()},
    }
    atomic_write_json(out / SAE_INFO, {"layer": layer, "d_in": int(x.shape[1]),
                                       "mean_norm": info["mean_norm"],
                                       "median_norm": info.get("median_norm"),
                                       "acts": str(acts_dir), "metrics": metrics})
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
    log(stage, f"held-out FVU {held['fvu']:.3f}, L0 {held['l0']:.1f}, dead "
               f"{held['dead_fraction']:.1%} ({facts['steps']} steps, {seconds:.0f}s)")


if __name__ == "__main__":
    raise SystemExit(run_stage("sae", run))
