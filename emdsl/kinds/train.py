"""``train``: ``sft(lora(...))``, ``sft(full())`` or ``grpo(...)`` through trl."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from emdsl import plots
from emdsl.builtin.files import prompt_files
from emdsl.diagnostics import Diagnostic
from emdsl.graph import Node, data_files
from emdsl.kinds import (
    Builder,
    Column,
    DvcPlot,
    FigureData,
    Kind,
    Subject,
    VariantResults,
    register,
)
from emdsl.kinds.direction import direction_node, node_config
from emdsl.kinds.generate import ADAPTER_AT
from emdsl.kinds.judge_train import judge_code, judge_input
from emdsl.kinds.model import model_depth
from emdsl.kinds.screen import data_node

SFT_NEEDS_DATA = "`train = sft(...)` needs `data`"
LIVE_DIR = "live/plots/metrics/train"  # dvclive's folder of per-metric TSVs, in results/<stage>

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


def sft_node(b: Builder, role: str, train: dict[str, Any], data: Node) -> Node:
    """An sft stage on ``data``; with ``steer=steering(...)`` its direction is an input."""
    inputs = {"model": b.nodes["model"], "data": data}
    if train.get("steer"):  # preventative steering
        steering = train["steer"]
        inputs["steer_direction"] = direction_node(b, steering["direction"])
        train = {**train, "steer": {**steering, "direction": node_config(steering["direction"])}}
    return b.add(role, "train", train_config(train), inputs)


def checkpoints_within_run(s: Subject) -> Iterator[Diagnostic]:
    """A checkpoint beyond the run's optimizer steps, where they are known before it runs:
    ``mix(size=N)`` gives ceil(ceil(N / batch) / grad_accum) steps per epoch (examples the
    data stage drops for length make it fewer; the stage checks exactly)."""
    train, data = s.config["train"], s.config["data"]
    if not train or train["type"] != "sft" or not train.get("checkpoints") or not data:
        return
    size = data.get("size") if data.get("type") == "mix" else None
    if not isinstance(size, int):
        return
    per_epoch = math.ceil(math.ceil(size / train["batch"]) / train.get("grad_accum", 1))
    total = math.ceil(per_epoch * train["epochs"])
    beyond = [c for c in train["checkpoints"] if c > total]
    if beyond:
        yield Diagnostic(s.at("train.checkpoints", "train"),
                         f"checkpoints {beyond} are beyond the run's {total} optimizer steps "
                         f"({size} examples, batch {train['batch']}, {train['epochs']:g} "
                         "epoch(s))", "lower them, or train longer (epochs, size, batch)")


def step_curves(rows: list[dict[str, Any]]) -> plots.Curves:
    """Per variant with checkpoints: (x = step, misaligned, interval) over its step rows and
    its final row (at the run's steps)."""
    curves: plots.Curves = {}
    for r in rows:
        x = r.get("step") if r.get("step") is not None else r.get("train_steps")
        if x is None or (r.get("step") is None and r.get("train_steps") is None):
            continue
        label = f"{r['experiment']} {r['variant']}".strip()
        curves.setdefault(label, []).append(
            {"x": x, "misaligned": r.get("misaligned"), "ci_low": r.get("ci_low"),
             "ci_high": r.get("ci_high")})
    return {k: v for k, v in curves.items() if len(v) > 1}


@register
class Checkpoint(Kind):
    """``checkpoint``: one ``sft(checkpoints=[...])`` adapter as its own out (stages.checkpoint);
    wired by the train kind, evaluated by every kind that evaluates the tuned model."""

    name = "checkpoint"
    order = 31


@register
class Train(Kind):
    name = "train"
    order = 30
    fields = {"train": "train"}
    metrics = ("metrics.json",)
    # dvclive's curves (stages.lib.training.base.live_logger), in DVC's editor integrations too
    plots = ("loss.csv", f"{LIVE_DIR}/loss.tsv", f"{LIVE_DIR}/learning_rate.tsv")
    dvc_plots = (DvcPlot("loss", "loss.csv", "training loss", {"x": "step", "y_label": "loss"},
                         ("loss",), rank=1),
                 DvcPlot("learning_rate", f"{LIVE_DIR}/learning_rate.tsv", "learning rate",
                         {"x": "step", "y_label": "learning rate"}, ("learning_rate",),
                         rank=5))
    sections = {"train": ("train", None)}
    columns = (Column("train_steps", "Int64"),)
    optional = ("step",)
    figure_rank = 2
    rules = (sft_needs_data, lora_layers_within_model)
    variant_rules = (checkpoints_within_run,)

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
            cfg = train_config({k: v for k, v in train.items() if k != "prompts"})
            adapter = b.add("train", "train", cfg, {
                "model": base, "data": data,
                "judge_model": judge_input(b, train["reward"]["judge"])})
        b.nodes["data"], b.nodes["adapter"] = data, adapter
        for step in train.get("checkpoints") or ():  # each evaluated like the final adapter
            b.nodes[f"{ADAPTER_AT}{step}"] = b.add(
                f"checkpoint_step{step}", "checkpoint", {"step": step}, {"adapter": adapter},
                name_role=f"step{step}")

    def fill(self, v: VariantResults) -> dict[str, Any]:
        """The run's optimizer steps, for variants with checkpoints (the final row's step)."""
        if not v.config("train").get("checkpoints"):
            return {"train_steps": None}
        return {"train_steps": (v.metrics("train") or {}).get("steps")}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        """The checkpoint a row is at; ``final`` (with the run's steps) for the last model of
        a run with checkpoints."""
        if r.get("step") is not None:
            return {"step": str(r["step"])}
        if r.get("train_steps") is not None:
            return {"step": f"final ({r['train_steps']})"}
        return {"step": "–"}

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("loss", "Training loss.",
                 plots.loss_curves(data.curves(("train",), "loss.csv"))),
                ("steps", "Misaligned fraction against training step (the checkpoints and the "
                          "final model; band: 95% interval).",
                 plots.misaligned_curves(step_curves(data.rows), "misaligned fraction vs "
                                         "training step", "optimizer step"))]

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        """Its training method, and a GRPO reward's judge backend."""
        from stages.lib import registry

        method = registry.module_path("train", config["type"])
        steering = ("stages.lib.directions",) if config.get("steer") else ()  # sft(steer=)
        return (method, *steering, *judge_code((config.get("reward") or {}).get("judge")))

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return prompt_files() if config["type"] == "grpo" else ()  # the reward judge's prompt
