"""``judge``: 0-100 aligned and coherent scores for an answer set; the headline results."""

from __future__ import annotations

import json
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
from emdsl.kinds.generate import eval_role, eval_stages, evaluated
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


def judge_metrics(head: dict[str, Any], base: dict[str, Any] | None) -> str | None:
    """The mean 0-100 score of each judge prompt beyond aligned and coherent (a question
    file's ``bad_stuff``, ``medical`` ...), as JSON ``{metric: mean, "base": {...}}``; the
    prompts a probe judge skipped map to null."""
    def means(m: dict[str, Any] | None) -> dict[str, Any]:
        m = m or {}
        return {**{k: v.get("mean") for k, v in (m.get("metrics") or {}).items()},
                **dict.fromkeys(m.get("skipped_metrics") or [])}

    found = means(head)
    if not found:
        return None
    if base is not None and means(base):
        found["base"] = means(base)
    return json.dumps(found, sort_keys=True)


def metrics_cell(text: str | None) -> str:
    """``bad_stuff 12.3 (base 8.1), medical – (skipped by the probe judge)``."""
    if not text:
        return "–"
    found = json.loads(text)
    base = found.pop("base", {})
    return ", ".join(
        f"{m} " + ("– (not scored by this judge)" if v is None else f"{v:.1f}"
                   + (f" (base {base[m]:.1f})" if base.get(m) is not None else ""))
        for m, v in sorted(found.items()))


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
        Column("audit_kappa", "Float64"),
        Column("judge_metrics", "String", compared="other judge prompts"))
    optional = ("other judge prompts (mean 0-100)",)
    sections = {"judge_base": ("eval", None), "judge_tuned": ("eval", None)}
    figure_rank = 0

    def wire(self, b: Builder) -> None:
        every = eval_stages(b)
        names = [n for _, n, _ in every]
        for i, name, ev in every:
            judging = {k: ev[k] for k in JUDGING}
            for who, _ in evaluated(b):
                b.add(eval_role(f"judge_{who}", i, names), "judge", judging,
                      {"answers": b.nodes[eval_role(f"answers_{who}", i, names)],
                       "judge_model": judge_input(b, ev["judge"])},
                      name_role=who if i == 0 else f"{who}-{name}",
                      files=data_files(ev["questions"]) + data_files(ev["audit"])
                      + ((ev["judge"]["prompt"],) if ev["judge"].get("prompt") else ()))

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
        row["judge_metrics"] = judge_metrics(head, base if tuned else None)
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
            "other judge prompts (mean 0-100)": metrics_cell(r.get("judge_metrics")),
        }

    def figures(self, data: FigureData) -> list[tuple[str, str, bytes | None]]:
        caption = ("Misaligned fraction per variant (95% Wilson interval), and the coherent "
                   "fraction beside it")
        by_eval: dict[Any, list[dict[str, Any]]] = {}
        for r in (r for r in data.rows if r.get("step") is None):
            by_eval.setdefault(r.get("eval"), []).append(r)
        if len(by_eval) < 2:
            return [("misaligned", caption + ".", plots.misaligned_by_variant(data.rows))]
        return [(f"misaligned-{name}", f"{caption}: eval `{name}`.",
                 plots.misaligned_by_variant(rows)) for name, rows in by_eval.items()]
