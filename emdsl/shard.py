"""Splitting one file's stages into N shards that can run on separate machines.

A stage belongs to a *unit* when every variant using it is one variant (its data, training,
tuned generation and judging...). Units are independent of each other, so they are the work
that is split: sorted by name and dealt round-robin, unit k to shard ``k mod N + 1``; the same
file and N give the same split on every machine.

Stages used by several variants fall in two groups:

* *shared* upstream stages (the base model, the SAE, a judge's probe, the base answers): they
  depend on no unit. Shard 1 runs them; the other shards restore them from the remote's
  run-cache when shard 1 has pushed them, and otherwise compute them too (the same stage,
  deterministically; the duplicate work is the price of not waiting).
* *gather* stages (a sweep's summary, the detector): they read several units. No shard runs
  them; ``emx pull`` and ``emx run`` after every shard has pushed do (they are cheap).

Pure functions over plain names, so the split is unit-tested without DVC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ShardPlan:
    index: int  # 1-based
    count: int
    units: list[str]  # the units this shard owns
    targets: list[str]  # stages this shard reproduces (its units' stages; + shared on shard 1)
    shared: list[str]  # every shared upstream stage (shard 1 runs them)
    gather: list[str]  # stages that combine units: run after all shards


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → (2, 4); shards are numbered from 1."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m:
        raise ValueError(f"bad shard `{text}`: write I/N, e.g. --shard 1/4")
    i, n = int(m.group(1)), int(m.group(2))
    if not 1 <= i <= n:
        raise ValueError(f"bad shard `{text}`: need 1 ≤ I ≤ N")
    return i, n


def ancestors(deps: Mapping[str, Iterable[str]], name: str) -> set[str]:
    """Every stage ``name`` depends on, transitively (not itself)."""
    seen: set[str] = set()
    todo = list(deps.get(name, ()))
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(deps.get(d, ()))
    return seen


def classify(deps: Mapping[str, Iterable[str]], unit_of: Mapping[str, str | None]
             ) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """({unit: its stages}, shared stages, gather stages), each sorted.

    ``deps``: stage → the stages it reads; ``unit_of``: stage → its unit, or None when several
    variants use it.
    """
    units: dict[str, list[str]] = {}
    shared, gather = [], []
    for name in sorted(unit_of):
        unit = unit_of[name]
        if unit is not None:
            units.setdefault(unit, []).append(name)
        elif any(unit_of.get(a) is not None for a in ancestors(deps, name)):
            gather.append(name)
        else:
            shared.append(name)
    return units, shared, gather


def plan(deps: Mapping[str, Iterable[str]], unit_of: Mapping[str, str | None], index: int,
         count: int) -> ShardPlan:
    """What shard ``index`` of ``count`` runs."""
    if not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count}: need 1 ≤ I ≤ N")
    units, shared, gather = classify(deps, unit_of)
    mine = [u for k, u in enumerate(sorted(units)) if k % count == index - 1]
    targets = sorted({s for u in mine for s in units[u]} | (set(shared) if index == 1 else set()))
    return ShardPlan(index, count, mine, targets, shared, gather)


def graph_inputs(graph: Any, names: Iterable[str]) -> tuple[dict[str, list[str]],
                                                             dict[str, str | None]]:
    """(deps, unit_of) of a compiled graph's stages ``names``: a unit is one variant, named
    ``file:experiment:label``."""
    wanted = set(names)
    deps: dict[str, list[str]] = {}
    unit_of: dict[str, str | None] = {}
    for node in graph.nodes.values():
        if node.name not in wanted:
            continue
        deps[node.name] = sorted(n.name for n in node.inputs.values())
        variants = {(str(v.file), v.experiment, v.label or "") for v, _ in node.users}
        unit_of[node.name] = ":".join(variants.pop()) if len(variants) == 1 else None
    return deps, unit_of
