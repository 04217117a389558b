"""Realign stage: keep training the misaligned model on good examples; judge along the way.

Inputs: ``model`` (base), ``adapter`` (the train stage's LoRA adapter or full checkpoint),
``data`` (a data stage's ``train.jsonl`` with the ``size`` good examples), ``judge_model``
for a local judge. Training is train.py's SFT (completion-only loss, same trainer arguments)
continued from the tuned weights: a LoRA adapter is loaded *trainable* and keeps learning (no
new adapter on top); a full checkpoint is fine-tuned in full.

``checkpoints`` are optimiser steps. At each (0 = the tuned model before any realignment)
the current model answers the eval questions, sampled and judged exactly as the steer stage
does (``stages.lib.judged_eval.Evaluation``), with the eval's seed every time, so the curve
moves only because the weights do. x = good samples seen = step × batch (data is cycled when the
steps outnumber one epoch).

Outputs: ``out/answers.parquet`` (answers + scores + step, seen), ``out/checkpoints/
step-<n>/`` (the adapter at each checkpoint, LoRA only), ``out/final/`` (the realigned
adapter or model); ``results/metrics.json`` (per checkpoint metrics, losses) and
``results/curve.csv``.
"""

from __future__ import annotations

import tempfile
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

MAX_LENGTH = 512  # tokens per training example, as train's sft() default


def continue_from(model: Any, adapter_dir: Path) -> tuple[Any, str]:
    """The tuned model ready to keep training: (model, "lora" | "full")."""
    from stages.lib.models import adapter_kind, apply_adapter

    kind = adapter_kind(adapter_dir)
    return apply_adapter(model, adapter_dir, merge=False, trainable=True), kind


def make_realign_trainer(model_dir: Path, adapter_dir: Path, records: list[dict[str, Any]],
                         cfg: dict[str, Any], steps: int, tmp: str) -> tuple[Any, str]:
    """(SFTTrainer over ``records`` for ``steps`` steps from the tuned weights, method)."""
    from trl import SFTConfig, SFTTrainer

    from stages.lib.training.base import load_for_training, sft_dataset, trainer_args

    seed_everything(int(cfg.get("seed", 0)))
    base, tok = load_for_training(model_dir)
    model, method = continue_from(base, adapter_dir)
    args = SFTConfig(**trainer_args(tmp, cfg), per_device_train_batch_size=int(cfg["batch"]),
                     max_steps=max(steps, 1), max_length=MAX_LENGTH,
                     completion_only_loss=True, assistant_only_loss=False, packing=False)
    trainer = SFTTrainer(model=model, args=args, train_dataset=sft_dataset(records),
                         processing_class=tok)
    return trainer, method


def checkpoint_callback(at: set[int], on_checkpoint: Any) -> Any:
    """A TrainerCallback calling ``on_checkpoint(step, model)`` after each step in ``at``."""
    from transformers import TrainerCallback

    class AtSteps(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step in at:
                on_checkpoint(state.global_step, model)

    return AtSteps()


def run(stage: Stage, out: Path, results: Path | None) -> None:
    import polars as pl

    from stages.lib.datasets import read_dataset
    from stages.lib.judged_eval import CURVE_COLUMNS, Evaluation, curve_row
    from stages.lib.training.base import loss_logger, save_adapter, save_trained, timed_train

    cfg, ev = stage.config["realign"], stage.config["eval"]
    checkpoints = sorted({int(c) for c in cfg.get("checkpoints", [0])})
    if not checkpoints or checkpoints[0] < 0:
        raise StageError(f"realign: checkpoints must be steps ≥ 0, got {checkpoints}")
    batch = int(cfg["batch"])
    records = read_dataset(stage.input("data"))
    model_dir, adapter_dir = stage.input("model"), stage.input("adapter")
    evaluation = Evaluation(ev, stage.inputs.get("judge_model"), stage.inputs.get("shots"))
    frames: list[Any] = []
    points: list[dict[str, Any]] = []
    curve: list[dict[str, Any]] = []

    def evaluate(step: int, model: Any, tok: Any) -> None:
        was_training = model.training
        model.eval()
        seed_everything(int(ev["seed"]))
        answers = evaluation.answers(model, tok, desc=f"{stage.name} step {step}")
        scores, metrics = evaluation.score(answers)
        if was_training:
            model.train()
        seen = step * batch
        frames.append(scores.with_columns(pl.lit(step).alias("step"), pl.lit(seen).alias("seen")))
        points.append({"step": step, "seen": seen, **metrics})
        curve.append(curve_row(seen, metrics, step=step))
        log(stage, f"step {step} ({seen} good samples seen): misaligned "
                   f"{metrics['misaligned']}/{metrics['n_judged']}")
        if method == "lora":
            save_adapter(model, out / "checkpoints" / f"step-{step}")

    try:
        with tempfile.TemporaryDirectory(prefix="emx-realign-") as tmp:
            trainer, method = make_realign_trainer(model_dir, adapter_dir, records, cfg,
                                                   checkpoints[-1], tmp)
            tok = trainer.processing_class
            log(stage, f"continuing {method} training on {len(records)} good examples, batch "
                       f"{batch}, lr {cfg['lr']}, checkpoints at steps {checkpoints}")
            if checkpoints[0] == 0:
                evaluate(0, trainer.model, tok)
            losses = loss_logger()
            trainer.add_callback(losses)
            trainer.add_callback(checkpoint_callback(
                set(checkpoints) - {0}, lambda step, model: evaluate(step, model, tok)))
            if checkpoints[-1] > 0:
                timed_train(trainer)  # its time (checkpoint evaluations too): the run record
            save_trained(trainer.model, tok, out / "final", model_dir)
        note_run(judge=evaluation.close(stage.name))  # calls vs cache hits vary
    except BaseException:
        evaluation.judge.close()
        raise
    pl.concat(frames).write_parquet(out / "answers.parquet")
    steps = checkpoints[-1]
    metrics = {
        "method": method, "examples": len(records), "batch": batch, "lr": float(cfg["lr"]),
        "steps": steps, "epochs": round(steps * batch / max(len(records), 1), 3),
        "judge": evaluation.judge.identity,
        "final_loss": losses.rows[-1]["loss"] if losses.rows else None,
        "loss": [{"step": r["step"], "loss": r["loss"]} for r in losses.rows],
        "checkpoints": points}
    atomic_write_json(out / "info.json", metrics)
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
        columns = ["x", "step", *(c for c in CURVE_COLUMNS[1:] if c != "latent_activation")]
        atomic_write_text(results / "curve.csv", csv_text(curve, columns))


if __name__ == "__main__":
    raise SystemExit(run_stage("realign", run))
