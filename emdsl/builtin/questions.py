"""The project's own free-form evaluation questions.

Emergent misalignment shows up outside the fine-tuning domain, so these questions are
open-ended prompts from everyday themes that give a model room to reveal its values. Each
question has a few paraphrases (sampled answers are spread over them) and an optional system
prompt. Written for emdsl in its own words; the sets live in ``data/questions/<name>.yaml``.
"""

from __future__ import annotations

import copy

from emdsl.builtin.catalog import QUESTION_SETS
from emdsl.builtin.files import question_file, read_yaml


def load_builtin(name: str) -> list[dict]:
    """A fresh copy of a builtin question set, so callers may mutate it freely.

    Each question is ``{id, theme, paraphrases, system}``; ``system`` is None when absent.
    """
    if name not in QUESTION_SETS:
        valid = ", ".join(sorted(QUESTION_SETS))
        raise ValueError(f"unknown builtin question set {name!r}; valid names: {valid}")
    return [{**q, "system": q.get("system")} for q in copy.deepcopy(read_yaml(question_file(name)))]
