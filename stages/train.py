"""Train stage: SFT (LoRA or full) and GRPO fine-tuning through trl, one registered method each
(``stages.lib.training.sft``, ``stages.lib.training.grpo``), loaded by the config's ``type``.

Inputs: ``model`` (a model stage's folder) and ``data`` (a data stage's ``train.jsonl``);
GRPO with a local judge also ``judge_model``. Outputs: the LoRA adapter (or the full
checkpoint with its tokenizer) in ``out``; ``metrics.json`` and ``loss.csv`` (step,loss) in
``results`` (GRPO adds ``reward.csv``). The training time goes to the run record
(``.emx/runs/<stage>.json``), so identical inputs give identical bytes.

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
from pathlib import Path

from stages.common import RUN_FACTS, Stage, StageError, log, run_stage
from stages.lib import registry


def run(stage: Stage, out: Path, results: Path | None) -> None:
    """The method the config's ``type`` names (``stages.lib.registry``, family ``train``)."""
    kind = stage.config.get("type")
    try:
        method = registry.load("train", str(kind))
    except registry.UnknownImplementation:
        raise StageError(f"train: unknown type {kind!r}; expected "
                         f"{registry.listing('train')}") from None
    metrics = method.train(stage, out, results)
    log(stage, json.dumps({"steps": metrics["steps"], "final_loss": metrics["final_loss"],
                           "seconds": RUN_FACTS.get("train_seconds")}))


if __name__ == "__main__":
    from stages.lib.device import relaunch_on_gpus

    # several GPUs: data-parallel via accelerate
    raise SystemExit(run_stage("train", run, launcher=relaunch_on_gpus))
