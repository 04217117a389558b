"""``model``: the base model as a local HF folder (the embedded GGUF converted once)."""

from __future__ import annotations

from emdsl.kinds import Builder, Kind, register


@register
class Model(Kind):
    name = "model"
    order = 10
    fields = {"base": "model"}
    sections = {"model": ("base", None)}

    def wire(self, b: Builder) -> None:
        b.nodes["model"] = b.add("model", "model", b.config["base"], {})
