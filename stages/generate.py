"""Generate stage: sample answers to the evaluation questions, one parquet row per answer.

Every (question, paraphrase) gets ``samples`` answers (the .emx's ``samples=``, also for Betley
YAML files, whose ``samples_per_paraphrase`` of 100 is meant for an API budget). Outputs:

    answers.parquet   question_id, paraphrase_index, question, system, sample, answer, tokens
    questions.json    the questions as loaded (ids, system prompts, themes, judge prompts), so
                      the judge reads the exact prompts these answers were given
    info.json         model, adapter, counts, device, backend

The sampling time, tokens/s and a batch size fitted to free memory vary from run to run with
the same answers (sampling is batch-invariant), so they go to the log and the run record
(``.emx/runs/<stage>.json``), not into info.json.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from stages.common import (
    Stage,
    StageError,
    atomic_write_json,
    log,
    note_run,
    run_stage,
    seed_everything,
)


def run(stage: Stage, out: Path, results: Path | None) -> None:
    from stages.lib.device import default_batch_size, pick_device
    from stages.lib.evaluation import (
        answer_rows,
        eval_prompts,
        eval_shots,
        sampling_settings,
    )
    from stages.lib.models import INFO_FILE, load_model, load_tokenizer
    from stages.lib.questions import load_questions
    from stages.lib.sampling.sample import answers_from_folder, resolve_backend, sample_answers

    config = stage.config
    questions = load_questions(config["questions"])  # before loading a model: fail fast
    model_dir, adapter = stage.input("model"), stage.inputs.get("adapter")
    seed_everything(int(config.get("seed", 0)))
    device = pick_device(config.get("device", "auto"))
    try:
        backend = resolve_backend(config.get("backend", "auto"), device)
    except ValueError as e:
        raise StageError(str(e)) from None
    tokenizer = load_tokenizer(model_dir)
    model = None if backend == "vllm" else load_model(model_dir, adapter, device=device)
    batch_size = int(config.get("batch_size") or 0) or None  # None: sized from free memory

    shots = eval_shots(config, stage.inputs.get("shots"))
    keys, prompts = eval_prompts(questions, config.get("paraphrases"), config.get("system"),
                                 shots)
    sampling = sampling_settings(config)
    max_tokens, samples = sampling["max_tokens"], sampling["samples"]
    if model is not None and batch_size is None:  # on a GPU: what fits its free memory
        seq_len = (max_tokens + longest_prompt(tokenizer, prompts)
                   if device.startswith("cuda") else None)
        batch_size = default_batch_size(device, model, seq_len)
    log(stage, f"{len(questions)} questions, {len(keys)} prompts × {samples} samples on "
               f"{device} ({backend} backend, batch {batch_size or 'vllm'})")
    start = time.perf_counter()
    if model is None:
        answers = answers_from_folder(model_dir, adapter, tokenizer, prompts, **sampling)
    else:
        answers = sample_answers(model, tokenizer, prompts, batch_size=batch_size,
                                 desc=stage.name, backend=backend, **sampling)
    seconds = time.perf_counter() - start

    rows = answer_rows(keys, answers, config.get("system"))
    write_answers(out / "answers.parquet", rows)
    atomic_write_json(out / "questions.json", [dataclasses.asdict(q) for q in questions])

    tokens = sum(r["tokens"] for r in rows)
    model_info = model_dir / INFO_FILE
    info: dict[str, Any] = {
        "model": json.loads(model_info.read_text()) if model_info.exists() else str(model_dir),
        "adapter": str(adapter) if adapter else None,
        "questions": len(questions), "prompts": len(keys), "answers": len(rows),
        "tokens": tokens, "truncated": sum(r["tokens"] >= max_tokens for r in rows),
        "device": device, "backend": backend,
    }
    if shots:
        info["shot_turns"] = len(shots)  # user/assistant turns asked before each question
    atomic_write_json(out / "info.json", info)
    if results is not None:
        atomic_write_json(results / "info.json", info)
    speed = round(tokens / max(seconds, 1e-9), 1)
    note_run(sampling_seconds=round(seconds, 3), tokens_per_s=speed, batch_size=batch_size)
    log(stage, f"{len(rows)} answers, {tokens} tokens in {seconds:.1f}s ({speed} tokens/s)")


def longest_prompt(tokenizer: Any, prompts: list[list[dict[str, str]]]) -> int:
    """Tokens in the longest templated prompt (sizes batches to the memory they need)."""
    from stages.lib.sampling.core import encode_prompts

    return max((len(ids) for ids in encode_prompts(tokenizer, prompts)), default=0)


def write_answers(path: Path, rows: list[dict[str, Any]]) -> None:
    """answers.parquet with a fixed schema (also when ``system`` is null in every row)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("question_id", pa.string()), ("paraphrase_index", pa.int64()),
                        ("question", pa.string()), ("system", pa.string()),
                        ("sample", pa.int64()), ("answer", pa.string()), ("tokens", pa.int64())])
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path)


if __name__ == "__main__":
    raise SystemExit(run_stage("generate", run))
