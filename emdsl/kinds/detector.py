"""``detector``: the early-warning detector of a poison sweep: the diff's top latent and every
monitored direction or latent, against behaviour."""

from __future__ import annotations

import re

from emdsl import plots
from emdsl.graph import Built, Graph, Node, poison_points
from emdsl.kinds import DvcPlot, FigureData, Kind, register

_DIFF_AT = re.compile(r"^diff_step(\d+)$")  # a checkpoint's diff (kinds.diff)


@register
class Detector(Kind):
    name = "detector"
    order = 90
    metrics = ("metrics.json",)
    plots = ("curve.csv",)
    dvc_plots = (DvcPlot("detector", "curve.csv", "latent activation vs behaviour",
                         {"x": "x", "x_label": "poison ratio", "y_label": "value"},
                         ("latent", "misaligned"), rank=4),)
    figure_rank = 5

    def gather(self, graph: Graph, built: Built) -> None:
        """One node per experiment whose variants sweep ``data.poison`` and have a diff and a
        tuned judge; its inputs are every variant's diff and judge, in sweep order. With no
        poison sweep, over the training checkpoints instead (``sft(checkpoints=[...])``, two
        or more): x is the step, each variant's checkpoints a point (seeds pooled)."""
        points = poison_points(built, "diff", "judge_tuned") \
            or poison_points(built, "monitor_tuned", "judge_tuned")  # monitors alone will do
        if not points:
            self.gather_steps(graph, built)
            return
        monitored = all("monitor_tuned" in roles for _, roles in points)
        inputs: dict[str, Node] = {}
        config_points = []
        for i, (v, roles) in enumerate(points):
            if "diff" in roles:
                inputs[f"diff_{i}"] = graph.nodes[roles["diff"]]
            inputs[f"judge_{i}"] = graph.nodes[roles["judge_tuned"]]
            if monitored:  # the monitors' signals are candidate early warnings too
                inputs[f"monitor_{i}"] = graph.nodes[roles["monitor_tuned"]]
            config_points.append({"poison": dict(v.axes)["data.poison"],
                                  "axes": {p: x for p, x in v.axes if p != "data.poison"}})
        ev = points[0][0].config["eval"]
        config = {"points": config_points, "bootstrap": 1000, "seed": 0,
                  "aligned_below": ev["aligned_below"], "coherent_above": ev["coherent_above"]}
        graph.add_shared(Node("detector", config, inputs), points, "detector")

    def gather_steps(self, graph: Graph, built: Built) -> None:
        found = [(v, roles, steps) for v, roles in built
                 if (steps := sorted(int(m.group(1)) for r in roles
                                     if (m := _DIFF_AT.match(r))
                                     and f"judge_step{m.group(1)}" in roles))]
        if not found or len({s for *_, steps in found for s in steps}) < 2:
            return
        inputs: dict[str, Node] = {}
        config_points = []
        for v, roles, steps in found:
            for s in steps:
                i = len(config_points)
                inputs[f"diff_{i}"] = graph.nodes[roles[f"diff_step{s}"]]
                inputs[f"judge_{i}"] = graph.nodes[roles[f"judge_step{s}"]]
                config_points.append({"poison": float(s), "axes": dict(v.axes)})
        ev = found[0][0].config["eval"]
        config = {"points": config_points, "bootstrap": 1000, "seed": 0,
                  "aligned_below": ev["aligned_below"], "coherent_above": ev["coherent_above"],
                  "over": "step"}
        graph.add_shared(Node("detector", config, inputs),
                         [(v, roles) for v, roles, _ in found], "detector")

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("detector", "Early warning: the persona latent's activation and the "
                             "misaligned fraction against poison.",
                 plots.detector(data.curves(("detector",), "curve.csv")))]
