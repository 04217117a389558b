"""Pooling over seeds (emdsl.pooling), on fixed counts."""

from __future__ import annotations

import math

import pytest

from emdsl.pooling import chi2_sf, pool, t95, wilson


def width(lo, hi):
    return hi - lo


def test_cluster_interval_wider_than_naive_when_seeds_disagree():
    # three seeds of 60 judged answers each: 3, 15 and 30 misaligned
    p = pool([(3, 60), (15, 60), (30, 60)])
    assert p.fraction == pytest.approx(48 / 180)
    assert (p.naive_low, p.naive_high) == pytest.approx(wilson(48, 180))
    assert p.per_seed == pytest.approx([0.05, 0.25, 0.5])
    assert p.disagree and p.p_value < 1e-6
    # strictly wider: the between-seed spread, not the answers, sets the width
    assert width(p.ci_low, p.ci_high) > 2 * width(p.naive_low, p.naive_high)
    assert p.ci_low <= p.fraction <= p.ci_high
    assert p.sd == pytest.approx(math.sqrt(((0.05 - 0.8 / 3) ** 2 + (0.25 - 0.8 / 3) ** 2
                                            + (0.5 - 0.8 / 3) ** 2) / 2))
    assert p.spread == pytest.approx(0.45)


def test_cluster_interval_hand_computed():
    counts = [(10, 100), (30, 100)]
    p = pool(counts)
    se = math.sqrt(2 * ((10 - 20) ** 2 + (30 - 20) ** 2)) / 200
    assert (p.ci_low, p.ci_high) == pytest.approx((max(0.0, 0.2 - 12.7062 * se),
                                                   min(1.0, 0.2 + 12.7062 * se)))


def test_agreeing_seeds_keep_the_naive_interval_and_no_flag():
    p = pool([(10, 50), (11, 50), (9, 50)])
    assert not p.disagree and p.p_value > 0.5
    assert (p.ci_low, p.ci_high) == pytest.approx((p.naive_low, p.naive_high))


def test_one_seed_is_the_stage_interval():
    p = pool([(7, 40)])
    assert (p.ci_low, p.ci_high) == pytest.approx(wilson(7, 40))
    assert p.sd is None and p.p_value is None and not p.disagree


def test_no_answers_and_all_zero():
    assert pool([(0, 0), (0, 0)]).fraction is None
    z = pool([(0, 30), (0, 30)])
    assert z.fraction == 0 and z.chi2 == 0 and not z.disagree


def test_distribution_helpers_against_known_values():
    assert chi2_sf(3.841459, 1) == pytest.approx(0.05, abs=1e-6)
    assert chi2_sf(5.991465, 2) == pytest.approx(0.05, abs=1e-6)
    assert chi2_sf(18.307038, 10) == pytest.approx(0.05, abs=1e-6)
    assert t95(1) == pytest.approx(12.706, abs=1e-3)
    assert t95(60) == pytest.approx(2.000298, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0
