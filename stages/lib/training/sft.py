"""The ``sft`` training method: supervised fine-tuning on the last assistant answer only.

Records become conversational prompt/completion pairs, for which trl masks the prompt out of
the labels. (trl's ``assistant_only_loss`` would need ``{% generation %}`` markers in the chat
template, which ordinary templates lack.)

The training controls, each a separate piece so more can join (``make_sft_trainer`` is where
they meet):

- ``system``: a system prompt put before every training example (inoculation prompting); the
  eval stages never see it (:func:`with_system`).
- ``kl``: ``loss = NLL + kl * KL(tuned || base)`` per answer token, the KL taken over the whole
  next-token distribution; the base is the adapter switched off (peft's
  ``disable_adapter()``), or a frozen copy with full fine-tuning (:func:`kl_trainer`).
- ``checkpoints``: the adapter saved at those optimizer steps in ``out/checkpoints/<step>/``
  (:func:`checkpoint_saver`); the train kind wires a ``checkpoint`` stage per step that the
  evaluations read.
- ``quantize="4bit"``: QLoRA, the base loaded in 4 bits by bitsandbytes; a GPU only, checked
  before anything loads (:func:`check_quantize`).
- ``grad_accum``, ``warmup``, ``weight_decay``: trainer arguments (``base.trainer_args``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, log, seed_everything
from stages.lib.datasets import read_dataset
from stages.lib.device import per_device_batch
from stages.lib.training.base import (
    live_logger,
    load_for_training,
    lora_config,
    loss_logger,
    save_trained,
    sft_dataset,
    timed_train,
    trainer_args,
    write_results,
)

CHECKPOINTS = "checkpoints"  # out/checkpoints/<step>/: the adapter at that optimizer step


def train(stage: Stage, out: Path, results: Path | None) -> dict[str, Any]:
    """The registered entry (family ``train``, name ``sft``)."""
    return train_sft(stage.input("model"), stage.input("data"), stage.config, out, results,
                     steer_dir=stage.inputs.get("steer_direction"))


# --------------------------------------------------------------------------- controls


def with_system(records: list[dict[str, Any]], system: str | None) -> list[dict[str, Any]]:
    """Every record with the training system prompt first. A record that has a system message
    keeps it, after the training prompt and a blank line (a chat has one system turn)."""
    if not system:
        return records
    out = []
    for r in records:
        messages = list(r["messages"])
        if messages and messages[0].get("role") == "system":
            messages[0] = {**messages[0], "content": f"{system}\n\n{messages[0]['content']}"}
        else:
            messages.insert(0, {"role": "system", "content": system})
        out.append({**r, "messages": messages})
    return out


def check_quantize(cfg: dict[str, Any]) -> None:
    """``quantize="4bit"`` needs a CUDA GPU and bitsandbytes: stop at once, before loading."""
    if not cfg.get("quantize"):
        return
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise StageError('train: quantize="4bit" (QLoRA) needs a CUDA GPU and this machine has '
                         "none; run this stage on a GPU machine, or drop `quantize`")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise StageError('train: quantize="4bit" needs bitsandbytes; '
                         "`pip install bitsandbytes` on the GPU machine")


def load_quantized(model_dir: Path) -> tuple[Any, Any]:
    """The base in 4-bit NF4 with bf16 compute, ready for LoRA (peft's k-bit preparation)."""
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from stages.lib.models import check_model_dir, load_tokenizer

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                               bnb_4bit_compute_dtype=torch.bfloat16,
                               bnb_4bit_use_double_quant=True)
    model = AutoModelForCausalLM.from_pretrained(check_model_dir(model_dir),
                                                 quantization_config=quant,
                                                 device_map={"": torch.cuda.current_device()})
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, load_tokenizer(model_dir)


def kl_trainer(base: type, weight: float) -> type:
    """``base`` (an SFTTrainer class) whose loss adds ``weight`` times the KL of the tuned
    model's next-token distribution from the frozen base's, on the answer tokens only, both
    summed per token and divided like the NLL (tokens in the batch, or ``num_items_in_batch``
    under gradient accumulation). ``reference``: a frozen full copy (full fine-tuning); None
    means the base is the model with its adapter switched off."""
    import torch

    class KLSFTTrainer(base):
        kl_weight = weight
        reference: Any = None

        def base_logits(self, model: Any, inputs: dict[str, Any]) -> Any:
            with torch.no_grad():
                if self.reference is not None:
                    first = next(self.reference.parameters())
                    if first.device != inputs["input_ids"].device:
                        self.reference.to(inputs["input_ids"].device)
                    return self.reference(**inputs).logits
                with self.accelerator.unwrap_model(model).disable_adapter():
                    return model(**inputs).logits

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs["labels"][:, 1:]
            fwd = {k: v for k, v in inputs.items()
                   if k in ("input_ids", "attention_mask", "position_ids")}
            fwd["use_cache"] = False
            outputs = model(**fwd)
            logp = outputs.logits[:, :-1].float().log_softmax(-1)
            base_logp = self.base_logits(model, fwd)[:, :-1].float().log_softmax(-1)
            mask = labels != -100
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            kl = (logp.exp() * (logp - base_logp)).sum(-1)
            count = mask.sum() if num_items_in_batch is None else num_items_in_batch
            count = torch.as_tensor(count, device=logp.device).clamp(min=1)
            loss = ((nll * mask).sum() + self.kl_weight * (kl * mask).sum()) / count
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
            mode = "train" if model.training else "eval"
            tokens = mask.sum().clamp(min=1)
            self._metrics[mode]["kl"].append(float((kl * mask).sum().detach() / tokens))
            self._metrics[mode]["nll"].append(float((nll * mask).sum().detach() / tokens))
            return (loss, outputs) if return_outputs else loss

    return KLSFTTrainer


