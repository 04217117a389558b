"""The report's figures: PNGs from plain rows, None when there is nothing to draw."""

from __future__ import annotations

from pathlib import Path

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


def test_emx_plots_draw_offline_in_a_browser(interp, tmp_path):
    """`emx plots` hands DVC a template with vega inlined: the page draws with no network
    (issue 20). Each top-level plot is an SVG or canvas of real size."""
    import shutil
    import subprocess
    import sys

    import pytest
    from browser import chromium, inspect_page

    from emdsl import vega

    if chromium() is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    assert vega.installed(), "run `emx plots --install` once (make setup does)"
    root = tmp_path / "copy"
    shutil.copytree(interp, root, ignore=shutil.ignore_patterns(".dvc"))
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q", "--no-scm"], cwd=root, check=True)
    done = subprocess.run([sys.executable, "-m", "emdsl.cli", "plots", "--out",
                           str(tmp_path / "plots")], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page = tmp_path / "plots" / "index.html"
    assert "cdn.jsdelivr" not in page.read_text()
    drawn = ("Array.from(document.querySelectorAll('svg, canvas'))"
             ".filter(e => e.getBoundingClientRect().width > 50).length")
    seen = inspect_page(page, ready=drawn)
    shot = Path(__file__).resolve().parents[2] / "artifacts" / "ci" / "plots.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(seen["screenshot"])  # for a human to look at; git-ignored
    assert seen["errors"] == []
    assert seen["ready"] == 6  # misaligned-vs-poison, loss, steering, realignment, detector,
    # learning_rate (dvclive)
