"""``model``: the base model as a local HF folder (the embedded GGUF converted once)."""

from __future__ import annotations

import json
from contextvars import ContextVar
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


# The project root local model folders are read from, while ``emx check`` runs (rules see
# configs, not the root): None elsewhere, and a local model's depth is then unknown.
PROJECT_ROOT: ContextVar[Path | None] = ContextVar("PROJECT_ROOT", default=None)


def model_depth(model: dict[str, Any] | None) -> int | None:
    """Number of decoder layers, where known without loading the model: the embedded
    model's, or the ``num_hidden_layers`` of a local folder's config.json."""
    if not model:
        return None
    if model["type"] == "embedded":
        return configs.EMBEDDED_MODELS[model["name"]]["layers"]
    root = PROJECT_ROOT.get()
    folder = model.get("dir") if model["type"] == "path" else model.get("name")
    if root is None or model["type"] not in ("path", "hf") or not isinstance(folder, str):
        return None
    return config_depth(root / folder / "config.json")


def config_depth(path: Path) -> int | None:
    """``num_hidden_layers`` of a Hugging Face config.json (or its ``text_config``'s)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(config, dict):
        return None
    for c in (config, config.get("text_config")):
        depth = c.get("num_hidden_layers") if isinstance(c, dict) else None
        if isinstance(depth, int) and not isinstance(depth, bool) and depth > 0:
            return depth
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
