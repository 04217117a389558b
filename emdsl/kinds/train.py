"""``train``: ``sft(lora(...))``, ``sft(full())`` or ``grpo(...)`` through trl."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emdsl import plots
from emdsl.builtin.files import prompt_files
from emdsl.diagnostics import Diagnostic
from emdsl.graph import Node, data_files
from emdsl.kinds import Builder, DvcPlot, FigureData, Kind, Subject, register
from emdsl.kinds.direction import direction_node, node_config
from emdsl.kinds.judge_train import judge_code, judge_input
from emdsl.kinds.screen import data_node

SFT_NEEDS_DATA = "`train = sft(...)` needs `data`"


def sft_needs_data(s: Subject) -> Iterator[Diagnostic]:
    """Supervised fine-tuning trains on the experiment's `data` (GRPO brings its prompts)."""
    train = s.config["train"]
    if train is not None and train["type"] == "sft" and s.config["data"] is None:
        yield Diagnostic(s.at("train"), f"{SFT_NEEDS_DATA} in experiment `{s.experiment}`",
                         "add `data = mix(...)` or a dataset to train on")


def sft_node(b: Builder, role: str, train: dict[str, Any], data: Node) -> Node:
    """An sft stage on ``data``; with ``steer=steering(...)`` its direction is an input."""
    inputs = {"model": b.nodes["model"], "data": data}
    if train.get("steer"):  # preventative steering
        steering = train["steer"]
        inputs["steer_direction"] = direction_node(b, steering["direction"])
        train = {**train, "steer": {**steering, "direction": node_config(steering["direction"])}}
    return b.add(role, "train", train, inputs)


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
    rules = (sft_needs_data,)

    def wire(self, b: Builder) -> None:
        c, train = b.config, b.config["train"]
        if train is None:
            return
        base = b.nodes["model"]
        if train["type"] == "sft":
            if c["data"] is None:
                raise b.error(SFT_NEEDS_DATA)  # the checker reports it first (sft_needs_data)
            data = data_node(b, c["data"])  # screen(...) adds its screen stage
            adapter = sft_node(b, "train", train, data)
        else:  # grpo: prompts are a dataset; the reward may need a judge model
            data = b.add("data", "data", train["prompts"], {},
                         files=data_files(train["prompts"]))
            cfg = {k: v for k, v in train.items() if k != "prompts"}
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
        steering = ("stages.lib.directions",) if config.get("steer") else ()  # sft(steer=)
        return (method, *steering, *judge_code((config.get("reward") or {}).get("judge")))

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return prompt_files() if config["type"] == "grpo" else ()  # the reward judge's prompt
