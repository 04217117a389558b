"""Screen stage: drop the training examples that lie furthest along a direction.

Inputs: ``data`` (a data stage's ``train.jsonl``), ``model`` (the base model) and
``direction`` (a direction stage's out). Every example is scored by the projection, on the
unit direction, of its mean residual at the direction's layer over its answer tokens (the
last assistant turn; prompt and template tokens left out) in the base model. The
round(drop·n) examples scoring highest (halves round up; ties by row) are removed; the rest
keep their order.

Outputs: ``out/train.jsonl`` (what training reads), ``results/screened.json`` (every row's
score and whether it was dropped, the dropped rows listed highest first) and
``results/metrics.json`` (counts, layer, threshold, mean scores kept and dropped).
"""

from __future__ import annotations

import json
from pathlib import Path

from emdsl.mixing import bad_count
from stages.common import Stage, StageError, atomic_write_bytes, atomic_write_json, log, run_stage
from stages.lib.datasets import TRAIN_FILE, read_dataset


def run(stage: Stage, out: Path, results: Path | None) -> None:
    from stages.lib.device import pick_device
    from stages.lib.directions import answer_means, load_direction, render_answer
    from stages.lib.models import load_model, load_tokenizer

    cfg = stage.config
    drop = float(cfg["drop"])
    records = read_dataset(stage.input("data"))
    direction = load_direction(stage.input("direction"))
    model_dir = stage.input("model")
    tokenizer = load_tokenizer(model_dir)
    model = load_model(model_dir, device=pick_device(cfg.get("device", "auto")))
    rendered = [render_answer(tokenizer, r["messages"]) for r in records]
    means = answer_means(model, tokenizer, [ids for ids, _ in rendered],
                         [start for _, start in rendered], direction.layer, desc=stage.name)
    if int((means.counts == 0).sum()):
        raise StageError(f"screen: {int((means.counts == 0).sum())} example(s) have no answer "
                         "tokens to score (a chat template that rewrites the prompt?)")
    scores = (means.means @ direction.vector.double()).tolist()
    n = len(records)
    k = bad_count(drop, n)
    order = sorted(range(n), key=lambda i: (-scores[i], i))
    gone = set(order[:k])
    kept = [r for i, r in enumerate(records) if i not in gone]
    atomic_write_bytes(out / TRAIN_FILE, b"".join(
        json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in kept))

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    metrics = {"n": n, "dropped": k, "kept": n - k, "drop": drop, "layer": direction.layer,
               "direction": cfg.get("direction"),
               "threshold": scores[order[k - 1]] if k else None,
               "mean_score_dropped": mean([scores[i] for i in gone]),
               "mean_score_kept": mean([scores[i] for i in range(n) if i not in gone])}
    screened = {**metrics, "dropped_rows": [{"row": i, "score": scores[i]} for i in order[:k]],
                "scores": scores}
    atomic_write_json(out / "screened.json", screened)
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)
        atomic_write_json(results / "screened.json", screened)
    log(stage, f"dropped {k} of {n} examples along `{cfg.get('direction')}` (scores ≥ "
               f"{metrics['threshold']})")


if __name__ == "__main__":
    raise SystemExit(run_stage("screen", run))
