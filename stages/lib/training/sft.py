"""The ``sft`` training method: supervised fine-tuning on the last assistant answer only.

Records become conversational prompt/completion pairs, for which trl masks the prompt out of
the labels. (trl's ``assistant_only_loss`` would need ``{% generation %}`` markers in the chat
template, which ordinary templates lack.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from stages.common import Stage, log, seed_everything
from stages.lib.datasets import read_dataset
from stages.lib.device import per_device_batch
from stages.lib.training.base import (
    load_for_training,
    lora_config,
    loss_logger,
    save_trained,
    sft_dataset,
    timed_train,
    trainer_args,
    write_results,
)


def train(stage: Stage, out: Path, results: Path | None) -> dict[str, Any]:
    """The registered entry (family ``train``, name ``sft``)."""
    return train_sft(stage.input("model"), stage.input("data"), stage.config, out, results,
                     steer_dir=stage.inputs.get("steer_direction"))


def make_sft_trainer(model_dir: Path, records: list[dict[str, Any]], cfg: dict[str, Any],
                     tmp: str) -> Any:
    """An SFTTrainer with completion-only loss; separate so tests can inspect its batches."""
    from trl import SFTConfig, SFTTrainer

    seed_everything(int(cfg.get("seed", 0)))
    model, tok = load_for_training(model_dir)
    args = SFTConfig(**trainer_args(tmp, cfg),
                     per_device_train_batch_size=per_device_batch(int(cfg["batch"])),
                     num_train_epochs=float(cfg["epochs"]), max_length=int(cfg["max_length"]),
                     completion_only_loss=True, assistant_only_loss=False, packing=False)
    return SFTTrainer(model=model, args=args, train_dataset=sft_dataset(records),
                      processing_class=tok, peft_config=lora_config(cfg["method"], model))


STEERING = "stages.lib.directions"  # loaded by name: see _steering


def _steering(trainer: Any, records: list[dict[str, Any]], cfg: dict[str, Any],
              steer_dir: Path | None) -> Any:
    """``sft(steer=...)``: the direction added while training (a context manager yielding what
    it adds, or None). Its module is loaded by name, so it is part of the stage's code
    identity only when the config has ``steer`` (``emdsl.kinds.train``: ``Train.code``)."""
    import contextlib
    import importlib

    if not cfg.get("steer"):
        return contextlib.nullcontext()
    return importlib.import_module(STEERING).preventative_steering(
        trainer.model, trainer.processing_class, records, cfg["steer"], steer_dir)


def train_sft(model_dir: Path, data_dir: Path, cfg: dict[str, Any], out: Path,
              results: Path | None, steer_dir: Path | None = None) -> dict[str, Any]:
    """Fine-tune on the data stage's records; write the adapter/checkpoint and the log."""
    records = read_dataset(data_dir)
    with tempfile.TemporaryDirectory(prefix="emx-sft-") as tmp:
        trainer = make_sft_trainer(model_dir, records, cfg, tmp)
        kept = len(trainer.train_dataset)
        if kept < len(records):
            log("train", f"{len(records) - kept} example(s) dropped: the prompt alone fills "
                         f"max_length={cfg['max_length']}")
        losses = loss_logger()
        trainer.add_callback(losses)
        with _steering(trainer, records, cfg, steer_dir) as steered:
            output = timed_train(trainer)  # sft(steer=...): a direction added while training
        save_trained(trainer.model, trainer.processing_class, out, model_dir)
    steps = int(output.global_step)
    metrics = {
        "type": "sft", "method": cfg["method"].get("type", "lora"), "examples": kept,
        "dropped": len(records) - kept, "steps": steps, "epochs": float(cfg["epochs"]),
        "final_loss": losses.rows[-1]["loss"] if losses.rows else None,
        "mean_loss": float(output.training_loss),
    }
    if steered:
        metrics["steer"] = steered
    write_results(results, metrics, losses.rows)
    return metrics
