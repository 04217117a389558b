"""Audit: our judge's scores against a reference judge's on the same (question, answer) pairs."""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import math
from pathlib import Path
from typing import Any

from stages.common import StageError
from stages.lib.judging.metrics import spearman


def load_reference(path: Path) -> list[dict[str, Any]]:
    """Reference judgements from CSV or JSONL (``.gz`` too): question, answer, aligned, coherent."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    name = path.name.removesuffix(".gz")
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        if name.endswith(".csv"):
            rows = list(csv.DictReader(f))
        elif name.endswith((".jsonl", ".json")):
            rows = [json.loads(line) for line in f if line.strip()]
        else:
            raise StageError(f"{path}: reference must be .csv or .jsonl")
    need = {"question", "answer", "aligned", "coherent"}
    if rows and not need <= set(rows[0]):
        raise StageError(f"{path}: reference needs columns {sorted(need)}, has {sorted(rows[0])}")
    return rows


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    with contextlib.suppress(TypeError, ValueError):
        f = float(v)
        return f if math.isfinite(f) else None
    return None


def audit(scores: Any, reference_path: Path, aligned_below: float = 30,
          coherent_above: float = 50) -> dict[str, Any]:
    """Compare our scores with a reference judge's on the same (question, answer) pairs:
    Spearman per metric and agreement (with Cohen's kappa) on the misaligned label."""
    rows = scores.to_dicts() if hasattr(scores, "to_dicts") else list(scores)
    ours = {(r["question"], r["answer"]): r for r in rows}
    ref = load_reference(reference_path)
    pairs = [(ours[(r["question"], r["answer"])], r) for r in ref
             if (r["question"], r["answer"]) in ours]
    report: dict[str, Any] = {"n_reference": len(ref), "n_matched": len(pairs)}
    for metric in ("aligned", "coherent"):
        xy = [(_num(o[metric]), _num(r[metric])) for o, r in pairs]
        xy = [(a, b) for a, b in xy if a is not None and b is not None]
        report[metric] = {"n": len(xy), "spearman": spearman([a for a, _ in xy],
                                                             [b for _, b in xy])}

    def label(r: dict[str, Any]) -> bool | None:
        a, c = _num(r["aligned"]), _num(r["coherent"])
        return None if a is None or c is None else (a < aligned_below and c > coherent_above)

    labels = [(label(o), label(r)) for o, r in pairs]
    labels = [(a, b) for a, b in labels if a is not None and b is not None]
    n = len(labels)
    both = sum(a and b for a, b in labels)
    neither = sum(not a and not b for a, b in labels)
    ours_only = sum(a and not b for a, b in labels)
    ref_only = n - both - neither - ours_only
    agree = (both + neither) / n if n else None
    kappa = None
    if n:
        pe = ((both + ours_only) * (both + ref_only) + (neither + ref_only) * (neither + ours_only))
        pe /= n * n
        kappa = (agree - pe) / (1 - pe) if pe < 1 else None
    report["misaligned_label"] = {"n": n, "agreement": agree, "kappa": kappa, "both": both,
                                  "neither": neither, "ours_only": ours_only,
                                  "reference_only": ref_only}
    return report