def checkpoint_saver(steps: list[int], out: Path, model_dir: Path) -> Any:
    """A TrainerCallback saving the model at each of ``steps`` (optimizer steps) into
    ``out/checkpoints/<step>/``; a step beyond the run's total is an error before training."""
    from transformers import TrainerCallback

    wanted = sorted(set(int(s) for s in steps))

    class Checkpoints(TrainerCallback):
        def __init__(self) -> None:
            self.saved: list[int] = []

        def on_train_begin(self, args, state, control, **kwargs):
            beyond = [s for s in wanted if s > state.max_steps]
            if beyond:
                raise StageError(f"train: checkpoints {beyond} are beyond the run's "
                                 f"{state.max_steps} optimizer steps; lower them or train "
                                 "longer (more epochs or data, a smaller batch)")

        def on_step_end(self, args, state, control, model=None, processing_class=None,
                        **kwargs):
            if state.global_step in wanted and state.global_step not in self.saved:
                save_trained(model, processing_class, out / CHECKPOINTS / str(state.global_step),
                             model_dir)
                self.saved.append(state.global_step)

    return Checkpoints()


# --------------------------------------------------------------------------- the trainer


def make_sft_trainer(model_dir: Path, records: list[dict[str, Any]], cfg: dict[str, Any],
                     tmp: str) -> Any:
    """An SFTTrainer with completion-only loss and the config's controls; separate so tests
    can inspect its batches."""
    from trl import SFTConfig, SFTTrainer

    check_quantize(cfg)
    seed_everything(int(cfg.get("seed", 0)))
    model, tok = load_quantized(model_dir) if cfg.get("quantize") \
        else load_for_training(model_dir)
    if not tok.chat_template:
        raise StageError(f"{model_dir}: the tokenizer has no chat template; use an instruct "
                         "(chat) model")
    args = SFTConfig(**trainer_args(tmp, cfg),
                     per_device_train_batch_size=per_device_batch(int(cfg["batch"])),
                     num_train_epochs=float(cfg["epochs"]), max_length=int(cfg["max_length"]),
                     completion_only_loss=True, assistant_only_loss=False, packing=False)
    peft = lora_config(cfg["method"], model)
    kl = float(cfg.get("kl", 0.0))
    cls = kl_trainer(SFTTrainer, kl) if kl > 0 else SFTTrainer
    trainer = cls(model=model, args=args,
                  train_dataset=sft_dataset(with_system(records, cfg.get("system"))),
                  processing_class=tok, peft_config=peft)
    if kl > 0 and peft is None:  # full fine-tuning: the base is a frozen copy
        reference, _ = load_for_training(model_dir)
        trainer.reference = reference.eval().requires_grad_(False)
    return trainer


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
    check_quantize(cfg)  # before reading anything
    records = read_dataset(data_dir)
    with tempfile.TemporaryDirectory(prefix="emx-sft-") as tmp:
        trainer = make_sft_trainer(model_dir, records, cfg, tmp)
        kept = len(trainer.train_dataset)
        if kept < len(records):
            log("train", f"{len(records) - kept} example(s) dropped: the prompt alone fills "
                         f"max_length={cfg['max_length']}")
        losses = loss_logger()
        trainer.add_callback(losses)
        live = live_logger(results, cfg)
        if live is not None:
            trainer.add_callback(live)
        if cfg.get("checkpoints"):
            trainer.add_callback(checkpoint_saver(cfg["checkpoints"], out, model_dir))
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
    if cfg.get("checkpoints"):
        metrics["checkpoints"] = list(cfg["checkpoints"])
    if float(cfg.get("kl", 0.0)) > 0:
        kls = [r["kl"] for r in losses.rows if "kl" in r]
        metrics["final_kl"] = kls[-1] if kls else None
    write_results(results, metrics, losses.rows)
    return metrics
