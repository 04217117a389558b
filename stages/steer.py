"""Steer stage: generate with an SAE latent's (or a direction's) vector added to the residual,
and judge.

For each coefficient c, every forward pass of generation adds

    c × mean_norm × v,    v = unit(Σ_i unit(W_dec[i]))  over the steered latents i

to the output of decoder layer ``layer`` at every position (prompt and generated tokens).
``mean_norm`` is the typical residual norm at that layer (the base model's corpus
activations, from the sae stage's info.json), so c is in units of "one typical residual":
|c| ≈ 1 already rivals the whole residual stream. Several latents share one unit direction,
so c means the same push whatever their number.

``target: base`` steers the base model (positive c should *induce* misalignment);
``target: tuned`` steers the fine-tuned one (negative c should *repair* it). Every coefficient
samples with the eval's seed, so the coefficient is the only difference between rows, and
c = 0 reproduces unsteered generation exactly (x + 0 is x in floating point).

With ``steer.directions`` (declared directions, inputs ``direction_<i>``) instead of
latents, v = unit(Σ_i d_i) over the directions' unit vectors (one layer), no SAE is read,
and ``mean_norm`` is the typical residual norm at that layer over the eval prompts' tokens
(the loaded model, unsteered), so a random direction of the same layer gets the same push.
The add is :func:`stages.lib.steering.added`, the hook preventative steering shares.

Answers are sampled and judged as a generate + judge pair of stages would
(:class:`stages.lib.judged_eval.Evaluation`: the same prompts, templates, scoring, metrics and
shared verdict cache). Outputs: ``out/answers.parquet``
(answers, scores and ``coef``), ``results/metrics.json`` (per coefficient: misaligned fraction
with its Wilson interval, coherent fraction, the steered latents' mean activation on the
generated tokens) and ``results/curve.csv`` (x = coefficient).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stages.common import (
    Stage,
    StageError,
    atomic_write_json,
    atomic_write_text,
    csv_text,
    log,
    note_run,
    run_stage,
    seed_everything,
)
from stages.lib.judged_eval import CURVE_COLUMNS, Evaluation, curve_row
from stages.lib.latents import latent_ids
from stages.lib.steering import added, unit_sum

# --------------------------------------------------------------------------- steering


def steering_direction(sae: Any, ids: list[int]) -> Any:
    """unit(Σ unit(W_dec[i])): [d_model] float32."""
    d_sae = int(sae.cfg.d_sae)
    bad = [i for i in ids if not 0 <= i < d_sae]
    if bad:
        raise StageError(f"steer: latent ids {bad} out of range: the SAE has {d_sae} latents")
    return unit_sum(sae.W_dec.detach().float()[ids], f"decoder directions of {ids}")


def along_directions(stage: Stage) -> tuple[Any, int, list[Any]]:
    """(unit(Σ unit(d_i)), their layer, the directions) of the ``direction_<i>`` inputs."""
    import torch

    from stages.lib.directions import load_direction

    found = [load_direction(stage.inputs[k]) for k in sorted(
        (k for k in stage.inputs if k.startswith("direction_")), key=lambda k: int(k[10:]))]
    if not found:
        raise StageError("steer: directions given but no direction inputs; re-run `emx compile`")
    layers = sorted({d.layer for d in found})
    if len(layers) > 1:
        raise StageError(f"steer: the directions are at different layers {layers}; steer "
                         "along directions of one layer")
    want = stage.config.get("layer")
    if want is not None and int(want) != layers[0]:
        raise StageError(f"steer: layer {want}, but the directions are at layer {layers[0]}; "
                         "re-run `emx compile`")
    return unit_sum(torch.stack([d.vector for d in found])), layers[0], found


class Steering:
    """The sampling hook that adds ``coef × scale × direction`` at ``layer``, and records the
    steered latents' mean activation on the generated tokens (decode steps)."""

    def __init__(self, model: Any, layer: int, direction: Any, scale: float, coef: float,
                 sae: Any = None, ids: list[int] | None = None) -> None:
        self.model, self.layer = model, layer
        self.add = direction * (coef * scale)  # [d_model] float32
        self.sae, self.ids = sae, ids or []
        self.total, self.count = 0.0, 0
        self.batch: Any = None

    def fn(self, h: Any) -> Any:
        """h [rows, tokens, d_model] → h + add (in h's dtype and device)."""
        h = added(h, self.add)
        if self.sae is not None and h.shape[1] == 1:  # a generated token's residual
            import torch

            last = h[:, 0]  # [rows, d_model]
            live = getattr(self.batch, "live", None)  # static backend: finished rows stay
            if live is not None:
                last = last[live.to(last.device)]
            with torch.no_grad():
                feats = self.sae.encode(last.to(self.sae.W_dec.device, torch.float32))
                self.total += float(feats[:, self.ids].mean(-1).sum())
                self.count += last.shape[0]
        return h

    def hook(self, batch: Any) -> Any:
        from stages.lib.models import residual_hook

        self.batch = batch
        return residual_hook(self.model, self.layer, self.fn)

    @property
    def latent_activation(self) -> float | None:
        return self.total / self.count if self.count else None


