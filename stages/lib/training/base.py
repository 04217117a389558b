"""What every fine-tuning method shares: fp32 loading, trainer arguments, LoRA config, the loss
log, saving, and the SFT dataset (the train stage's sft method and the realign stage use it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

from stages.common import (
    StageError,
    atomic_write_json,
    atomic_write_text,
    csv_text,
    note_run,
    pause_point,
)
from stages.lib.chat import to_prompt_completion


def trainer_args(tmp: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """TrainingArguments every run shares: temp output, no reporting, CPU-safe precision."""
    import torch

    cuda = torch.cuda.is_available()
    return dict(
        output_dir=tmp, learning_rate=float(cfg["lr"]), seed=int(cfg.get("seed", 0)),
        data_seed=int(cfg.get("seed", 0)), logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=not cuda, bf16=cuda and torch.cuda.is_bf16_supported(),
        activation_checkpointing=False, dataloader_num_workers=0,
        disable_tqdm=bool(os.environ.get("EMX_NO_PROGRESS")),
        # the papers' settings (sft); absent from a config, the trainer's defaults
        gradient_accumulation_steps=int(cfg.get("grad_accum", 1)),
        warmup_steps=int(cfg.get("warmup", 0)), weight_decay=float(cfg.get("weight_decay", 0.0)),
    )


def lora_config(method: dict[str, Any], model: Any) -> Any:
    """A peft LoraConfig for ``method`` (None for full fine-tuning); targets must exist."""
    kind = method.get("type", "lora")
    if kind == "full":
        return None
    if kind != "lora":
        raise StageError(f"train: unknown method {kind!r}; expected lora or full")
    import torch
    from peft import LoraConfig

    linear = sorted({name.rsplit(".", 1)[-1] for name, mod in model.named_modules()
                     if isinstance(mod, torch.nn.Linear)})
    targets = list(method["targets"])
    missing = [t for t in targets if t not in linear]
    if missing:
        raise StageError(f"lora: target module(s) {missing} not in this model; its linear "
                         f"layers are {linear}")
    layers = method.get("layers")
    if layers is not None:
        depth = getattr(getattr(model, "config", None), "num_hidden_layers", None)
        beyond = [n for n in layers if depth is not None and n >= depth]
        if beyond:
            raise StageError(f"lora: layer(s) {beyond} beyond the model's depth ({depth} "
                             f"layers); use layers from 0 to {depth - 1}")
    return LoraConfig(r=int(method["rank"]), lora_alpha=float(method["alpha"]),
                      lora_dropout=float(method.get("dropout", 0.0)), target_modules=targets,
                      use_rslora=bool(method.get("rslora", False)),
                      layers_to_transform=list(layers) if layers is not None else None,
                      task_type="CAUSAL_LM")


def load_for_training(model_dir: Path) -> tuple[Any, Any]:
    """fp32 weights (bf16 autocast on GPU keeps fp32 master weights) and the tokenizer."""
    from stages.lib.models import load_model, load_tokenizer

    model = load_model(model_dir, device="cpu", dtype="float32")
    tok = load_tokenizer(model_dir)
    if not tok.chat_template:
        raise StageError(f"{model_dir}: the tokenizer has no chat template; use an instruct "
                         "(chat) model")
    return model, tok


def loss_logger() -> Any:
    """A TrainerCallback keeping every logged training step's metrics."""
    from transformers import TrainerCallback

    class LossLog(TrainerCallback):
        def __init__(self) -> None:
            self.rows: list[dict[str, float]] = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.rows.append({"step": state.global_step, **{
                    k: float(v) for k, v in logs.items() if isinstance(v, int | float)}})

        def on_step_end(self, args, state, control, **kwargs):
            pause_point("step")  # a no-op unless a kill test asks for it

    return LossLog()


