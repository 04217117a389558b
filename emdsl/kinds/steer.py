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
    if steer is None or not is_top(steer["latents"]):
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
    if sae is None or steer is None or not isinstance(steer["latents"], list):
        return
    bad = [i for i in steer["latents"] if not 0 <= i < sae["width"]]
    if bad:
        yield Diagnostic(s.at("steer.latents"),
                         f"latent ids {bad} are outside the SAE's width ({sae['width']})",
                         "ids run from 0 to width - 1")


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
    rules = (needs("steer", "sae", "eval",
                   why="steering adds SAE decoder directions and judges answers"),
             top_latents_within_diff, latent_ids_within_sae)
    figure_rank = 3

    def wire(self, b: Builder) -> None:
        c, ev, sae = b.config, eval_config(b), b.nodes.get("sae")
        if c["steer"] is None or sae is None or ev is None:
            return
        for who, adapter in evaluated(b):
            cfg = {"steer": c["steer"], "layer": c["sae"]["layer"], "eval": ev, "target": who}
            b.add(f"steer_{who}", "steer", cfg,
                  {"model": b.nodes["model"], "adapter": adapter, "sae": sae,
                   "diff": b.nodes.get("diff") if is_top(c["steer"]["latents"]) else None,
                   "judge_model": judge_input(b, ev["judge"]),
                   "shots": b.nodes.get("shots")}, name_role=who)

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
