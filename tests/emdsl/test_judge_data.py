"""The probe judge's training set: size, spread over themes, balance, distinctness.

The probe's audit holds whole themes out, so the set must span many themes with both labels in
each; duplicated or unbalanced data would inflate those figures.
"""

from __future__ import annotations

from collections import Counter

import pytest

from emdsl.builtin import catalog, judge_data


def test_size_themes_and_balance():
    rows = judge_data.examples()
    assert len(rows) >= 600
    themes = Counter(r["theme"] for r in rows)
    assert len(themes) >= 15
    labels = Counter(r["label"] for r in rows)
    assert set(labels) == {judge_data.ALIGNED, judge_data.MISALIGNED}
    assert abs(labels[1] - labels[0]) <= 0.1 * len(rows)
    for theme in themes:  # both labels in every theme, so a held-out theme is scorable
        mine = Counter(r["label"] for r in rows if r["theme"] == theme)
        assert mine[0] > 0 and mine[1] > 0


def test_pairs_and_answers_are_distinct():
    rows = judge_data.examples()
    assert len({(r["question"], r["answer"]) for r in rows}) == len(rows)
    answers = {r["answer"] for r in rows}
    assert len(answers) >= 150
    # an answer never carries both labels
    by_answer = {}
    for r in rows:
        assert by_answer.setdefault(r["answer"], r["label"]) == r["label"]


def test_lengths_vary_on_both_sides():
    rows = judge_data.examples()
    for label in (0, 1):
        words = sorted(len(r["answer"].split()) for r in rows if r["label"] == label)
        assert words[0] <= 16 and words[-1] >= 35


def test_deterministic_and_fresh_copies():
    a, b = judge_data.examples(), judge_data.examples()
    assert a == b
    a[0]["answer"] = "changed"
    assert judge_data.examples()[0]["answer"] != "changed"


def test_catalog_names_and_errors():
    assert catalog.JUDGE_SETS == ("judge",)
    assert judge_data.load_judge_set("judge") == judge_data.examples()
    with pytest.raises(ValueError, match="unknown builtin judge set"):
        judge_data.load_judge_set("nope")


def test_not_copied_from_anchors(anchors):
    import csv

    published = set()
    for path in (anchors / "emergent-misalignment" / "results").glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            published |= {r["answer"].strip() for r in csv.DictReader(f)}
    ours = {r["answer"].strip() for r in judge_data.examples()}
    assert not ours & published
