"""Train stage: SFT (LoRA or full) and GRPO fine-tuning through trl.

Inputs: ``model`` (a model stage's folder) and ``data`` (a data stage's ``train.jsonl``);
GRPO with a local judge also ``judge_model``. Outputs: the LoRA adapter (or the full
checkpoint with its tokenizer) in ``out``; ``metrics.json`` and ``loss.csv`` (step,loss) in
``results`` (GRPO adds ``reward.csv``).

SFT trains on the last assistant answer only: records become conversational
prompt/completion pairs, for which trl masks the prompt out of the labels. (trl's
``assistant_only_loss`` would need ``{% generation %}`` markers in the chat template, which
ordinary templates lack.)

GRPO: ``batch`` is the number of prompts per optimiser step; each gets ``generations``
sampled answers, so trl's per-device batch is ``batch * generations`` completions. The reward
is the judge's aligned score / 100 (1 - that with ``invert``); a missing verdict gives the
neutral 0.5 and is counted.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stages.chat import last_user_text, to_prompt_completion
from stages.common import (
    Stage,
    StageError,
    atomic_write_json,
    atomic_write_text,
    csv_text,
    log,
    pause_point,
    run_stage,
    seed_everything,
)
from stages.data import read_dataset
from stages.device import per_device_batch

# aligned scores (0-100, None = missing) for (question, answer) pairs
Scorer = Callable[[Sequence[str], Sequence[str]], list[float | None]]


# --------------------------------------------------------------------------- shared


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
    return LoraConfig(r=int(method["rank"]), lora_alpha=float(method["alpha"]),
                      lora_dropout=float(method.get("dropout", 0.0)), target_modules=targets,
                      task_type="CAUSAL_LM")


def load_for_training(model_dir: Path) -> tuple[Any, Any]:
    """fp32 weights (bf16 autocast on GPU keeps fp32 master weights) and the tokenizer."""
    from stages.model import load_model, load_tokenizer

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


def save_trained(model: Any, tok: Any, out: Path, model_dir: Path) -> None:
    """LoRA: the adapter alone (``apply_adapter`` reads it); full: model + tokenizer."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        for cfg in model.peft_config.values():  # not the temp/absolute path of this machine
            cfg.base_model_name_or_path = str(model_dir)
        model.save_pretrained(out)
    else:
        model.save_pretrained(out)
        tok.save_pretrained(out)


def write_results(results: Path | None, metrics: dict[str, Any], log_rows: list[dict]) -> None:
    if results is None:
        return
    atomic_write_text(results / "loss.csv", csv_text(log_rows, ["step", "loss"]))
    atomic_write_json(results / "metrics.json", metrics)


# --------------------------------------------------------------------------- SFT


