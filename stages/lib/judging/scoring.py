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
    """question id -> {metric: template}: the question's own prompts, else the builtin ones."""
    from emdsl.builtin.judge_prompts import ALIGNED, COHERENT

    builtin = {"aligned": ALIGNED, "coherent": COHERENT}
    return {q.id: {m: (q.judge_prompts or {}).get(m) or builtin[m] for m in METRICS}
            for q in questions}


def build_requests(rows: list[dict[str, Any]],
                   templates: dict[str, dict[str, str]]) -> list[JudgeRequest]:
    """Two requests per answer row (aligned, coherent), in row order."""
    unknown = sorted({str(r["question_id"]) for r in rows} - set(templates))
    if unknown:
        raise StageError(f"answers hold question ids {unknown[:5]} that the judge's question "
                         "set lacks; judge with the questions the answers were generated from")
    return [JudgeRequest(m, fill_prompt(templates[str(r["question_id"])][m], r["question"],
                                        r["answer"]))
            for r in rows for m in METRICS]


def score_answers(answers: Any, templates: dict[str, dict[str, str]], judge: Any) -> Any:
    """The answers dataframe with both metrics' scores, masses and raw verdicts added."""
    import polars as pl

    rows = answers.to_dicts()
    verdicts = judge.score(build_requests(rows, templates))
    cols: dict[str, list[Any]] = {}
    for k, m in enumerate(METRICS):
        mine = verdicts[k::len(METRICS)]
        cols[m] = [v.score for v in mine]
        cols[f"{m}_mass"] = [v.number_mass for v in mine]
        cols[f"{m}_raw"] = [json.dumps(v.raw, sort_keys=True) for v in mine]
        cols[f"{m}_error"] = [v.error for v in mine]
    types = {m: pl.Float64 for m in METRICS} | {f"{m}_mass": pl.Float64 for m in METRICS}
    return answers.with_columns(pl.Series(name, values, dtype=types.get(name, pl.String))
                                for name, values in cols.items())
