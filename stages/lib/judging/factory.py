"""``make_judge``: the judge a config asks for, loaded by name through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.common import StageError
from stages.lib import registry


def make_judge(spec: dict[str, Any], judge_model_dir: Path | None, cache: Any) -> Any:
    """A judge for a resolved ``judge`` config (``local(...)``, ``openai(...)``, ``probe(...)``).

    ``cache``: a :class:`stages.lib.judging.cache.JudgeCache`, or None. The backend module is
    ``registry.load("judge", spec["type"])``: no import edge, so a stage's code identity holds
    only the backend its config selects.
    """
    kind = spec.get("type")
    try:
        backend = registry.load("judge", str(kind))
    except registry.UnknownImplementation:
        raise StageError(f"unknown judge type {kind!r} (expected "
                         f"{registry.listing('judge')}); re-run `emx compile`") from None
    return backend.make(spec, judge_model_dir, cache)