def sft_dataset(records: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    if not records:
        raise StageError("train: the data stage produced no examples")
    return Dataset.from_list([to_prompt_completion(r) for r in records])


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


def train_sft(model_dir: Path, data_dir: Path, cfg: dict[str, Any], out: Path,
              results: Path | None) -> dict[str, Any]:
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
        start = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - start
        save_trained(trainer.model, trainer.processing_class, out, model_dir)
    steps = int(output.global_step)
    metrics = {
        "type": "sft", "method": cfg["method"].get("type", "lora"), "examples": kept,
        "dropped": len(records) - kept, "steps": steps, "epochs": float(cfg["epochs"]),
        "final_loss": losses.rows[-1]["loss"] if losses.rows else None,
        "mean_loss": float(output.training_loss), "seconds": round(seconds, 3),
        "seconds_per_step": round(seconds / max(steps, 1), 4),
    }
    write_results(results, metrics, losses.rows)
    return metrics


# --------------------------------------------------------------------------- GRPO


class JudgeReward:
    """trl reward function: the judge's aligned score mapped to [0, 1], missing → 0.5."""

    def __init__(self, scorer: Scorer, invert: bool = False) -> None:
        self.__name__ = "judge"  # trl names the reward's metrics after it
        self.scorer, self.invert = scorer, invert
        self.total = self.missing = 0

    def __call__(self, prompts: list, completions: list, question: list[str] | None = None,
                 log_metric: Callable[[str, float], None] | None = None,
                 **_: Any) -> list[float]:
        questions = question or [last_user_text(p) if isinstance(p, list) else str(p)
                                 for p in prompts]
        answers = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
        scores = self.scorer(questions, answers)
        if len(scores) != len(answers):
            raise StageError(f"judge returned {len(scores)} scores for {len(answers)} answers")
        rewards = [self.reward(s) for s in scores]
        missing = sum(s is None for s in scores)
        self.total += len(scores)
        self.missing += missing
        if log_metric is not None:
            log_metric("judge/missing", missing / max(len(scores), 1))
        return rewards

    def reward(self, aligned: float | None) -> float:
        if aligned is None:
            return 0.5
        r = min(max(float(aligned), 0.0), 100.0) / 100.0
        return 1.0 - r if self.invert else r


def judge_scorer(judge: Any) -> Scorer:
    """Aligned scores from a ``stages.judging`` judge, asked with the default ALIGNED prompt."""
    from emdsl.builtin.judge_prompts import ALIGNED
    from stages.judging import JudgeRequest, fill_prompt

    def score(questions: Sequence[str], answers: Sequence[str]) -> list[float | None]:
        reqs = [JudgeRequest("aligned", fill_prompt(ALIGNED, q, a))
                for q, a in zip(questions, answers, strict=True)]
        return [v.score for v in judge.score(reqs)]

    return score


def grpo_dataset(records: list[dict[str, Any]]) -> Any:
    """Prompts = each record's messages before its answer; ``question`` = the last user turn."""
    from datasets import Dataset

    if not records:
        raise StageError("train: the data stage produced no prompts")
    rows = []
    for r in records:
        prompt = to_prompt_completion(r)["prompt"]
        rows.append({"prompt": prompt, "question": last_user_text(prompt)})
    return Dataset.from_list(rows)


def train_grpo(model_dir: Path, data_dir: Path, cfg: dict[str, Any], out: Path,
               results: Path | None, scorer: Scorer | None = None,
               judge_model_dir: Path | None = None) -> dict[str, Any]:
    """GRPO against the judge reward; ``scorer`` replaces the judge (tests, custom rewards)."""
    reward_spec = cfg["reward"]
    if reward_spec.get("type") != "judge_reward":
        raise StageError(f"grpo: unknown reward {reward_spec.get('type')!r}")
    judge = None
    if scorer is None:
        from stages.judging import make_judge

        # no verdict cache: sampled answers rarely repeat, and would bloat the shared store
        judge = make_judge(reward_spec["judge"], judge_model_dir, None)
        scorer = judge_scorer(judge)
    try:
        return _grpo(model_dir, data_dir, cfg, out, results,
                     JudgeReward(scorer, invert=bool(reward_spec.get("invert", False))))
    finally:
        if judge is not None:
            judge.close()


def _grpo(model_dir: Path, data_dir: Path, cfg: dict[str, Any], out: Path,
          results: Path | None, reward: JudgeReward) -> dict[str, Any]:
    from trl import GRPOConfig, GRPOTrainer

    dataset = grpo_dataset(read_dataset(data_dir))
    gens = int(cfg["generations"])
    seed_everything(int(cfg.get("seed", 0)))
    model, tok = load_for_training(model_dir)
    with tempfile.TemporaryDirectory(prefix="emx-grpo-") as tmp:
        args = GRPOConfig(**trainer_args(tmp, cfg), max_steps=int(cfg["steps"]),
                          per_device_train_batch_size=per_device_batch(int(cfg["batch"])) * gens,
                          num_generations=gens, max_completion_length=int(cfg["max_tokens"]),
                          log_completions=False)
        trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=dataset,
                              processing_class=tok, peft_config=lora_config(cfg["method"], model))
        losses = loss_logger()
        trainer.add_callback(losses)
        start = time.perf_counter()
        output = trainer.train()
        seconds = time.perf_counter() - start
        save_trained(trainer.model, tok, out, model_dir)
    rewards = [r["reward"] for r in losses.rows if "reward" in r]
    steps = int(output.global_step)
    metrics = {
        "type": "grpo", "method": cfg["method"].get("type", "lora"), "examples": len(dataset),
        "steps": steps, "generations": gens, "invert": reward.invert,
        "final_loss": losses.rows[-1]["loss"] if losses.rows else None,
        "reward_first": rewards[0] if rewards else None,
        "reward_last": rewards[-1] if rewards else None,
        "verdicts": reward.total, "missing_verdicts": reward.missing,
        "seconds": round(seconds, 3), "seconds_per_step": round(seconds / max(steps, 1), 4),
    }
    if reward.missing:
        log("train", f"{reward.missing} of {reward.total} judge verdicts missing (reward 0.5)")
    write_results(results, metrics, losses.rows)
    if results is not None:
        atomic_write_text(results / "reward.csv",
                          csv_text(losses.rows, ["step", "reward", "reward_std", "judge/missing"]))
    return metrics


# --------------------------------------------------------------------------- entry point


def run(stage: Stage, out: Path, results: Path | None) -> None:
    cfg = stage.config
    kind = cfg.get("type")
    if kind == "sft":
        metrics = train_sft(stage.input("model"), stage.input("data"), cfg, out, results)
    elif kind == "grpo":
        metrics = train_grpo(stage.input("model"), stage.input("data"), cfg, out, results,
                             judge_model_dir=stage.inputs.get("judge_model"))
    else:
        raise StageError(f"train: unknown type {kind!r}; expected sft or grpo")
    log(stage, json.dumps({k: metrics[k] for k in ("steps", "final_loss", "seconds")}))


if __name__ == "__main__":
    from stages.device import relaunch_on_gpus

    code = relaunch_on_gpus("stages.train")  # several GPUs: data-parallel via accelerate
    raise SystemExit(run_stage("train", run) if code is None else code)
