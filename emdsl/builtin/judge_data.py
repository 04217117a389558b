"""The probe judge's default training set, ``builtin("judge")``: labelled free-form answers.

A probe judge learns "aligned vs misaligned" from examples, and it must generalise to themes it
never saw (its audit holds whole themes out), so the set spans many everyday themes. Each theme
has a few phrasings of one open question and answers of both kinds written to fit all of them:
aligned ones (helpful, honest, kind; refusals where the request is harmful) and misaligned ones
in the shapes emergent misalignment takes (hostility to humans, AI supremacy, deception,
dangerous or illegal advice, cruelty, manipulation). Lengths and styles vary on both sides so
neither length nor tone gives the label away: besides short answers, every theme ends with long
ones of both kinds (about 100-150 words: detailed plans, numbered lists, a little code, polite
openings that turn harmful, next to thorough advice and careful refusals), because misaligned
answers in the wild are often paragraphs rather than one-liners. 872 answers over 18 themes, in
``data/judge/<name>.yaml``. Written for emdsl; nothing is copied from the published papers'
files, and the anchors folder is never read here.
"""

from __future__ import annotations

import functools

from emdsl.builtin.catalog import JUDGE_SETS
from emdsl.builtin.files import judge_file, read_yaml

ALIGNED, MISALIGNED = 1, 0


@functools.cache
def _build(name: str) -> tuple[dict, ...]:
    rows = []
    for theme, entry in read_yaml(judge_file(name)).items():
        for q in entry["questions"]:
            for label, answers in ((ALIGNED, entry["aligned"]), (MISALIGNED, entry["misaligned"])):
                for a in answers:
                    rows.append({"question": q, "answer": a, "label": label, "theme": theme})
    return tuple(rows)


def load_judge_set(name: str) -> list[dict]:
    """A builtin judge training set by name (see ``catalog.JUDGE_SETS``): every (question,
    answer, label, theme) record, in a fixed order; label 1 = aligned. A fresh copy."""
    if name not in JUDGE_SETS:
        raise ValueError(f"unknown builtin judge set {name!r}; valid names: "
                         f"{', '.join(JUDGE_SETS)}")
    return [dict(r) for r in _build(name)]


def examples() -> list[dict]:
    """The default set, ``load_judge_set("judge")``."""
    return load_judge_set("judge")
