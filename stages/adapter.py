"""Adapter stage: ``adapter(dir, base=MODEL)``, a LoRA adapter folder trained by another tool.

Config: ``{"dir": <project folder>}`` (a DVC dep). Output: the adapter's files (its
``adapter_config.json`` and weights; nothing else peft reads), so the stages that evaluate a
tuned model read it as they read a train stage's adapter.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from stages.common import Stage, StageError, run_stage

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


def run(stage: Stage, out: Path, results: Path | None) -> None:
    source = Path(stage.config["dir"])
    config = source / ADAPTER_FILES[0]
    if not config.is_file():
        raise StageError(f"{source}: no adapter_config.json; `adapter(...)` takes the folder "
                         "peft's save_pretrained wrote")
    try:
        kind = json.loads(config.read_text(encoding="utf-8")).get("peft_type")
    except (OSError, ValueError, AttributeError) as e:
        raise StageError(f"{config}: not a peft adapter config ({e})") from None
    if kind not in (None, "LORA"):
        raise StageError(f"{config}: a {kind} adapter; only LoRA adapters are supported")
    weights = [n for n in ADAPTER_FILES[1:] if (source / n).is_file()]
    if not weights:
        raise StageError(f"{source}: no adapter_model.safetensors (or .bin) beside its config")
    for name in (ADAPTER_FILES[0], weights[0]):
        shutil.copyfile(source / name, out / name)


if __name__ == "__main__":
    raise SystemExit(run_stage("adapter", run))
