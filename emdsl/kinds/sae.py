"""``sae``: a sae-lens SAE trained on a corpus of the base model's residual activations."""

from __future__ import annotations

from collections.abc import Iterator

from emdsl.diagnostics import Diagnostic
from emdsl.kinds import Builder, Kind, Subject, register
from emdsl.kinds.model import model_depth


def sae_layer_within_model(s: Subject) -> Iterator[Diagnostic]:
    depth, sae = model_depth(s.config["base"]), s.config["sae"]
    if depth is not None and sae is not None and sae["layer"] >= depth:
        yield Diagnostic(s.at("sae.layer"),
                         f"layer {sae['layer']} is beyond the model's depth ({depth} layers)",
                         f"use a layer from 0 to {depth - 1}")


@register
class Sae(Kind):
    name = "sae"
    order = 55
    fields = {"sae": "sae"}
    metrics = ("metrics.json",)
    sections = {"sae": ("sae", None)}
    rules = (sae_layer_within_model,)

    def wire(self, b: Builder) -> None:
        sae = b.config["sae"]
        if sae is None:
            return
        corpus = b.add("acts_corpus", "acts",
                       {"source": "corpus", "layer": sae["layer"], "tokens": sae["tokens"],
                        "seed": sae["seed"]},
                       {"model": b.nodes["model"]}, name_role="corpus")
        b.nodes["sae"] = b.add("sae", "sae", sae, {"acts": corpus})
