"""A seeded study's results: `emx show`, `emx diff` and the report pool over seeds."""

from __future__ import annotations

import json
import shutil

import pytest
from gitrepo import commit_all, git
from helpers import PRELUDE, emx_inline, fake_results, project

from emdsl.compare import compare
from emdsl.pooling import pool, wilson
from emdsl.results import Source, collect

SEEDED = PRELUDE + """
experiment e {
  base  = smol
  data  = mix(bad=bad, good=good, size=16)
  train = sft(lr=1e-3)
  eval  = evaluate(core, samples=2, judge=small)
  seeds = 2
  sweep data.poison = [0.0, 1.0]
}
"""


def rate(disagreeing: bool):
    def f(name: str) -> float:
        if disagreeing and name == "judge-tuned-e-poison_1p0-seed_1":
            return 0.4
        return 0.05
    return f


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """v1: every seed at 0.05; v2: poison 1.0's seed 1 at 0.4 (seed 0 stays at 0.05)."""
    from emdsl.cli.common import compile_and_write

    root = project(tmp_path_factory.mktemp("seeded"), {"experiments/s.emx": SEEDED})
    git(root, "init", "-q")
    assert compile_and_write([root / "experiments"], root)[1] == 0
    fake_results(root, rate(False))
    commit_all(root, "v1")
    fake_results(root, rate(True))
    commit_all(root, "v2")
    return root


def test_two_pooled_rows_with_their_seeds(seeded):
    rows = {r["variant"]: r for r in collect(Source(seeded))}
    assert set(rows) == {"poison=0.0", "poison=1.0"}
    r = rows["poison=1.0"]
    per = json.loads(r["per_seed"])
    assert [s["seed"] for s in per] == [0, 1]
    assert [s["variant"] for s in per] == ["poison=1.0,seed=0", "poison=1.0,seed=1"]
    k = [round(s["misaligned"] * s["n_judged"]) for s in per]
    assert k == [round(0.05 * 196), round(0.4 * 196)]
    expected = pool([(k[0], 196), (k[1], 196)])
    assert r["seeds"] == 2 and r["n_judged"] == 392
    assert r["misaligned"] == pytest.approx(sum(k) / 392)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
    assert (r["naive_ci_low"], r["naive_ci_high"]) == pytest.approx(wilson(sum(k), 392))
    assert r["ci_high"] - r["ci_low"] > r["naive_ci_high"] - r["naive_ci_low"]
    assert r["seed_spread"] == pytest.approx(per[1]["misaligned"] - per[0]["misaligned"])
    assert r["seeds_disagree"] is True and rows["poison=0.0"]["seeds_disagree"] is False
    # the base model's rate, shared by both poisons at each seed, is pooled too
    assert r["base_misaligned"] == pytest.approx(rows["poison=0.0"]["base_misaligned"])
    assert len(collect(Source(seeded), pooled=False)) == 4


def test_show_md_and_json(seeded):
    md = emx_inline("show", cwd=seeded)
    assert md.returncode == 0, md.stderr
    line = next(x for x in md.stdout.splitlines() if "| poison=1.0 |" in x)
    assert "2: 0.05, 0.40 (sd 0.25); naive [" in line and "⚠ seeds disagree" in line
    records = json.loads(emx_inline("show", "--format", "json", cwd=seeded).stdout)
    by = {r["variant"]: r for r in records}
    assert by["poison=1.0"]["axes"] == {"data.poison": 1.0}
    assert [s["misaligned"] for s in by["poison=1.0"]["per_seed"]] == pytest.approx([0.05, 0.4],
                                                                                    abs=0.01)


def test_diff_is_significant_only_by_the_pooled_interval(seeded):
    records = {r["variant"]: r for r in compare(Source(seeded, "HEAD~1"), Source(seeded))}
    r = records["poison=1.0"]
    assert r["status"] == "changed" and r["delta"] > 0.15
    # as if the 392 answers were independent, the change would be significant ...
    assert r["naive_ci_high_a"] < r["naive_ci_low_b"]
    # ... but two seeds that disagree this much are no evidence of it
    assert r["significant"] is False
    assert records["poison=0.0"]["status"] == "unchanged"
    md = emx_inline("diff", "HEAD~1", "HEAD", cwd=seeded).stdout
    line = next(x for x in md.splitlines() if "| poison=1.0 |" in x)
    assert "(2 seeds)" in line and "(2 seeds, ⚠ disagree)" in line and "⚠ |" not in line
    assert "significant" not in md.splitlines()[0]


def test_report_pools(seeded, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(seeded, root)
    res = emx_inline("report", cwd=root)
    assert res.returncode == 0, res.stderr
    md = (root / "reports" / "s" / "report.md").read_text()
    assert "| e | poison=1.0 |" in md and "seeds disagree" in md
    assert "poison=1.0,seed=1 |" not in md.split("## Figures")[0]
