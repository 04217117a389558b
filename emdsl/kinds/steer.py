"""``steer``: generation with latent directions added, judged per coefficient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from emdsl import plots
from emdsl.builtin.files import builtin_files, prompt_files
from emdsl.diagnostics import Diagnostic
from emdsl.kinds import (
    Builder,
    Column,
    DvcPlot,
    FigureData,
    Kind,
    Subject,
    VariantResults,
    needs,
    num_cell,
    register,
)
from emdsl.kinds.direction import as_list, direction_inputs, labels, node_config, spec_layer
from emdsl.kinds.generate import eval_code, eval_config, evaluated
from emdsl.kinds.judge_train import judge_input


def is_top(latents: Any) -> bool:
    """Steering ``top(k)`` latents reads the diff's ranking; ids and ``random(k)`` do not."""
    return isinstance(latents, dict) and latents.get("type") == "top"


def steering(by_target: dict[str, dict[str, Any] | None]) -> str | None:
    """``"tuned -8→0.10, 8→0.52"``: misaligned fraction per steering coefficient."""
    parts = []
    for who, m in by_target.items():
        points = [f"{p['coef']:g}→{num_cell(p.get('misaligned_fraction'))}"
                  for p in (m or {}).get("coefficients") or []]
        if points:
            parts.append(f"{who} " + ", ".join(points))
    return "; ".join(parts) or None


def top_latents_within_diff(s: Subject) -> Iterator[Diagnostic]:
    """Steering ``top(k)`` latents takes them from this experiment's diff, which keeps ``top``."""
    steer, diff = s.config["steer"], s.config["diff"]
    if steer is None or not is_top(steer.get("latents")):
        return
    if diff is None:
        yield Diagnostic(s.at("steer.latents"),
                         "steering `top(k)` latents needs a `diff` in this experiment",
                         "add `diff = diff(top=20)`, or list latent ids: `latents=[10, 89]`")
    elif steer["latents"]["k"] > diff["top"]:
        yield Diagnostic(s.at("steer.latents"),
                         f"`top({steer['latents']['k']})` asks for more latents than the diff "
                         f"keeps ({diff['top']})", "raise `diff(top=...)`")


def latent_ids_within_sae(s: Subject) -> Iterator[Diagnostic]:
    sae, steer = s.config["sae"], s.config["steer"]
    if sae is None or steer is None or not isinstance(steer.get("latents"), list):
        return
    bad = [i for i in steer["latents"] if not 0 <= i < sae["width"]]
    if bad:
        yield Diagnostic(s.at("steer.latents"),
                         f"latent ids {bad} are outside the SAE's width ({sae['width']})",
                         "ids run from 0 to width - 1")


def latents_need_sae(s: Subject) -> Iterator[Diagnostic]:
    """Steering along latents adds SAE decoder directions; along directions it needs none."""
    steer = s.config["steer"]
    if steer is not None and steer.get("latents") is not None and s.config["sae"] is None:
        yield Diagnostic(s.at("steer"), f"`steer` needs `sae` in experiment `{s.experiment}`",
                         "steering latents adds SAE decoder directions; add `sae = sae(...)`, "
                         "or steer along `directions=[...]`")


def directions_share_a_layer(s: Subject) -> Iterator[Diagnostic]:
    """Several directions are added as one unit vector, at one layer."""
    steer = s.config["steer"]
    specs = as_list((steer or {}).get("directions"))
    layers = {spec_layer(d) for d in specs} - {None}
    if len(layers) > 1:
        yield Diagnostic(s.at("steer.directions"),
                         f"steering directions at different layers ({sorted(layers)})",
                         "steer along directions of one layer; one experiment per layer")


def steer_config(steer: dict[str, Any]) -> dict[str, Any]:
    """The steer call as its stage sees it: directions without their names (they label)."""
    if steer.get("directions") is None:
        return steer
    return {**steer, "directions": [node_config(d) for d in as_list(steer["directions"])]}


@register
class Steer(Kind):
    name = "steer"
    order = 70
    fields = {"steer": "steer"}
    metrics = ("metrics.json",)
    plots = ("curve.csv",)
    dvc_plots = (DvcPlot("steering", "curve.csv", "steering: misaligned fraction per coefficient",
                         {"x": "x", "x_label": "steering coefficient",
                          "y_label": "misaligned fraction"}, ("misaligned",), rank=2),)
    columns = (Column("steering", "String", compared="steering"),)
    optional = ("steering",)
    sections = {"steer_base": ("steer", "steer"), "steer_tuned": ("steer", "steer")}
    rules = (needs("steer", "eval", why="steering judges the steered answers"),
             latents_need_sae, directions_share_a_layer, top_latents_within_diff,
             latent_ids_within_sae)
    figure_rank = 3

    def wire(self, b: Builder) -> None:
        c, ev, sae = b.config, eval_config(b), b.nodes.get("sae")
        if c["steer"] is None or ev is None:
            return
        specs = as_list(c["steer"].get("directions"))
        if not specs and sae is None:
            return
        for who, adapter in evaluated(b):
            inputs = {"model": b.nodes["model"], "adapter": adapter,
                      "judge_model": judge_input(b, ev["judge"]),
                      "shots": b.nodes.get("shots")}
            if specs:  # along directions: no SAE; the layer is the directions'
                cfg = {"steer": steer_config(c["steer"]), "labels": labels(specs),
                       "layer": next((spec_layer(d) for d in specs if spec_layer(d) is not None),
                                     None), "eval": ev, "target": who}
                inputs.update(direction_inputs(b, specs))
            else:
                cfg = {"steer": c["steer"], "layer": c["sae"]["layer"], "eval": ev,
                       "target": who}
                inputs.update(sae=sae, diff=b.nodes.get("diff")
                              if is_top(c["steer"]["latents"]) else None)
            b.add(f"steer_{who}", "steer", cfg, inputs, name_role=who)

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config["eval"]["questions"]) + prompt_files()

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        return eval_code(config["eval"])

    def fill(self, v: VariantResults) -> dict[str, Any]:
        return {"steering": steering({who: v.metrics(f"steer_{who}")
                                      for who in ("tuned", "base")})}

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        return {"steering": r["steering"] or "–"}

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("steering", "Steering: misaligned fraction per coefficient; band: 95% interval.",
                 plots.misaligned_curves(data.curves(("steer_tuned", "steer_base"), "curve.csv"),
                                         "steering", "steering coefficient"))]
