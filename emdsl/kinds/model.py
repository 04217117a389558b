"""``model``: the base model as a local HF folder (the embedded GGUF converted once)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
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


# The project root local model folders are read from, while ``emx check`` runs (rules see
# configs, not the root): None elsewhere, and a local model's depth is then unknown.
PROJECT_ROOT: ContextVar[Path | None] = ContextVar("PROJECT_ROOT", default=None)


def model_depth(model: dict[str, Any] | None) -> int | None:
    """Number of decoder layers, where known without loading the model: the embedded
    model's, or the ``num_hidden_layers`` of a local folder's config.json."""
    if not model:
        return None
    if model["type"] == "adapter":  # an adapter has its base's layers
        return model_depth(model.get("base"))
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


def models_of(config: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, model spec) for every model an experiment runs: its base and its judges'."""
    if config.get("base"):
        yield "base", config["base"]
        if config["base"]["type"] == "adapter" and isinstance(config["base"].get("base"), dict):
            yield "base.base", config["base"]["base"]
    every = config.get("evals") or [config.get("eval")]  # eval = [evaluate(...), ...]
    for i, ev in enumerate(every):
        judge = (ev or {}).get("judge") or {}
        while isinstance(judge, dict) and judge:
            if isinstance(judge.get("model"), dict):
                yield "eval.judge.model" if i == 0 else f"eval[{i}].judge.model", judge["model"]
            judge = judge.get("labels") or {}


def _local_folder(name: str) -> bool:
    """``hf(name)`` naming a folder in the project: then it is a dep, keyed by content
    (``model_files``), and needs no revision."""
    root = PROJECT_ROOT.get()
    return root is not None and (root / name).is_dir()


def hub_revision_pinned(s: Subject) -> Iterator[Diagnostic]:
    """A hub model without a ``revision`` is not content-addressed: the hub may serve other
    weights under the same stage key later, or to another machine."""
    for where, spec in models_of(s.config):
        if spec["type"] == "hf" and not spec.get("revision") \
                and not _local_folder(spec["name"]):
            yield Diagnostic(s.at(where), f"`hf(\"{spec['name']}\")` has no `revision`: its "
                             "stages are keyed by the name alone, not by the weights",
                             "pin it: `hf(..., revision=\"<commit sha>\")`", severity="warning")
            return


def add_model(b: Builder, role: str, spec: dict[str, Any]) -> Node:
    return b.add(role, "model", spec, {}, files=model_files(b.root, spec))


# --------------------------------------------------------------------------- adapter(...)

ADAPTER_CONFIG = "adapter_config.json"


def _hub_name(name: Any) -> str | None:
    """``org/model`` as a comparable name; None for a local or absolute path (unknowable)."""
    if not isinstance(name, str) or name.startswith(("/", ".", "artifacts")) \
            or name.count("/") != 1:
        return None
    return name.lower()


def adapter_checked(s: Subject) -> Iterator[Diagnostic]:
    """``adapter(dir, base=MODEL)``: only as an experiment's ``base``, not with ``train``; the
    folder holds peft's adapter_config.json, and its base model matches ``base`` when both
    name a hub model."""
    for where, spec in models_of(s.config):
        if spec["type"] == "adapter" and where != "base":
            yield Diagnostic(s.at(where), "`adapter(...)` can only be an experiment's `base`",
                             "give the judge its base model")
        if where == "base.base" and spec["type"] == "adapter":
            yield Diagnostic(s.at("base"), "`adapter(..., base=...)` needs a model as its "
                             "base, not another adapter", "name the base model")
    base = s.config.get("base") or {}
    if base.get("type") != "adapter":
        return
    if s.config.get("train") is not None:
        yield Diagnostic(s.at("train", "base"), "an experiment whose `base` is "
                         "`adapter(...)` evaluates that adapter; it cannot also `train`",
                         "train from its base model in another experiment")
    root = PROJECT_ROOT.get()
    if root is None or not isinstance(base.get("dir"), str):
        return
    path = root / base["dir"] / ADAPTER_CONFIG
    if not path.is_file():
        yield Diagnostic(s.at("base"), f"`{base['dir']}` has no {ADAPTER_CONFIG}: not a "
                         "LoRA adapter folder", "give the folder peft's save_pretrained wrote")
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        yield Diagnostic(s.at("base"), f"`{base['dir']}/{ADAPTER_CONFIG}` is not valid JSON",
                         "rewrite it with peft's save_pretrained")
        return
    inner = base.get("base") or {}
    theirs = _hub_name(saved.get("base_model_name_or_path")) if isinstance(saved, dict) \
        else None
    ours = _hub_name(inner.get("name")) if inner.get("type") == "hf" else None
    if theirs and ours and theirs != ours:
        yield Diagnostic(s.at("base"), f"`{base['dir']}` was trained on "
                         f"`{saved['base_model_name_or_path']}`, not on `{inner['name']}`",
                         "give `base=` the model the adapter was trained on")


@register
class Model(Kind):
    name = "model"
    order = 10
    fields = {"base": "model"}
    sections = {"model": ("base", None)}
    rules = (hub_revision_pinned, adapter_checked)

    def wire(self, b: Builder) -> None:
        spec = b.config["base"]
        if spec["type"] != "adapter":
            b.nodes["model"] = add_model(b, "model", spec)
            return
        # adapter(dir, base=MODEL): the base model, and the adapter as the tuned model
        b.nodes["model"] = add_model(b, "model", spec["base"])
        b.nodes["adapter"] = b.add("adapter", "adapter", {"dir": spec["dir"]}, {},
                                   files=data_files(spec))


@register
class Adapter(Kind):
    """``adapter``: a LoRA adapter folder from elsewhere, copied into the pipeline
    (stages.adapter); wired by the model kind for ``base = adapter(...)``."""

    name = "adapter"
    order = 11
