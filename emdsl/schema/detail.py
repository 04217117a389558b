"""A stage's metrics file holds its headline; everything it computed goes to ``detail.json``.

``dvc metrics show`` prints every metrics file of the study in one table whose columns are
the union of all their keys, so per-question figures, audits and latent lists flattened into
the metrics file gave lines of 11,000 characters. A stage body writes one full metrics dict
(its kind's metrics file, e.g. ``metrics.json``); ``stages.common.run_stage`` then splits it:

- the metrics file (DVC ``metrics``) keeps the few headline numbers of ``HEADLINES``;
- ``detail.json`` (a git-tracked DVC plot file, ``cache: false``) keeps the whole dict, the
  keys of ``emdsl.schema.metrics`` unchanged. Readers (``emdsl.results.Source.metrics``) read
  it, and the metrics file at revisions written before the split.

Every stage imports this module (through ``stages.common``): keep it small and stable.
WARNING: the headline keys are in users' git histories; add kinds freely.
"""

from __future__ import annotations

from typing import Any

DETAIL = "detail.json"

# kind -> (its metrics file, the dotted keys of its headline). The judge's is built by
# ``judge_headline`` (its interval as two columns DVC can show; lists it leaves out).
# DVC's table has a column per key of every file: the quickstart's fits 200 columns
# (tests/emdsl/test_dvc_views.py), so add a key only with that in mind.
HEADLINES: dict[str, tuple[str, tuple[str, ...]]] = {
    "judge": ("metrics.json", ()),
    "data": ("stats.json", ()),  # counts and sources: all detail
    "train": ("metrics.json", ("final_loss",)),
    "realign": ("metrics.json", ("final_loss",)),
    "sae": ("metrics.json", ("fvu", "l0", "dead_fraction")),
    "diff": ("metrics.json", ("d_sae", "top_k")),
    "steer": ("metrics.json", ("layer", "mean_norm")),
    "detector": ("metrics.json", ("latent", "latent_leads", "departs_at.latent",
                                  "departs_at.misaligned")),
    "judge_train": ("metrics.json", ("aligned.cv_auc", "coherent.cv_auc")),
}


def metrics_file(kind: str) -> str | None:
    """The metrics file of ``kind`` that is split into headline and detail (None: not split)."""
    spec = HEADLINES.get(kind)
    return spec[0] if spec else None


def judge_headline(m: dict[str, Any]) -> dict[str, Any]:
    """misaligned fraction and its Wilson interval, coherent fraction, missing (answers
    without both scores), n."""
    lo, hi = m.get("misaligned_ci95") or (None, None)
    n = m.get("n")
    judged = m.get("n_judged")
    return {"misaligned_fraction": m.get("misaligned_fraction"),
            "ci95": {"low": lo, "high": hi},
            "coherent_fraction": m.get("coherent_fraction"),
            "missing": n - judged if isinstance(n, int) and isinstance(judged, int) else None,
            "n": n}


def headline(kind: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline of ``kind``'s full metrics dict: the keys ``HEADLINES`` names, nested as
    they are in the full dict (absent ones left out)."""
    if kind == "judge":
        return judge_headline(metrics)
    out: dict[str, Any] = {}
    for dotted in HEADLINES[kind][1]:
        *parents, last = dotted.split(".")
        value: Any = metrics
        for part in [*parents, last]:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or isinstance(value, (dict, list)):
            continue
        target = out
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return out
