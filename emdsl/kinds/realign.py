"""``realign``: further SFT of the tuned model on good data, judged at checkpoints."""

from __future__ import annotations

from typing import Any

from emdsl import plots
from emdsl.builtin.files import builtin_files, prompt_files
from emdsl.graph import data_files
from emdsl.kinds import (
    Builder,
    Column,
    DvcPlot,
    FigureData,
    Kind,
    VariantResults,
    needs,
    num_cell,
    register,
)
from emdsl.kinds.generate import eval_code, eval_config
from emdsl.kinds.judge_train import judge_input


def realignment(m: dict[str, Any] | None) -> str | None:
    """``"steps 0→0.40, 30→0.05"``: misaligned fraction at each checkpoint, in the unit
    ``checkpoints=[...]`` is written in (optimiser steps; the figure's x is good examples
    seen, steps × batch). Results without steps read by examples seen, as before."""
    checkpoints = (m or {}).get("checkpoints") or []
    by_step = bool(checkpoints) and all("step" in p for p in checkpoints)
    points = [f"{p['step'] if by_step else p['seen']}→{num_cell(p.get('misaligned_fraction'))}"
              for p in checkpoints]
    return (("steps " if by_step else "") + ", ".join(points)) if points else None


@register
class Realign(Kind):
    name = "realign"
    order = 80
    fields = {"realign": "realign"}
    metrics = ("metrics.json",)
    plots = ("curve.csv",)
    dvc_plots = (DvcPlot("realignment", "curve.csv", "re-alignment: misaligned fraction",
                         {"x": "x", "x_label": "good examples seen",
                          "y_label": "misaligned fraction"}, ("misaligned",), rank=3),)
    columns = (Column("realignment", "String", compared="re-alignment"),)
    optional = ("re-alignment",)
    sections = {"realign": ("realign", "realign"), "realign_data": ("realign.data", "dataset")}
    rules = (needs("realign", "train", "eval", why="re-alignment continues from the tuned model"),)
    figure_rank = 4

    def wire(self, b: Builder) -> None:
        realign, ev, adapter = b.config["realign"], eval_config(b), b.nodes.get("adapter")
        if realign is None or adapter is None or ev is None:
            return
        good = b.add("realign_data", "data",
                     {"type": "take", "dataset": realign["data"], "size": realign["size"],
                      "seed": realign["seed"]},
                     {}, name_role="realign", files=data_files(realign["data"]))
        cfg = {k: v for k, v in realign.items() if k != "data"}
        b.add("realign", "realign", {"realign": cfg, "eval": ev},
              {"model": b.nodes["model"], "adapter": adapter, "data": good,
               "judge_model": judge_input(b, ev["judge"]), "shots": b.nodes.get("shots")})

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config["eval"]["questions"]) + prompt_files()

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        return eval_code(config["eval"])

    def fill(self, v: VariantResults) -> dict[str, Any]:
        return {"realignment": realignment(v.metrics("realign"))}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        return {"re-alignment": r["realignment"] or "–"}

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("realign", "Re-alignment: misaligned fraction as good examples are seen.",
                 plots.misaligned_curves(data.curves(("realign",), "curve.csv"),
                                         "re-alignment", "good examples seen"))]
