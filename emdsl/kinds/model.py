"""``model``: the base model as a local HF folder (the embedded GGUF converted once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emdsl import configs
from emdsl.graph import Node, data_files
from emdsl.kinds import Builder, Kind, register


def model_files(root: Path, spec: dict[str, Any]) -> tuple[str, ...]:
    """The project folder a model is read from, as a DVC dep: ``path(dir)``, or ``hf(name)``
    naming a local folder. A hub model is keyed by its name and revision instead."""
    if spec["type"] == "hf" and (root / spec["name"]).is_dir():
        return (spec["name"],)
    return data_files(spec)


def model_depth(model: dict[str, Any] | None) -> int | None:
    """Number of decoder layers, where known without loading the model."""
    if model and model["type"] == "embedded":
        return configs.EMBEDDED_MODELS[model["name"]]["layers"]
    return None


def add_model(b: Builder, role: str, spec: dict[str, Any]) -> Node:
    return b.add(role, "model", spec, {}, files=model_files(b.root, spec))


@register
class Model(Kind):
    name = "model"
    order = 10
    fields = {"base": "model"}
    sections = {"model": ("base", None)}

    def wire(self, b: Builder) -> None:
        b.nodes["model"] = add_model(b, "model", b.config["base"])
