"""Which SAE latents a config names: ids, the diff's ``top(k)``, or ``random(k)`` (the steer
and monitor stages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.common import StageError


def latent_ids(spec: Any, diff_dir: Path | None, d_sae: int) -> list[int]:
    """Explicit ids; the first k of the diff's ranking for ``{type: top, k}``; k of the SAE's
    ``d_sae`` latents drawn with ``seed`` for ``{type: random, k, seed}``."""
    if isinstance(spec, list):
        return [int(i) for i in spec]
    if isinstance(spec, dict) and spec.get("type") == "random":
        import random

        k = int(spec.get("k", 1))
        if k > d_sae:
            raise StageError(f"steer: random({k}) but the SAE has only {d_sae} latents")
        return sorted(random.Random(int(spec.get("seed", 0))).sample(range(d_sae), k))
    if isinstance(spec, dict) and spec.get("type") == "top":
        import polars as pl

        if diff_dir is None:
            raise StageError("steer: latents=top(k) needs a diff input; re-run `emx compile`")
        path = Path(diff_dir) / "top.parquet"
        if not path.is_file():
            raise StageError(f"{path} not found; re-run the diff stage")
        ranked = pl.read_parquet(path).sort("rank")["id"].to_list()
        k = int(spec.get("k", 1))
        if len(ranked) < k:
            raise StageError(f"steer: top({k}) but the diff ranked only {len(ranked)} latents; "
                             "raise diff(top=...)")
        return [int(i) for i in ranked[:k]]
    raise StageError(f"steer: latents must be a list of ids, top(k) or random(k), got {spec!r}")