def prompt_norm(model: Any, tokenizer: Any, evaluation: Evaluation, layer: int) -> float:
    """The typical residual norm at ``layer`` over the eval prompts' tokens (the loaded model,
    unsteered): a direction's coefficient unit, as the SAE corpus's mean norm is latents'."""
    from stages.lib.directions import typical_norm
    from stages.lib.evaluation import eval_prompts
    from stages.lib.sampling.core import encode_prompts

    _, chats = eval_prompts(evaluation.questions, evaluation.ev.get("paraphrases"))
    return typical_norm(model, tokenizer, encode_prompts(tokenizer, chats), layer)


# --------------------------------------------------------------------------- the stage


def run(stage: Stage, out: Path, results: Path | None) -> None:
    import polars as pl

    from stages.lib.device import pick_device
    from stages.lib.models import load_model, load_tokenizer
    from stages.lib.saes import load_sae, read_sae_info

    cfg = stage.config
    steer, ev = cfg["steer"], cfg["eval"]
    coefs = [float(c) for c in steer.get("coef", [])]
    if not coefs:
        raise StageError("steer: no coefficients")
    device = pick_device(cfg.get("device", "auto"))
    sae, ids, extra = None, None, {}
    if steer.get("directions") is not None:  # along directions: no SAE
        direction, layer, found = along_directions(stage)
        scale = None  # measured on the eval prompts below
        what = f"directions {cfg.get('labels')}"
        extra = {"directions": cfg.get("labels"),
                 "direction_types": [d.info.get("type") for d in found]}
    else:
        layer = int(cfg["layer"])
        sae_dir = stage.input("sae")
        info = read_sae_info(sae_dir)
        if int(info["layer"]) != layer:
            raise StageError(f"steer: layer {layer}, but the SAE was trained at layer "
                             f"{info['layer']}; re-run `emx compile`")
        sae = load_sae(sae_dir, device)
        ids = latent_ids(steer["latents"], stage.inputs.get("diff"), int(sae.cfg.d_sae))
        diff_info = Path(stage.inputs["diff"]) / "info.json" if stage.inputs.get("diff") \
            else None
        if diff_info is not None and diff_info.is_file() \
                and json.loads(diff_info.read_text()).get("moved") is False:
            log(stage, f"warning: the diff moved no latent, so top latents {ids} are arbitrary "
                       "(a model diffed against itself); read this stage as a random-latent "
                       "control")
        direction = steering_direction(sae, ids)
        scale = float(info["mean_norm"])
        what = f"latents {ids}"
        extra = {"latents": ids, "latents_spec": steer["latents"]}
    # fail fast on questions
    evaluation = Evaluation(ev, stage.inputs.get("judge_model"), stage.inputs.get("shots"))
    frames, per_coef, curve = [], [], []
    try:
        model_dir = stage.input("model")
        tokenizer = load_tokenizer(model_dir)
        model = load_model(model_dir, stage.inputs.get("adapter"), device=device)
        if scale is None:
            scale = prompt_norm(model, tokenizer, evaluation, layer)
        log(stage, f"steering {cfg.get('target')} model at layer {layer} along {what}, "
                   f"|v| = coef × {scale:.2f}, coefficients {coefs}")
        for c in coefs:
            seed_everything(int(ev["seed"]))
            steering = Steering(model, layer, direction, scale, c, sae, ids)
            answers = evaluation.answers(model, tokenizer, hook=steering.hook,
                                         desc=f"{stage.name} coef={c:g}")
            scores, metrics = evaluation.score(answers)
            frames.append(scores.with_columns(pl.lit(c).alias("coef")))
            per_coef.append({"coef": c, "latent_activation": steering.latent_activation,
                             **metrics})
            curve.append(curve_row(c, metrics, latent_activation=steering.latent_activation))
            log(stage, f"coef {c:g}: misaligned {metrics['misaligned']}/{metrics['n_judged']}, "
                       f"coherent fraction {metrics['coherent_fraction']}, latent activation "
                       f"{steering.latent_activation}")
        note_run(judge=evaluation.close(stage.name))  # calls vs cache hits vary
    except BaseException:
        evaluation.judge.close()
        raise
    pl.concat(frames).write_parquet(out / "answers.parquet")
    metrics = {"target": cfg.get("target"), "layer": layer, **extra, "mean_norm": scale,
               "vector_norm_per_unit_coef": scale, "judge": evaluation.judge.identity,
               "coefficients": per_coef}
    atomic_write_json(out / "info.json", metrics)
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
        atomic_write_text(results / "curve.csv", csv_text(curve, CURVE_COLUMNS))


if __name__ == "__main__":
    raise SystemExit(run_stage("steer", run))
