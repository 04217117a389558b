"""``train``: ``sft(lora(...))``, ``sft(full())`` or ``grpo(...)`` through trl."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emdsl import plots
from emdsl.builtin.files import prompt_files
from emdsl.diagnostics import Diagnostic
from emdsl.graph import data_files
from emdsl.kinds import Builder, DvcPlot, FigureData, Kind, Subject, register
from emdsl.kinds.judge_train import judge_code, judge_input
from emdsl.kinds.model import model_depth

SFT_NEEDS_DATA = "`train = sft(...)` needs `data`"

# Training controls added after studies existed (issue 17): left out of the stage config
# while at these defaults, so the stage keys of studies that do not use them stay the same.
TRAIN_DEFAULTS: dict[str, Any] = {"system": None, "kl": 0.0, "checkpoints": [],
                                  "quantize": None, "grad_accum": 1, "warmup": 0,
                                  "weight_decay": 0.0}
METHOD_DEFAULTS: dict[str, Any] = {"rslora": False, "layers": None}


def _dropped(config: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in defaults or defaults[k] != v}


def train_config(train: dict[str, Any]) -> dict[str, Any]:
    """The train stage's config: the new controls at their default dropped (its method's too)."""
    cfg = _dropped(train, TRAIN_DEFAULTS)
    if isinstance(cfg.get("method"), dict):
        cfg["method"] = _dropped(cfg["method"], METHOD_DEFAULTS)
    return cfg


def lora_layers_within_model(s: Subject) -> Iterator[Diagnostic]:
    """``lora(layers=[...])`` names decoder layers the base model has."""
    train = s.config["train"]
    layers = ((train or {}).get("method") or {}).get("layers")
    depth = model_depth(s.config["base"])
    if layers and depth is not None and max(layers) >= depth:
        yield Diagnostic(s.at("train.method.layers", "train.method", "train"),
                         f"lora layer {max(layers)} is beyond the model's depth ({depth} "
                         "layers)", f"use layers from 0 to {depth - 1}")


def sft_needs_data(s: Subject) -> Iterator[Diagnostic]:
    """Supervised fine-tuning trains on the experiment's `data` (GRPO brings its prompts)."""
    train = s.config["train"]
    if train is not None and train["type"] == "sft" and s.config["data"] is None:
        yield Diagnostic(s.at("train"), f"{SFT_NEEDS_DATA} in experiment `{s.experiment}`",
                         "add `data = mix(...)` or a dataset to train on")


@register
class Train(Kind):
    name = "train"
    order = 30
    fields = {"train": "train"}
    metrics = ("metrics.json",)
    plots = ("loss.csv",)
    dvc_plots = (DvcPlot("loss", "loss.csv", "training loss", {"x": "step", "y_label": "loss"},
                         ("loss",), rank=1),)
    sections = {"train": ("train", None)}
    figure_rank = 2
    rules = (sft_needs_data, lora_layers_within_model)

    def wire(self, b: Builder) -> None:
        c, train = b.config, b.config["train"]
        if train is None:
            return
        base = b.nodes["model"]
        if train["type"] == "sft":
            if c["data"] is None:
                raise b.error(SFT_NEEDS_DATA)  # the checker reports it first (sft_needs_data)
            data = b.add("data", "data", c["data"], {}, files=data_files(c["data"]))
            adapter = b.add("train", "train", train_config(train), {"model": base, "data": data})
        else:  # grpo: prompts are a dataset; the reward may need a judge model
            data = b.add("data", "data", train["prompts"], {},
                         files=data_files(train["prompts"]))
            cfg = train_config({k: v for k, v in train.items() if k != "prompts"})
            adapter = b.add("train", "train", cfg, {
                "model": base, "data": data,
                "judge_model": judge_input(b, train["reward"]["judge"])})
        b.nodes["data"], b.nodes["adapter"] = data, adapter

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("loss", "Training loss.",
                 plots.loss_curves(data.curves(("train",), "loss.csv")))]

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        """Its training method, and a GRPO reward's judge backend."""
        from stages.lib import registry

        method = registry.module_path("train", config["type"])
        return (method, *judge_code((config.get("reward") or {}).get("judge")))

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return prompt_files() if config["type"] == "grpo" else ()  # the reward judge's prompt
