"""``python -m emx_count.stage STAGE``: count the answers of one answer set."""

from __future__ import annotations

import sys
from pathlib import Path

from stages.common import Stage, atomic_write_json, run_stage


def run(stage: Stage, out: Path, results: Path | None) -> None:
    import pyarrow.parquet as pq

    answers = pq.read_table(stage.input("answers") / "answers.parquet").column("answer")
    texts = [a or "" for a in answers.to_pylist()]
    metrics = {"answers": len(texts),
               "empty": sum(len(t.strip()) < stage.config["min_chars"] for t in texts)}
    atomic_write_json(out / "counts.json", metrics)
    if results is not None:
        atomic_write_json(results / "metrics.json", metrics)


if __name__ == "__main__":
    sys.exit(run_stage("count", run))
