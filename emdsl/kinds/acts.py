"""``acts``: residual activations at a layer (wired by ``sae`` and ``diff``)."""

from __future__ import annotations

from emdsl.kinds import Kind, register


@register
class Acts(Kind):
    name = "acts"
    order = 50
