"""``screen``: training data screened along a direction (``data = screen(mix(...), ...)``).

Wired by ``train`` through :func:`data_node`: the wrapped data is its own ``data`` stage (the
same node as the unscreened experiment's), and a ``screen`` stage scores every example by the
projection of its mean answer-token residual (base model) on the direction and writes the
training set without the top ``drop`` share.
"""

from __future__ import annotations

from typing import Any

from emdsl.graph import Node, data_files
from emdsl.kinds import Builder, Column, Kind, VariantResults, register
from emdsl.kinds.direction import direction_node, label


def data_node(b: Builder, spec: dict[str, Any]) -> Node:
    """The node whose out is the training set: the data stage's, or the screen stage's."""
    if spec["type"] != "screen":
        return b.add("data", "data", spec, {}, files=data_files(spec))
    raw = b.add("data", "data", spec["data"], {}, files=data_files(spec["data"]))
    return b.add("screen", "screen", {"drop": spec["drop"], "direction": label(spec["direction"])},
                 {"data": raw, "model": b.nodes["model"],
                  "direction": direction_node(b, spec["direction"])})


def screened(m: dict[str, Any] | None) -> int | None:
    return None if not m else m.get("dropped")


@register
class Screen(Kind):
    name = "screen"
    order = 25  # wired by train
    metrics = ("metrics.json", "screened.json")
    columns = (Column("screened", "Int64", compared="rows screened out"),)
    optional = ("screened",)
    sections = {"screen": ("data", None)}

    def fill(self, v: VariantResults) -> dict[str, Any]:
        return {"screened": screened(v.metrics("screen"))}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        return {"screened": "–" if r["screened"] is None else f"{r['screened']} dropped"}
