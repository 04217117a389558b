"""A variant: one point of an experiment's sweep. A leaf module: the checker makes variants,
the graph and every stage kind read them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Variant:
    """One point of an experiment's sweep: a complete, validated config."""

    experiment: str
    file: Path
    axes: tuple[tuple[str, Any], ...]  # (("data.poison", 0.5), ("data.seed", 0))
    config: dict[str, Any]  # experiment field -> resolved value (None when absent)
    # How each axis value reads: the declared name a sweep listed (`med_subtle`), else its
    # shown value (`0.5`). Empty: every value shown by ``show_value``.
    shown: tuple[str, ...] = ()
    # The experiments it extends, oldest first, as (file, experiment): a node shared with an
    # ancestor is named after the ancestor, so adding an extending file renames nothing.
    lineage: tuple[tuple[str, str], ...] = ()

    def axis_labels(self) -> list[tuple[str, str]]:
        """(dotted path, how its value reads) per axis."""
        shown = self.shown or tuple(show_value(v) for _, v in self.axes)
        return [(path, s) for (path, _), s in zip(self.axes, shown, strict=True)]

    @property
    def label(self) -> str:
        return ",".join(f"{path.split('.')[-1]}={s}" for path, s in self.axis_labels())


def show_value(value: Any) -> str:
    """A sweep value as it appears in variant labels and stage names (``0.0``, ``medical``)."""
    if isinstance(value, dict):
        return value.get("domain") or value.get("name") or value.get("path") or value["type"]
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)
