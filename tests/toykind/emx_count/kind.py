"""``count = count()``: how many answers each evaluated model gave (and how many were empty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emdsl import configs
from emdsl.kinds import Builder, Column, Kind, VariantResults, register
from emdsl.kinds.generate import evaluated


@configs.register("count", "count")
@dataclass
class Count(configs.Config):
    """Count the answers of every evaluated model; ``min_chars`` says what counts as empty."""

    min_chars: int = configs.num(1, ge=0)


@register
class CountKind(Kind):
    name = "count"
    entry = "emx_count.stage"
    order = 42  # after generate, which leaves the answer sets it reads
    fields = {"count": "count"}
    metrics = ("metrics.json",)
    columns = (Column("answers", "Int64", compared="answers"), Column("empty", "Int64"))
    optional = ("answers",)
    sections = {"count_base": ("count", None), "count_tuned": ("count", None)}

    def wire(self, b: Builder) -> None:
        if b.config.get("count") is None:
            return
        for who, _ in evaluated(b):
            if f"answers_{who}" in b.nodes:
                b.add(f"count_{who}", "count", b.config["count"],
                      {"answers": b.nodes[f"answers_{who}"]}, name_role=who)

    def fill(self, v: VariantResults) -> dict[str, Any]:
        m = v.metrics("count_tuned" if "count_tuned" in v.stages else "count_base") or {}
        return {"answers": m.get("answers"), "empty": m.get("empty")}

    def cells(self, row: dict[str, Any]) -> dict[str, str]:
        return {"answers": "–" if row["answers"] is None else str(row["answers"])}
