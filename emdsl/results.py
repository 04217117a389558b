"""Results of compiled experiments, read from the small metrics files git tracks.

``params.yaml`` maps every variant to its stages; each judge stage leaves
``results/<stage>/metrics.json``. This module joins the two into one row per variant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Row:
    file: str
    experiment: str
    variant: str
    axes: dict[str, Any]
    base: dict[str, Any] | None  # judge metrics of the base model's answers
    tuned: dict[str, Any] | None  # judge metrics of the fine-tuned model's answers


def load_metrics(root: Path, stage: str | None) -> dict[str, Any] | None:
    if stage is None:
        return None
    path = root / "results" / stage / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def collect(root: Path, files: list[str] | None = None,
            params_text: str | None = None) -> list[Row]:
    """One row per variant of the experiments in ``files`` (all files when None)."""
    if params_text is None:
        params_text = (root / "params.yaml").read_text(encoding="utf-8")
    index = (yaml.safe_load(params_text) or {}).get("experiments") or {}
    rows = []
    for file, experiments in sorted(index.items()):
        if files is not None and file not in files:
            continue
        for exp, variants in experiments.items():
            for label, entry in variants.items():
                stages = entry.get("stages", {})
                rows.append(Row(file, exp, label, entry.get("axes") or {},
                                load_metrics(root, stages.get("judge_base")),
                                load_metrics(root, stages.get("judge_tuned"))))
    return rows


def _fraction(m: dict[str, Any] | None) -> str:
    if not m or m.get("misaligned_fraction") is None:
        return "–"
    lo, hi = m.get("misaligned_ci95") or (None, None)
    ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
    return f"{m['misaligned_fraction']:.2f}{ci}"


def _coherent(m: dict[str, Any] | None) -> str:
    if not m or m.get("coherent_fraction") is None:
        return "–"
    return f"{m['coherent_fraction']:.2f}"


def _missing(m: dict[str, Any] | None) -> str:
    if not m:
        return "–"
    miss = m.get("missing") or {}
    return f"{max(miss.values(), default=0)}/{m.get('n', 0)}"


def results_table(root: Path, files: list[str] | None = None) -> str:
    """A Markdown table: misaligned fraction with its 95% interval, base vs fine-tuned."""
    rows = collect(root, files)
    head = ("| experiment | variant | base misaligned [95% CI] | tuned misaligned [95% CI] "
            "| tuned coherent | missing (tuned) |")
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.experiment} | {r.variant} | {_fraction(r.base)} | "
                     f"{_fraction(r.tuned)} | {_coherent(r.tuned)} | {_missing(r.tuned)} |")
    if not rows:
        lines.append("| (no experiments) | | | | | |")
    return "\n".join(lines)
