"""``direction``: activation directions (``contrast``, ``shift``, ``saved``, ``random``).

A direction is declared once (``direction evil = contrast(...)``) and wired on demand by the
kinds that use it (steer, monitor, screen, train's preventative steering) through
:func:`direction_node`: one node per direction and base model, keyed by content, so every
variant and experiment that uses it shares one stage. A ``shift`` direction reads the
variant's tuned model, so it is a node per variant.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from emdsl.builtin.files import builtin_files
from emdsl.diagnostics import Diagnostic
from emdsl.graph import Node, data_files, slug
from emdsl.kinds import Builder, Column, Kind, Subject, VariantResults, register
from emdsl.kinds.model import model_depth


def as_list(value: Any) -> list[dict[str, Any]]:
    """A directions field's value as a list: none, one direction, or a list of them."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def label(spec: dict[str, Any], index: int = 0) -> str:
    """How a direction is named in stages, columns and files: its declaration's name."""
    return spec.get("name") or f"{spec['type']}{index + 1}"


def labels(specs: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for i, spec in enumerate(specs):
        name = label(spec, i)
        out.append(name if name not in out else f"{name}{i + 1}")
    return out


def node_config(spec: dict[str, Any]) -> dict[str, Any]:
    """The direction's own config: its name labels it, and is no part of its key."""
    return {k: v for k, v in spec.items() if k != "name"}


def directions_of(config: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where it is written, spec) for every direction an experiment uses."""
    for field in ("steer", "monitor"):
        for i, spec in enumerate(as_list((config.get(field) or {}).get("directions"))):
            yield f"{field}.directions.{i}", spec
    data = config.get("data") or {}
    if data.get("type") == "screen":
        yield "data.direction", data["direction"]
    steering = (config.get("train") or {}).get("steer")
    if steering:
        yield "train.steer.direction", steering["direction"]


def direction_node(b: Builder, spec: dict[str, Any], index: int = 0) -> Node:
    """The node computing ``spec`` for this variant (one per distinct direction)."""
    cfg = node_config(spec)
    memo = ("direction", json.dumps(cfg, sort_keys=True))
    if memo in b.memo:
        return b.memo[memo]
    inputs: dict[str, Node | None] = {"model": b.nodes["model"]}
    if spec["type"] == "saved":
        inputs = {}
    elif spec["type"] == "shift":
        texts = b.nodes.get("answers_base") if spec["on"] == "eval" else b.nodes.get("data")
        if b.nodes.get("adapter") is None or texts is None:
            raise b.error(f"`shift(on=\"{spec['on']}\")` needs `train` and "
                          f"`{'eval' if spec['on'] == 'eval' else 'data'}`")
        inputs.update(adapter=b.nodes["adapter"], texts=texts)
    name = slug(label(spec, index))
    role = f"direction_{name}"
    n = 1
    while role in b.roles:
        n += 1
        role = f"direction_{name}{n}"
    node = b.add(role, "direction", cfg, inputs, name_role=name, files=data_files(spec))
    b.memo[memo] = node
    return node


def direction_inputs(b: Builder, specs: list[dict[str, Any]]) -> dict[str, Node]:
    """``direction_0``, ``direction_1`` ...: the nodes of ``specs``, as a stage's inputs."""
    return {f"direction_{i}": direction_node(b, s, i) for i, s in enumerate(specs)}


def spec_layer(spec: dict[str, Any]) -> int | None:
    """The layer a direction lives at, where known before it runs (not a saved file's)."""
    return spec.get("layer") if spec["type"] != "saved" else None


# --------------------------------------------------------------------------- cross-checks


def direction_layers_within_model(s: Subject) -> Iterator[Diagnostic]:
    depth = model_depth(s.config["base"])
    if depth is None:
        return
    for where, spec in directions_of(s.config):
        layer = spec_layer(spec)
        if layer is not None and layer >= depth:
            yield Diagnostic(s.at(f"{where}.layer", where),
                             f"direction `{label(spec)}`: layer {layer} is beyond the model's "
                             f"depth ({depth} layers)", f"use a layer from 0 to {depth - 1}")


def shift_needs_a_tuned_model(s: Subject) -> Iterator[Diagnostic]:
    """``shift`` is tuned minus base: it needs the experiment's ``train`` (and its ``eval``
    or ``data``), and cannot feed what comes before training (screening, sft's steering)."""
    for where, spec in directions_of(s.config):
        if spec["type"] != "shift":
            continue
        if where in ("data.direction", "train.steer.direction"):
            yield Diagnostic(s.at(where), f"direction `{label(spec)}` is a `shift`, measured on "
                             "the tuned model, which this step comes before",
                             "use a `contrast(...)` or `saved(...)` direction here")
            continue
        source = "eval" if spec["on"] == "eval" else "data"
        for need in ("train", source):
            if s.config.get(need) is None:
                yield Diagnostic(s.at(where), f"direction `{label(spec)}` (`shift`) needs "
                                 f"`{need}` in experiment `{s.experiment}`",
                                 "shift is the tuned model's mean activation minus the base's")
                break


def summary(m: dict[str, Any] | None, name: str) -> str | None:
    """``evil ‖12.3‖ gap 12.3 (held out 9.8)``."""
    if not m:
        return None
    text = f"{name} ‖{m.get('norm', 0):.3g}‖"
    if m.get("gap") is not None:
        text += f" gap {m['gap']:.3g}"
        if m.get("heldout_gap") is not None:
            text += f" (held out {m['heldout_gap']:.3g})"
    return text


@register
class Direction(Kind):
    name = "direction"
    order = 45  # wired on demand by train, steer, monitor; shift after generate
    metrics = ("metrics.json",)
    columns = (Column("directions", "String", compared="directions"),)
    optional = ("directions",)
    rules = (direction_layers_within_model, shift_needs_a_tuned_model)

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config.get("questions"))

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        """A contrast samples answers (a loaded model: plain or static)."""
        from emdsl.kinds.generate import sampler_code

        return sampler_code("auto", loaded=True) if config["type"] == "contrast" else ()

    def fill(self, v: VariantResults) -> dict[str, Any]:
        parts = [summary(v.metrics(role), role.removeprefix("direction_"))
                 for role in sorted(v.stages) if role.startswith("direction_")]
        return {"directions": "; ".join(p for p in parts if p) or None}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        return {"directions": r["directions"] or "–"}
