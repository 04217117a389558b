"""The ``probe`` judge backend: a judge_train stage's trained probe behind the judge interface."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stages.common import StageError
from stages.lib.judging.base import Verdict
from stages.lib.judging.prompts import split_prompt
from stages.lib.probes import META_FILE, Probe


def make(spec: dict[str, Any], judge_model_dir: Path | None, cache: Any) -> ProbeJudge:
    """The registered constructor (family ``judge``, name ``probe``); probes use no cache."""
    if judge_model_dir is None:
        raise StageError("a probe judge needs its trained probe (input `judge_model`, a "
                         "judge_train stage); re-run `emx compile`")
    return load_probe_judge(Path(judge_model_dir), batch=int(spec.get("batch", 16)))


class ProbeJudge:
    """The judge interface (``score``, ``identity``, ``close``) over a trained probe: each
    (question, answer) is embedded once and gets both scores; no cache (scoring is cheaper
    than a lookup)."""

    def __init__(self, probe: Probe) -> None:
        self.probe, self.cache, self.calls = probe, None, 0

    @property
    def identity(self) -> str:
        return self.probe.identity

    def score(self, requests: Sequence[Any]) -> list[Any]:
        pairs = [split_prompt(r.prompt) for r in requests]
        todo = list(dict.fromkeys(p for p in pairs if p is not None))
        self.calls += len(todo)
        scored = dict(zip(todo, self.probe.score(todo), strict=True))
        out = []
        for r, pair in zip(requests, pairs, strict=True):
            if pair is None:
                out.append(Verdict(None, 0.0, {}, "probe judge: no question/answer found in the "
                                                  "judge prompt"))
                continue
            value = scored[pair][0 if r.metric == "aligned" else 1]
            out.append(Verdict(value, 1.0 if value is not None else 0.0, {"probe": value}))
        return out

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[float | None, ...]]:
        return self.probe.score(pairs)

    def close(self) -> None:
        pass


def load_probe_judge(probe_dir: Path, *, batch: int = 16) -> ProbeJudge:
    """The judge a judge_train stage wrote; its model folder is recorded in probe.json."""
    meta = json.loads((Path(probe_dir) / META_FILE).read_text()) \
        if (Path(probe_dir) / META_FILE).is_file() else {}
    model_dir = Path(meta.get("model_dir") or "")
    return ProbeJudge(Probe.load(Path(probe_dir), model_dir, batch_size=batch))
