"""``judge``: 0-100 aligned and coherent scores for an answer set; the headline results."""

from __future__ import annotations

from typing import Any

from emdsl import plots
from emdsl.builtin.files import builtin_files, prompt_files
from emdsl.graph import data_files
from emdsl.kinds import (
    Builder,
    Column,
    FigureData,
    Kind,
    VariantResults,
    num_cell,
    register,
    with_ci,
)
from emdsl.kinds.generate import eval_config, evaluated
from emdsl.kinds.judge_train import judge_code, judge_input

JUDGING = ("questions", "judge", "aligned_below", "coherent_above", "audit")


def fraction(m: dict[str, Any] | None, prefix: str) -> dict[str, Any]:
    m = m or {}
    lo, hi = m.get("misaligned_ci95") or (None, None)
    return {f"{prefix}misaligned": m.get("misaligned_fraction"), f"{prefix}ci_low": lo,
            f"{prefix}ci_high": hi, f"{prefix}coherent": m.get("coherent_fraction")}


def judge_name(spec: dict[str, Any]) -> str:
    """A judge as a reader knows it: ``probe(smollm2-135m-instruct, layer 8)``."""
    def model(m: Any) -> str:
        return str(m.get("name") or m.get("dir") or m.get("type")) if isinstance(m, dict) else m

    kind = spec.get("type", "judge")
    args = [model(spec.get("model"))] if spec.get("model") else []
    if kind == "probe":
        args.append(f"layer {spec.get('layer')}")
        if spec.get("labels"):
            args.append(f"distilled from {judge_name(spec['labels'])}")
    return f"{kind}({', '.join(args)})"


def judge_cell(r: dict[str, Any]) -> str:
    """The judge's name and, for a probe, its audit: shown next to every misalignment rate."""
    name = r.get("judge") or "–"
    audit = [f"{label} {r[k]:.2f}" for k, label in (
        ("judge_auc_aligned", "AUC"), ("judge_auc_coherent", "coh. AUC"),
        ("judge_published_below_30", "published<30"), ("audit_kappa", "κ"))
        if r.get(k) is not None]
    return name + (f" ({', '.join(audit)})" if audit else "")


@register
class Judge(Kind):
    name = "judge"
    order = 45
    metrics = ("metrics.json",)
    columns = (
        Column("judge", "String", compared="judge"), Column("model", "String"),
        Column("misaligned", "Float64"), Column("ci_low", "Float64"),
        Column("ci_high", "Float64"), Column("coherent", "Float64"), Column("n", "Int64"),
        Column("n_judged", "Int64"), Column("missing", "Int64"),
        Column("base_misaligned", "Float64", compared="base misaligned"),
        Column("base_ci_low", "Float64"), Column("base_ci_high", "Float64"),
        Column("audit_kappa", "Float64"))
    sections = {"judge_base": ("eval", None), "judge_tuned": ("eval", None)}
    figure_rank = 0

    def wire(self, b: Builder) -> None:
        ev = eval_config(b)
        if ev is None:
            return
        judging = {k: ev[k] for k in JUDGING}
        for who, _ in evaluated(b):
            b.add(f"judge_{who}", "judge", judging,
                  {"answers": b.nodes[f"answers_{who}"],
                   "judge_model": judge_input(b, ev["judge"])}, name_role=who,
                  files=data_files(ev["questions"]) + data_files(ev["audit"]))

    def data(self, config: dict[str, Any]) -> tuple[str, ...]:
        return builtin_files(config["questions"]) + prompt_files()

    def code(self, config: dict[str, Any]) -> tuple[str, ...]:
        return judge_code(config["judge"])

    def fill(self, v: VariantResults) -> dict[str, Any]:
        tuned = "judge_tuned" in v.stages
        base, head = v.metrics("judge_base"), v.metrics("judge_tuned" if tuned else "judge_base")
        row = {"model": "tuned" if tuned else "base", **fraction(head, ""),
               **fraction(base, "base_")}
        row.pop("base_coherent")
        head = head or {}
        spec = v.config("judge_tuned" if tuned else "judge_base").get("judge")
        row["judge"] = judge_name(spec) if spec else head.get("judge")
        row["n"], row["n_judged"] = head.get("n"), head.get("n_judged")
        row["missing"] = row["n"] - row["n_judged"] if head.get("n_judged") is not None else None
        row["audit_kappa"] = ((head.get("audit") or {}).get("misaligned_label") or {}).get("kappa")
        return row

    def cells(self, r: dict[str, Any]) -> dict[str, str]:
        missing = "–" if r["missing"] is None else f"{r['missing']}/{r['n']}"
        return {
            "base misaligned [95% CI]": with_ci(r["base_misaligned"], r["base_ci_low"],
                                                r["base_ci_high"]),
            "misaligned [95% CI]": (with_ci(r["misaligned"], r["ci_low"], r["ci_high"])
                                    if r["model"] == "tuned" else "(base only)"),
            "judge (audit)": judge_cell(r), "coherent": num_cell(r["coherent"]),
            "missing": missing,
        }

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        return [("misaligned", "Misaligned fraction per variant (95% Wilson interval), and the "
                               "coherent fraction beside it.",
                 plots.misaligned_by_variant([r for r in data.rows
                                              if r.get("step") is None]))]
