"""``sae``: a sae-lens SAE trained on a corpus of the base model's residual activations."""

from __future__ import annotations

from emdsl.kinds import Builder, Kind, register


@register
class Sae(Kind):
    name = "sae"
    order = 55
    fields = {"sae": "sae"}
    metrics = ("metrics.json",)
    sections = {"sae": ("sae", None)}

    def wire(self, b: Builder) -> None:
        sae = b.config["sae"]
        if sae is None:
            return
        corpus = b.add("acts_corpus", "acts",
                       {"source": "corpus", "layer": sae["layer"], "tokens": sae["tokens"],
                        "seed": sae["seed"]},
                       {"model": b.nodes["model"]}, name_role="corpus")
        b.nodes["sae"] = b.add("sae", "sae", sae, {"acts": corpus})
