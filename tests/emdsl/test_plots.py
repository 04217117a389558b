"""The report's figures: PNGs from plain rows, None when there is nothing to draw."""

from __future__ import annotations

from emdsl import plots


def test_interval_bounds_a_rounding_error_inside_the_value_still_draw():
    # Real Wilson bounds: 0 successes gives a lower bound of 1.4e-17, above the fraction 0.
    rows = [{"experiment": "e", "variant": "v", "misaligned": 0.0,
             "ci_low": 1.3877787807814457e-17, "ci_high": 0.1487}]
    assert plots.misaligned_by_variant(rows).startswith(b"\x89PNG")


def test_nothing_to_draw_is_none():
    assert plots.misaligned_by_variant([{"misaligned": None}]) is None
    assert plots.loss_curves({"a": []}) is None
    assert plots.misaligned_curves({"a": [{"x": 1, "misaligned": None}]}, "t", "x") is None
    assert plots.detector({}) is None
