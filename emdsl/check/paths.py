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
        value, role = unwrap(value, role, part)
        cls = configs.calls_for(role)[value["type"]]
        names = {x.name: x for x in configs.config_fields(cls)}
        if part not in names:
            return f"`{walked}` is `{value['type']}(...)`, which has no field `{part}`"
        f = names[part]
        role = f.metadata.get("role", "")
        value = value.get(part)
        walked += "." + part
    return (cls, f)


def unwrap(value: dict[str, Any], role: str, part: str) -> tuple[dict[str, Any], str]:
    """A wrapping call (``screen(mix(...), ...)``, whose class names the field it wraps in
    ``WRAPS``) that has no field ``part`` passes the path on to what it wraps, so a sweep of
    ``data.poison`` reaches the mix inside. Anything else is returned as it is."""
    while isinstance(value, dict):
        cls = configs.calls_for(role).get(value.get("type", ""))
        wraps = getattr(cls, "WRAPS", None)
        if cls is None or wraps is None or part in {f.name for f in configs.config_fields(cls)}:
            break
        inner = next(f for f in configs.config_fields(cls) if f.name == wraps)
        if not isinstance(value.get(wraps), dict):
            break
        value, role = value[wraps], inner.metadata.get("role", "")
    return value, role


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
        for i, part in enumerate(rest):
            node, node_role = chain[-1]
            inner = unwrap(node, node_role, part)
            if inner[0] is not node:
                chain.append(inner)  # the wrapped call is re-validated too
                node, node_role = inner
            if i == len(rest) - 1:
                break
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
