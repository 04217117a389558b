"""The ``grpo`` training method: GRPO against a judge's aligned score.

``batch`` is the number of prompts per optimiser step; each gets ``generations`` sampled
answers, so trl's per-device batch is ``batch * generations`` completions. The reward is the
judge's aligned score / 100 (1 - that with ``invert``); a missing verdict gives the neutral 0.5
and is counted. The judge is the one ``reward.judge`` names, loaded through the registry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, atomic_write_text, csv_text, log, seed_everything
from stages.lib.chat import last_user_text, to_prompt_completion
from stages.lib.datasets import read_dataset
from stages.lib.device import per_device_batch
from stages.lib.training.base import (
    live_logger,
    load_for_training,
    lora_config,
    loss_logger,
    save_trained,
    timed_train,
    trainer_args,
    write_results,
)


def train(stage: Stage, out: Path, results: Path | None) -> dict[str, Any]:
    """The registered entry (family ``train``, name ``grpo``)."""
    return train_grpo(stage.input("model"), stage.input("data"), stage.config, out, results,
                      judge_model_dir=stage.inputs.get("judge_model"))


# aligned scores (0-100, None = missing) for (question, answer) pairs
Scorer = Callable[[Sequence[str], Sequence[str]], list[float | None]]


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
    """Aligned scores from a ``stages.lib.judging`` judge, asked with the default ALIGNED prompt."""
    from emdsl.builtin.judge_prompts import ALIGNED
    from stages.lib.judging.base import JudgeRequest
    from stages.lib.judging.prompts import fill_prompt

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
        from stages.lib.judging.factory import make_judge

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
        live = live_logger(results, cfg)
        if live is not None:
            trainer.add_callback(live)
        output = timed_train(trainer)
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
    }
    if reward.missing:
        log("train", f"{reward.missing} of {reward.total} judge verdicts missing (reward 0.5)")
    write_results(results, metrics, losses.rows)
    if results is not None:
        atomic_write_text(results / "reward.csv",
                          csv_text(losses.rows, ["step", "reward", "reward_std", "judge/missing"]))
    return metrics
