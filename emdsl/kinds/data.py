"""``data``: an exact poison mix of builtin or JSONL chat data (wired by ``train``, which
needs it, and by ``diff(against="clean")`` and ``realign``)."""

from __future__ import annotations

from typing import Any

from emdsl.builtin.files import builtin_files
from emdsl.kinds import Kind, register


@register
class Data(Kind):
    name = "data"
    order = 20
    fields = {"data": "data"}
    metrics = ("stats.json",)
    sections = {"data": ("data", None)}

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config)
