"""``model``: the base model as a local HF folder (the embedded GGUF converted once)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from emdsl import configs
from emdsl.diagnostics import Diagnostic
from emdsl.graph import Node, data_files
from emdsl.kinds import Builder, Kind, Subject, register


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


def models_of(config: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, model spec) for every model an experiment runs: its base and its judges'."""
    if config.get("base"):
        yield "base", config["base"]
    judge = (config.get("eval") or {}).get("judge") or {}
    while isinstance(judge, dict) and judge:
        if isinstance(judge.get("model"), dict):
            yield "eval.judge.model", judge["model"]
        judge = judge.get("labels") or {}


def _local_folder(emx: Path, name: str) -> bool:
    """``hf(name)`` naming a folder in the project (found from the .emx file upwards)."""
    return any((folder / name).is_dir() for folder in emx.resolve().parents)


def hub_revision_pinned(s: Subject) -> Iterator[Diagnostic]:
    """A hub model without a ``revision`` is not content-addressed: the hub may serve other
    weights under the same stage key later, or to another machine."""
    for where, spec in models_of(s.config):
        if spec["type"] == "hf" and not spec.get("revision") \
                and not _local_folder(Path(s.pos.path), spec["name"]):
            yield Diagnostic(s.at(where), f"`hf(\"{spec['name']}\")` has no `revision`: its "
                             "stages are keyed by the name alone, not by the weights",
                             "pin it: `hf(..., revision=\"<commit sha>\")`", severity="warning")
            return


def add_model(b: Builder, role: str, spec: dict[str, Any]) -> Node:
    return b.add(role, "model", spec, {}, files=model_files(b.root, spec))


@register
class Model(Kind):
    name = "model"
    order = 10
    fields = {"base": "model"}
    sections = {"model": ("base", None)}
    rules = (hub_revision_pinned,)

    def wire(self, b: Builder) -> None:
        b.nodes["model"] = add_model(b, "model", b.config["base"])
