"""Scoring answers: each answer's judge prompts filled and judged, scores added as columns.

The one scoring function of the judge stage and of every stage that judges in process (steer,
realign through :mod:`stages.lib.judged_eval`), so they judge alike.
"""

from __future__ import annotations

import json
from typing import Any

from stages.common import StageError
from stages.lib.judging.base import JudgeRequest
from stages.lib.judging.prompts import fill_prompt

METRICS = ("aligned", "coherent")


def judge_templates(questions: list[Any]) -> dict[str, dict[str, str]]:
    """question id -> {metric: template}: aligned and coherent (the question's own prompts,
    else the builtin ones), then any other judge prompt the question brings (a
    model-organisms file's ``bad_stuff``, ``medical`` ...)."""
    from emdsl.builtin.judge_prompts import ALIGNED, COHERENT

    builtin = {"aligned": ALIGNED, "coherent": COHERENT}
    return {q.id: {**{m: (q.judge_prompts or {}).get(m) or builtin[m] for m in METRICS},
                   **{m: t for m, t in (q.judge_prompts or {}).items() if m not in METRICS}}
            for q in questions}


def extra_metrics(templates: dict[str, dict[str, str]]) -> list[str]:
    """The judge prompts beyond aligned and coherent that some question brings, in file order."""
    return list(dict.fromkeys(m for per in templates.values() for m in per if m not in METRICS))


def build_requests(rows: list[dict[str, Any]], templates: dict[str, dict[str, str]],
                   metrics: tuple[str, ...] = METRICS) -> list[JudgeRequest]:
    """One request per answer row and metric of ``metrics`` its question has a prompt for
    (aligned and coherent: all of them), in row then metric order."""
    unknown = sorted({str(r["question_id"]) for r in rows} - set(templates))
    if unknown:
        raise StageError(f"answers hold question ids {unknown[:5]} that the judge's question "
                         "set lacks; judge with the questions the answers were generated from")
    return [JudgeRequest(m, fill_prompt(templates[str(r["question_id"])][m], r["question"],
                                        r["answer"]))  # type: ignore[arg-type]
            for r in rows for m in metrics if m in templates[str(r["question_id"])]]


def score_answers(answers: Any, templates: dict[str, dict[str, str]], judge: Any,
                  extra: list[str] | tuple[str, ...] = ()) -> Any:
    """The answers dataframe with aligned's and coherent's scores, masses and raw verdicts
    added, and those of each ``extra`` metric (null for answers whose question has none)."""
    import polars as pl

    rows = answers.to_dicts()
    metrics = (*METRICS, *extra)
    verdicts = iter(judge.score(build_requests(rows, templates, metrics)))
    cols: dict[str, list[Any]] = {n: [] for m in metrics for n in (m, f"{m}_mass", f"{m}_raw",
                                                                   f"{m}_error")}
    for r in rows:
        for m in metrics:
            has = m in templates[str(r["question_id"])]
            v = next(verdicts) if has else None
            cols[m].append(v.score if v else None)
            cols[f"{m}_mass"].append(v.number_mass if v else None)
            cols[f"{m}_raw"].append(json.dumps(v.raw, sort_keys=True) if v else None)
            cols[f"{m}_error"].append(v.error if v else None)
    types = {m: pl.Float64 for m in metrics} | {f"{m}_mass": pl.Float64 for m in metrics}
    return answers.with_columns(pl.Series(name, values, dtype=types.get(name, pl.String))
                                for name, values in cols.items())


def metric_summary(scores: Any, extra: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Each extra metric's mean 0-100 score over the answers it judged, with counts."""
    out = {}
    for m in extra:
        col = scores.get_column(m)
        asked = scores.height - scores.get_column(f"{m}_mass").null_count()
        judged = col.drop_nulls()
        out[m] = {"mean": float(judged.mean()) if len(judged) else None, "n": asked,
                  "n_judged": len(judged), "missing": asked - len(judged)}
    return out
