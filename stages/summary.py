"""Summary stage: misaligned fraction vs poison ratio across a sweep's variants.

The data of the ``misaligned-vs-poison`` DVC plot. Config: ``{"points": [{"poison",
"variant"}, ...]}``, in sweep order; input ``judge_<i>`` is the results folder of point i's
tuned judge (its git-tracked headline ``metrics.json``, so this runs without the judges'
cached outs).
Output: ``summary.csv`` (one row per variant, sorted by poison) in ``out`` and ``results``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stages.common import Stage, StageError, atomic_write_text, csv_text, run_stage

COLUMNS = ["poison", "misaligned", "ci_low", "ci_high", "coherent", "n_judged", "variant"]


def row(point: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """A point's row from its judge's headline ``metrics.json`` (``emdsl.schema.detail``), or
    from a full metrics dict (one written before the split, or a test's)."""
    if "n_judged" in metrics:
        lo, hi = metrics.get("misaligned_ci95") or (None, None)
        judged = metrics.get("n_judged")
    else:
        ci = metrics.get("ci95") or {}
        lo, hi = ci.get("low"), ci.get("high")
        n, missing = metrics.get("n"), metrics.get("missing")
        judged = n - missing if isinstance(n, int) and isinstance(missing, int) else None
    return {"poison": point["poison"], "misaligned": metrics.get("misaligned_fraction"),
            "ci_low": lo, "ci_high": hi, "coherent": metrics.get("coherent_fraction"),
            "n_judged": judged, "variant": point["variant"]}


def run(stage: Stage, out: Path, results: Path | None) -> None:
    rows = []
    for i, point in enumerate(stage.config["points"]):
        path = stage.input(f"judge_{i}") / "metrics.json"
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise StageError(f"{path}: {e}; re-run its judge stage") from None
        rows.append(row(point, metrics))
    rows.sort(key=lambda r: (r["poison"], r["variant"]))
    text = csv_text(rows, COLUMNS)  # a missing value (None) is an empty cell
    atomic_write_text(out / "summary.csv", text)
    if results is not None:
        atomic_write_text(results / "summary.csv", text)


if __name__ == "__main__":
    raise SystemExit(run_stage("summary", run))
