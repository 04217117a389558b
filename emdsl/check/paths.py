"""Dotted paths into an experiment's resolved config (``data.poison``, ``train.method.rank``):
what a path names, a hint when it names nothing, and a copy of a config with paths set."""

from __future__ import annotations

import copy
from dataclasses import Field
from typing import Any

from emdsl import configs
from emdsl.diagnostics import did_you_mean
from emdsl.kinds import experiment_fields


def locate(config: dict[str, Any], path: tuple[str, ...]
           ) -> tuple[type | None, Field | None] | str:
    """The (config class, field) a dotted path names, or a message saying why it names none.

    A one-part path names a whole experiment field: ``(None, None)``.
    """
    head, *rest = path
    if head not in experiment_fields():
        return f"experiments have no field `{head}`"
    value = config.get(head)
    if value is None:
        return f"this experiment sets no `{head}`"
    role = experiment_fields()[head]
    cls = f = None
    walked = head
    for part in rest:
        if isinstance(value, list):
            return (f"`{walked}` is a list; sweeps and overrides reach into one call only, so "
                    f"write the values into each {role} of the list")
        if not isinstance(value, dict):
            return f"`{walked}` is not a call with fields"
        cls = configs.calls_for(role)[value["type"]]
        names = {x.name: x for x in configs.config_fields(cls)}
        if part not in names:
            return f"`{walked}` is `{value['type']}(...)`, which has no field `{part}`"
        f = names[part]
        role = f.metadata.get("role", "")
        value = value.get(part)
        walked += "." + part
    return (cls, f)


def path_hint(config: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """A did-you-mean (or the fields there are) for a path ``locate`` rejected."""
    head, *rest = path
    if head not in experiment_fields():
        return did_you_mean(head, experiment_fields())
    value = config.get(head)
    walked = [head]
    for part in rest:
        if not isinstance(value, dict):
            return None
        names = [k for k in value if k != "type"]
        if part not in value:
            return did_you_mean(part, names) or f"`{'.'.join(walked)}` has: {', '.join(names)}"
        value = value[part]
        walked.append(part)
    return None


def assign(config: dict[str, Any], assignments: list[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``config`` with dotted paths set, each touched call re-validated."""
    out = copy.deepcopy(config)
    for dotted, value in assignments:
        head, *rest = dotted.split(".")
        if not rest:
            out[head] = copy.deepcopy(value)
            continue
        role = experiment_fields()[head]
        chain = [(out[head], role)]
        for part in rest[:-1]:
            node, node_role = chain[-1]
            cls = configs.calls_for(node_role)[node["type"]]
            sub_role = {f.name: f.metadata.get("role", "") for f in configs.config_fields(cls)}
            chain.append((node[part], sub_role[part]))
        chain[-1][0][rest[-1]] = copy.deepcopy(value)
        # Re-validate from the innermost call outwards (defaults and ranges hold again).
        for node, node_role in reversed(chain):
            rebuilt = configs.rebuild(node, node_role)
            node.clear()
            node.update(rebuilt)
    return out


def freeze(value: Any) -> Any:
    """A hashable stand-in for a resolved value (to find repeated sweep values)."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value
