"""``acts``: residual activations at a layer (wired by ``sae`` and ``diff``)."""

from __future__ import annotations

from typing import Any

from emdsl.builtin.catalog import DATASET_DOMAINS
from emdsl.builtin.files import builtin_files
from emdsl.kinds import Kind, register


@register
class Acts(Kind):
    name = "acts"
    order = 50

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        if config["source"] != "corpus":  # texts come from its input stages
            return ()
        return builtin_files([{"type": "builtin", "domain": d} for d in DATASET_DOMAINS])
