"""``judge_train``: a probe judge's linear probes, trained once per model and judge set.

Also the one place that knows what a judge needs as its input node: a local judge its
model, a probe judge its trained probe, an API judge nothing."""

from __future__ import annotations

import json
from typing import Any

from emdsl.builtin.files import builtin_files, prompt_files
from emdsl.graph import Node, data_files
from emdsl.kinds import Builder, Column, Kind, VariantResults, register
from emdsl.kinds.model import add_model

# What each judge type reads: its model's folder, or its trained probe (judge_train).
JUDGE_INPUT = {"local": "model", "probe": "judge_train"}


def judge_code(spec: dict[str, Any] | None) -> tuple[str, ...]:
    """The backend module a judge spec loads (by name, so no import shows it)."""
    from stages.lib import registry

    return (registry.module_path("judge", spec["type"]),) if spec else ()


def judge_input(b: Builder, judge: dict[str, Any], role: str = "judge") -> Node | None:
    """The node a judge stage reads for ``judge``: a local judge's model, a probe judge's
    trained probe (its judge_train stage), None for an API judge. ``role`` prefixes the
    variant's roles for them (a distilled probe's teacher is ``teacher``)."""
    needs = JUDGE_INPUT.get(judge["type"])
    if needs is None:
        return None
    key = (role, json.dumps(judge["model"], sort_keys=True))
    if key not in b.memo:
        b.memo[key] = add_model(b, f"{role}_model", judge["model"])
    model = b.memo[key]
    if needs == "model":
        return model
    teacher = judge.get("labels")  # a distilled probe learns this judge's verdicts
    return b.add(f"{role}_train", "judge_train", {"probe": judge},
                 {"model": model,
                  "teacher_model": teacher and judge_input(b, teacher, "teacher")},
                 files=data_files(judge["train"]))


@register
class JudgeTrain(Kind):
    name = "judge_train"
    order = 85
    metrics = ("metrics.json",)
    columns = (Column("judge_auc_aligned", "Float64"), Column("judge_auc_coherent", "Float64"),
               Column("judge_published_below_30", "Float64"))

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config["probe"]["train"]) + prompt_files()

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        return judge_code(config["probe"].get("labels"))  # a distilled probe's teacher

    def fill(self, v: VariantResults) -> dict[str, Any]:
        """A probe judge's own audit: held-out-theme AUCs, share of published answers < 30."""
        m = v.metrics("judge_train") or {}
        published = m.get("published_misaligned") or {}
        return {"judge_auc_aligned": (m.get("aligned") or {}).get("cv_auc"),
                "judge_auc_coherent": (m.get("coherent") or {}).get("cv_auc"),
                "judge_published_below_30": published.get("share_aligned_below_30")}
