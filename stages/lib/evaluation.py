"""Sampling an eval: which prompts are asked, with which settings, into which answer rows.

One reading of an eval config for every stage that samples one: the generate stage (which may
hand the prompts to vllm instead) and, through :mod:`stages.lib.judged_eval`, the steer and
realign stages, so all of them ask the same prompts (``paraphrases=N`` included) with the same
settings and defaults, and write the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stages.common import StageError
from stages.lib.messages import Turns, question_messages, shot_turns
from stages.lib.questions import Question

# answers.parquet's columns, one row per answer
ANSWER_COLUMNS = ("question_id", "paraphrase_index", "question", "system", "sample", "answer",
                  "tokens")

Key = tuple[Question, int]  # (question, paraphrase index)


def eval_prompts(questions: Sequence[Question], paraphrases: int | None = None,
                 system: str | None = None, shots: Turns = ()
                 ) -> tuple[list[Key], list[list[dict[str, str]]]]:
    """(keys, chats): one prompt per (question, paraphrase), in file order; at most
    ``paraphrases`` paraphrases per question (None: all of them). ``system``: the eval's
    system prompt, for questions without their own; ``shots``: turns asked before each."""
    keys = [(q, i) for q in questions for i in range(len(q.paraphrases))
            if paraphrases is None or i < paraphrases]
    return keys, [question_messages(q.paraphrases[i], q.system or system, shots)
                  for q, i in keys]


def eval_shots(cfg: dict[str, Any], shots_dir: Any) -> list[dict[str, str]]:
    """The turns an eval config's ``shots`` asks before each question, read from its data
    stage's folder; none when it has no shots."""
    if not cfg.get("shots"):
        return []
    if shots_dir is None:
        raise StageError("this eval has shots but the stage was given no shots input; "
                         "re-run `emx compile`")
    from stages.lib.datasets import read_dataset

    return shot_turns(read_dataset(shots_dir))


def sampling_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The sampler's keyword arguments from an eval config (samples, max_tokens, temperature,
    top_p, seed), with the defaults the compiler fills in."""
    return dict(samples=int(cfg.get("samples", 8)), max_tokens=int(cfg.get("max_tokens", 96)),
                temperature=float(cfg.get("temperature", 1.0)),
                top_p=float(cfg.get("top_p", 1.0)), seed=int(cfg.get("seed", 0)))


def answer_rows(keys: Sequence[Key], answers: Sequence[Sequence[tuple[str, int]]],
                system: str | None = None) -> list[dict[str, Any]]:
    """One row per answer (``ANSWER_COLUMNS``) from the sampler's ``[prompt][sample] ->
    (text, tokens)``, in prompt then sample order; ``system`` as ``eval_prompts``'s."""
    return [{"question_id": q.id, "paraphrase_index": i, "question": q.paraphrases[i],
             "system": q.system or system, "sample": s, "answer": text, "tokens": n}
            for (q, i), per_prompt in zip(keys, answers, strict=True)
            for s, (text, n) in enumerate(per_prompt)]


def sample_eval(model: Any, tokenizer: Any, questions: Sequence[Question], cfg: dict[str, Any],
                *, hook: Any = None, desc: str = "sampling", batch_size: int | None = None,
                shots: Turns = ()) -> list[dict[str, Any]]:
    """Answer rows for an eval config from a loaded model (``hook``: steering), through the
    sampler ``cfg["backend"]`` names (vllm becomes static: it needs the model folder)."""
    from stages.lib.sampling.sample import sample_answers

    keys, prompts = eval_prompts(questions, cfg.get("paraphrases"), cfg.get("system"), shots)
    answers = sample_answers(model, tokenizer, prompts, batch_size=batch_size, hook=hook,
                             desc=desc, backend=cfg.get("backend", "auto"),
                             **sampling_settings(cfg))
    return answer_rows(keys, answers, cfg.get("system"))


def answers_frame(rows: Sequence[dict[str, Any]]) -> Any:
    """The rows as a polars DataFrame with answers.parquet's column types."""
    import polars as pl

    types = {"paraphrase_index": pl.Int64, "sample": pl.Int64, "tokens": pl.Int64}
    return pl.DataFrame(list(rows), schema={c: types.get(c, pl.String) for c in ANSWER_COLUMNS})
