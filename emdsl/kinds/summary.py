"""``summary``: misaligned fraction vs poison, one row per variant of a judged poison sweep."""

from __future__ import annotations

import json
from typing import Any

from emdsl import plots
from emdsl.graph import Built, Graph, Node, poison_points
from emdsl.kinds import DvcPlot, FigureData, Kind, register


def poison_groups(rows: list[dict[str, Any]]) -> plots.Curves:
    """Variants with a poison axis, grouped by experiment and their other sweep axes."""
    groups: plots.Curves = {}
    evals: dict[str, set] = {}  # an experiment with several evals: one line per eval
    for r in rows:
        evals.setdefault(r["experiment"], set()).add(r.get("eval"))
    for r in rows:
        axes = json.loads(r["axes"])
        if "data.poison" not in axes:
            continue
        rest = ",".join(f"{k.split('.')[-1]}={v}" for k, v in axes.items() if k != "data.poison")
        if len(evals[r["experiment"]]) > 1:
            rest = f"{rest} [{r['eval']}]".strip()
        groups.setdefault(f"{r['experiment']} {rest}".strip(), []).append(
            {**r, "poison": axes["data.poison"]})
    return {k: v for k, v in groups.items() if len(v) > 1}


def base_rate(rows: list[dict[str, Any]]) -> float | None:
    """The base model's misaligned fraction when every variant shares it."""
    rates = {r["base_misaligned"] for r in rows if r["base_misaligned"] is not None}
    return rates.pop() if len(rates) == 1 else None


@register
class Summary(Kind):
    name = "summary"
    order = 91
    plots = ("summary.csv",)
    dvc_plots = (DvcPlot("misaligned-vs-poison", "summary.csv",
                         "misaligned fraction vs poison ratio (with 95% CI)",
                         {"x": "poison", "x_label": "poison ratio",
                          "y_label": "misaligned fraction"},
                         ("misaligned", "ci_low", "ci_high"), rank=0),)
    figure_rank = 1

    def gather(self, graph: Graph, built: Built) -> None:
        """Cheap: it reads the tuned judges' metrics files, so it is its own node (never a
        detector's bootstrap) and runs for every poison sweep that is judged."""
        points = poison_points(built, "judge_tuned")
        if not points:
            return
        inputs = {f"judge_{i}": graph.nodes[roles["judge_tuned"]]
                  for i, (_, roles) in enumerate(points)}
        config = {"points": [{"poison": dict(v.axes)["data.poison"], "variant": v.label}
                             for v, _ in points]}
        graph.add_shared(Node("summary", config, inputs, via_results=True), points, "summary")

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("poison", "Misaligned fraction vs poison ratio; band: 95% interval.",
                 plots.misaligned_vs_poison(poison_groups(data.rows), base_rate(data.rows)))]
