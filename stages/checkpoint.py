"""Checkpoint stage: one of a train stage's ``sft(checkpoints=[...])`` adapters as its own out.

Input ``adapter``: the train stage's out, which holds the adapter at optimizer step ``s`` in
``checkpoints/<s>/`` (``stages.lib.training.sft``). Config: ``{"step": s}``. Output: that
folder's files, byte for byte, so every stage that evaluates a tuned model (generate, judge,
steer, acts) reads a checkpoint exactly as it reads the final adapter.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from stages.common import Stage, StageError, run_stage

CHECKPOINTS = "checkpoints"  # the folder of the train stage's out (stages.lib.training.sft)


def run(stage: Stage, out: Path, results: Path | None) -> None:
    step = int(stage.config["step"])
    source = stage.input("adapter") / CHECKPOINTS / str(step)
    if not source.is_dir():
        raise StageError(f"{source}: no adapter saved at step {step}; re-run its train stage "
                         "(its `checkpoints` must list this step)")
    for path in sorted(source.iterdir()):
        if path.is_dir():
            shutil.copytree(path, out / path.name)
        else:
            shutil.copyfile(path, out / path.name)


if __name__ == "__main__":
    raise SystemExit(run_stage("checkpoint", run))
