"""Monitor stage: where a model's activations on the eval prompts lie along directions/latents.

For every eval prompt (the eval's questions and paraphrases, chat-templated up to the
assistant's turn, as generate asks them), the residual of the model being monitored (input
``adapter`` applied, if any) at the prompt's last token (where the answer starts) is:

* projected on each direction's unit vector, at that direction's layer (``direction_<i>``
  inputs, labelled ``config.labels``);
* encoded by the SAE (input ``sae``) at its layer, for each monitored latent (ids, the diff's
  ``top(k)`` or ``random(k)``): the latent's activation.

Per signal: the mean over prompts and a 95% percentile bootstrap interval (1000 resamples of
prompts, seed 0). Outputs: ``out/projections.parquet`` (one row per prompt: question_id,
paraphrase_index and one column per signal; the detector's input), ``results/metrics.json``
(target, per signal: name, kind, layer, mean, ci95, n) and ``results/monitor.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.common import (
    Stage,
    StageError,
    atomic_write_json,
    atomic_write_text,
    csv_text,
    log,
    run_stage,
)

CSV_COLUMNS = ["signal", "kind", "layer", "mean", "ci_low", "ci_high", "n", "target"]
RESAMPLES = 1000


def mean_interval(values: Any, resamples: int = RESAMPLES, seed: int = 0
                  ) -> tuple[float | None, list[float] | None]:
    """(mean, 95% percentile bootstrap interval over the values) of a 1-D array."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return None, None
    rng = np.random.default_rng(seed)
    boots = values[rng.integers(0, len(values), (resamples, len(values)))].mean(1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(values.mean()), [float(lo), float(hi)]


def run(stage: Stage, out: Path, results: Path | None) -> None:
    import polars as pl

    from stages.lib.device import pick_device
    from stages.lib.directions import last_token_acts, load_direction
    from stages.lib.evaluation import eval_prompts
    from stages.lib.models import load_model, load_tokenizer
    from stages.lib.questions import load_questions
    from stages.lib.sampling.core import encode_prompts

    cfg = stage.config
    monitor = cfg["monitor"]
    device = pick_device(cfg.get("device", "auto"))
    keys, chats = eval_prompts(load_questions(cfg["questions"]), cfg.get("paraphrases"))
    names = list(cfg.get("labels") or [])
    found = [load_direction(stage.inputs[f"direction_{i}"]) for i in range(len(names))]
    model_dir = stage.input("model")
    tokenizer = load_tokenizer(model_dir)
    model = load_model(model_dir, stage.inputs.get("adapter"), device=device)
    docs = encode_prompts(tokenizer, chats)
    acts: dict[int, Any] = {}

    def at(layer: int) -> Any:
        if layer not in acts:
            acts[layer] = last_token_acts(model, tokenizer, docs, layer)
        return acts[layer]

    columns: dict[str, Any] = {"question_id": [q.id for q, _ in keys],
                               "paraphrase_index": [i for _, i in keys]}
    meta: list[dict[str, Any]] = []
    for name, d in zip(names, found, strict=True):
        columns[name] = (at(d.layer) @ d.vector).tolist()
        meta.append({"name": name, "kind": "direction", "layer": d.layer})
    if monitor.get("latents") is not None:
        import torch

        from stages.lib.latents import latent_ids
        from stages.lib.saes import load_sae, read_sae_info

        sae_dir = stage.input("sae")
        layer = int(read_sae_info(sae_dir)["layer"])
        sae = load_sae(sae_dir, device)
        ids = latent_ids(monitor["latents"], stage.inputs.get("diff"), int(sae.cfg.d_sae))
        with torch.no_grad():
            feats = sae.encode(at(layer).to(sae.W_dec.device, torch.float32)).float().cpu()
        for i in ids:
            name = f"latent {i}"
            columns[name] = feats[:, i].tolist()
            meta.append({"name": name, "kind": "latent", "layer": layer, "id": i})
    if not meta:
        raise StageError("monitor: nothing to monitor (no directions, no latents); re-run "
                         "`emx compile`")
    pl.DataFrame(columns).write_parquet(out / "projections.parquet")
    rows = []
    for m in meta:
        mean, ci = mean_interval(columns[m["name"]])
        m.update(mean=mean, ci95=ci, n=len(keys))
        rows.append({"signal": m["name"], "kind": m["kind"], "layer": m["layer"], "mean": mean,
                     "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                     "n": len(keys), "target": cfg.get("target")})
    metrics = {"target": cfg.get("target"), "position": "last prompt token",
               "interval": f"95% percentile bootstrap over prompts ({RESAMPLES} resamples)",
               "signals": meta}
    atomic_write_json(out / "info.json", metrics)
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
        atomic_write_text(results / "monitor.csv", csv_text(rows, CSV_COLUMNS))
    log(stage, ", ".join(f"{m['name']} {m['mean']:.4g}" for m in meta))


if __name__ == "__main__":
    raise SystemExit(run_stage("monitor", run))
