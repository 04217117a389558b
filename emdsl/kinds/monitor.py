"""``monitor``: projections of the eval prompts' activations on directions and latents, per
evaluated model (base, tuned, and whatever else ``evaluated(b)`` lists)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emdsl import plots
from emdsl.builtin.files import builtin_files
from emdsl.diagnostics import Diagnostic
from emdsl.graph import data_files
from emdsl.kinds import (
    Builder,
    Column,
    FigureData,
    Kind,
    Subject,
    VariantResults,
    needs,
    register,
)
from emdsl.kinds.direction import as_list, direction_inputs, labels, node_config
from emdsl.kinds.generate import eval_config, evaluated


def is_top(latents: Any) -> bool:
    return isinstance(latents, dict) and latents.get("type") == "top"


def monitor_latents_need_sae(s: Subject) -> Iterator[Diagnostic]:
    monitor = s.config["monitor"]
    if monitor is None or monitor.get("latents") is None:
        return
    if s.config["sae"] is None:
        yield Diagnostic(s.at("monitor.latents", "monitor"),
                         "monitoring latents needs an `sae` in this experiment",
                         "add `sae = sae(...)`, or monitor `directions=[...]` only")
    elif is_top(monitor["latents"]) and s.config["diff"] is None:
        yield Diagnostic(s.at("monitor.latents"),
                         "monitoring `top(k)` latents needs a `diff` in this experiment",
                         "add `diff = diff(top=20)`, or list latent ids: `latents=[10, 89]`")


def signals(m: dict[str, Any] | None) -> dict[str, float]:
    return {sig["name"]: sig["mean"] for sig in (m or {}).get("signals") or []
            if sig.get("mean") is not None}


def monitoring(by_model: dict[str, dict[str, Any] | None]) -> str | None:
    """``"evil 0.12→0.48, drift 0.01→0.93"``: each signal's mean projection, base → tuned (a
    single model's value alone)."""
    values = {who: signals(m) for who, m in by_model.items()}
    names = list(dict.fromkeys(n for v in values.values() for n in v))
    parts = []
    for name in names:
        shown = [f"{values[who][name]:.3g}" for who in values if name in values[who]]
        parts.append(f"{name} " + "→".join(shown))
    return ", ".join(parts) or None


@register
class Monitor(Kind):
    name = "monitor"
    order = 65  # after sae and diff
    fields = {"monitor": "monitor"}
    metrics = ("metrics.json",)
    plots = ("monitor.csv",)
    columns = (Column("monitor", "String", compared="monitor"),)
    optional = ("monitor",)
    sections = {"monitor_base": ("monitor", "monitor"), "monitor_tuned": ("monitor", "monitor")}
    rules = (needs("monitor", "eval", why="monitors project the eval prompts' activations"),
             monitor_latents_need_sae)
    figure_rank = 6

    def wire(self, b: Builder) -> None:
        c, monitor = b.config, b.config["monitor"]
        ev = eval_config(b)  # its questions are the prompts monitored
        if monitor is None or ev is None:
            return
        specs = as_list(monitor.get("directions"))
        latents = monitor.get("latents")
        if latents is not None and b.nodes.get("sae") is None:
            return  # the checker says why (monitor_latents_need_sae)
        own = {**monitor, "directions": [node_config(d) for d in specs]} if specs else monitor
        for who, adapter in evaluated(b):
            cfg = {"monitor": own, "labels": labels(specs), "questions": ev["questions"],
                   "paraphrases": ev.get("paraphrases"), "target": who}
            inputs = {"model": b.nodes["model"], "adapter": adapter,
                      **direction_inputs(b, specs)}
            if latents is not None:
                cfg["layer"] = c["sae"]["layer"]
                inputs["sae"] = b.nodes["sae"]
                inputs["diff"] = b.nodes.get("diff") if is_top(latents) else None
            b.add(f"monitor_{who}", "monitor", cfg, inputs, name_role=who,
                  files=data_files(ev["questions"]))

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config["questions"])

    def fill(self, v: VariantResults) -> dict[str, Any]:
        return {"monitor": monitoring({who: v.metrics(f"monitor_{who}")
                                       for who in ("base", "tuned") if f"monitor_{who}"
                                       in v.stages})}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        return {"monitor": r["monitor"] or "–"}

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("monitor", "Monitors: mean projection of the eval prompts' activations on "
                            "each direction (latents: mean activation); bars: 95% interval.",
                 plots.monitor(data.curves(("monitor_base", "monitor_tuned"), "monitor.csv")))]
