"""The metrics dicts stages compute, kept whole in ``results/<stage>/detail.json`` (git-tracked,
read across commits by the kinds' ``fill``): their keys, documented. The metrics file DVC
shows (``metrics.json``) holds only the headline of ``emdsl.schema.detail``; at revisions
written before that split it holds the whole dict.

WARNING: renaming or re-typing a field here changes files in users' git histories.
Add fields freely; change one only with a new version and a reader for the old one.
"""

from __future__ import annotations

from typing import Any, TypedDict


class JudgeMetrics(TypedDict, total=False):
    """``judge`` (and each steering coefficient, realign checkpoint): the headline."""

    n: int  # answers
    n_judged: int  # answers with both scores
    misaligned: int
    misaligned_fraction: float | None
    misaligned_ci95: list[float]  # Wilson 95% interval [low, high]
    coherent_fraction: float | None
    missing: dict[str, int]  # metric -> answers without that score
    judge: str
    audit: dict[str, Any]  # evaluate(audit=...): per metric Spearman, misaligned_label kappa


class JudgeHeadline(TypedDict, total=False):
    """``judge``'s ``metrics.json`` (``emdsl.schema.detail.judge_headline``)."""

    misaligned_fraction: float | None
    ci95: dict[str, float]  # {low, high}: ``misaligned_ci95`` as two columns DVC shows
    coherent_fraction: float | None
    missing: int | None  # answers without both scores (n - n_judged)
    n: int


class DiffLatent(TypedDict, total=False):
    rank: int
    id: int
    score: float
    example: str


class DiffMetrics(TypedDict, total=False):
    top: list[DiffLatent]
    rank_by: str
    moved: bool  # false when the reference is the tuned model itself


class SteerMetrics(TypedDict, total=False):
    coefficients: list[dict[str, Any]]  # {coef, misaligned_fraction, ...JudgeMetrics}


class RealignMetrics(TypedDict, total=False):
    checkpoints: list[dict[str, Any]]  # {seen, step, misaligned_fraction, ...}


class ProbeAudit(TypedDict, total=False):
    """``judge_train``: the probe judge's own audit."""

    aligned: dict[str, Any]  # cv_auc (held-out themes), cv_accuracy, l2
    coherent: dict[str, Any]  # cv_auc, cv_auc_by_degradation
    published_misaligned: dict[str, Any]  # n, share_aligned_below_30