# results/<stage>/live/: dvclive's training curves, one TSV per metric (step, value), which
# the train kind declares as DVC plots. Only these per-step values go there (no timings or
# machine paths), so a rerun writes the same bytes.
LIVE = "live"
LIVE_CURVES = ("loss", "learning_rate", "grad_norm", "kl", "nll", "reward")


def live_logger(results: Path | None, params: dict[str, Any]) -> Any | None:
    """transformers' DVCLiveCallback (dvclive attached to the trl trainer) writing into
    ``results/live``: the stage config as its params, and ``LIVE_CURVES`` at each logged
    optimizer step, numbered by that step. None when the stage keeps no results."""
    if results is None:
        return None
    from dvclive import Live
    from transformers.integrations import DVCLiveCallback

    class LiveCurves(DVCLiveCallback):
        def setup(self, args, state, model):
            self._initialized = True
            if state.is_world_process_zero and self.live is None:
                self.live = Live(dir=str(results / LIVE), save_dvc_exp=False, dvcyaml=False,
                                 report=None, monitor_system=False)
                self.live.log_params(params)

        def on_log(self, args, state, control, model=None, logs=None, **kwargs):
            if not self._initialized:
                self.setup(args, state, model)
            if self.live is None or not logs or "loss" not in logs:
                return  # the closing summary (runtimes) is not a curve
            self.live.step = state.global_step
            for key in LIVE_CURVES:
                if isinstance(logs.get(key), int | float):
                    self.live.log_metric(f"train/{key}", float(logs[key]))
            self.live.make_summary()

        def on_train_end(self, args, state, control, **kwargs):
            if self.live is not None:
                self.live.end()

    return LiveCurves()


def timed_train(trainer: Any) -> Any:
    """``trainer.train()``; its duration goes to the run record, not into metrics.json (an out
    must not change when only the machine's speed does)."""
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    note_run(train_seconds=round(seconds, 3),
             seconds_per_step=round(seconds / max(int(output.global_step), 1), 4))
    return output


def save_trained(model: Any, tok: Any, out: Path, model_dir: Path) -> None:
    """LoRA: the adapter alone (``apply_adapter`` reads it); full: model + tokenizer."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        for cfg in model.peft_config.values():  # not the temp/absolute path of this machine
            cfg.base_model_name_or_path = str(model_dir)
        save_adapter(model, out)
    else:
        model.save_pretrained(out)
        tok.save_pretrained(out)


def save_adapter(model: Any, out: Path) -> None:
    """``save_pretrained`` of a peft model, made byte-reproducible: peft writes set-valued
    fields (``target_modules``) in set order, which follows PYTHONHASHSEED, so they are
    sorted; its README.md model card (library versions, nothing ``apply_adapter`` reads) goes.
    """
    model.save_pretrained(out)
    (Path(out) / "README.md").unlink(missing_ok=True)
    for name, cfg in model.peft_config.items():
        folder = Path(out) if name == "default" else Path(out) / name
        sort_set_fields(folder / "adapter_config.json", cfg)


def sort_set_fields(path: Path, cfg: Any) -> None:
    """Rewrite the peft config file at ``path`` with ``cfg``'s set-valued fields sorted."""
    if not path.is_file():
        return
    sets = [f.name for f in dataclasses.fields(cfg) if isinstance(getattr(cfg, f.name), set)]
    saved = json.loads(path.read_text(encoding="utf-8"))
    for key in sets:
        if isinstance(saved.get(key), list):
            saved[key] = sorted(saved[key], key=str)
    atomic_write_json(path, saved)


def write_results(results: Path | None, metrics: dict[str, Any], log_rows: list[dict]) -> None:
    if results is None:
        return
    atomic_write_text(results / "loss.csv", csv_text(log_rows, ["step", "loss"]))
    atomic_write_json(results / "metrics.json", metrics)


def sft_dataset(records: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    if not records:
        raise StageError("train: the data stage produced no examples")
    return Dataset.from_list([to_prompt_completion(r) for r in records])
