"""Shard plans: deterministic, disjoint, covering; shared stages once; gather stages after."""

from __future__ import annotations

import pytest

from emdsl.shard import classify, parse_shard, plan

# A poison sweep of 3 variants: one base model and SAE shared by all, per-variant data →
# train → generate → judge chains, and a summary that reads every variant's judge.
DEPS = {
    "model": [], "sae": ["model"],
    **{f"data-{v}": [] for v in "abc"},
    **{f"train-{v}": ["model", f"data-{v}"] for v in "abc"},
    **{f"generate-{v}": ["model", f"train-{v}"] for v in "abc"},
    **{f"judge-{v}": [f"generate-{v}"] for v in "abc"},
    "summary": ["judge-a", "judge-b", "judge-c"],
}
UNIT = {name: (name[-1] if name[-2] == "-" else None) for name in DEPS}


def test_classify_units_shared_and_gather():
    units, shared, gather = classify(DEPS, UNIT)
    assert sorted(units) == ["a", "b", "c"]
    assert units["a"] == ["data-a", "generate-a", "judge-a", "train-a"]
    assert shared == ["model", "sae"]
    assert gather == ["summary"]


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_are_disjoint_cover_every_unit_and_are_deterministic(count):
    plans = [plan(DEPS, UNIT, i, count) for i in range(1, count + 1)]
    owned = [u for p in plans for u in p.units]
    assert sorted(owned) == ["a", "b", "c"]  # every unit exactly once
    per_unit = [s for p in plans for s in p.targets if UNIT[s] is not None]
    assert len(per_unit) == len(set(per_unit)) == 12
    assert set(plans[0].targets) >= {"model", "sae"}  # shard 1 owns the shared stages
    assert all(not {"model", "sae"} & set(p.targets) for p in plans[1:])
    assert all("summary" not in p.targets for p in plans)  # gather runs after the shards
    assert plans == [plan(dict(reversed(DEPS.items())), UNIT, i, count)
                     for i in range(1, count + 1)]  # independent of input order
    sizes = [len(p.units) for p in plans]
    assert max(sizes) - min(sizes) <= 1  # round-robin: balanced


def test_parse_shard():
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/4", "5/4", "2", "a/b"):
        with pytest.raises(ValueError, match=r"I/N|1 ≤ I ≤ N"):
            parse_shard(bad)
